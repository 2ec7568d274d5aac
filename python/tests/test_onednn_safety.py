"""The oneDNN safe mode's detection on recorded CPUID answers, the same tables as the .NET library's tests."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from spatial_prediction_torch import onednn_safety  # noqa: E402

AMD_ECX, INTEL_ECX = 0x444D4163, 0x6C65746E


def answers(table):
    return lambda leaf, subleaf: table.get((leaf, subleaf), (0, 0, 0, 0))


def affected_zen5():
    # The KVM guest whose oneDNN crashed: leaf 0x8000001D all zero. Its highest basic leaf and leaf 0xB were not
    # recorded; 0x10 and two logical processors stand in for them.
    return {(0, 0): (0x10, 0x68747541, AMD_ECX, 0x69746E65), (1, 0): (0x00B00F21, 0x30FE0800, 0, 0),
            (0xB, 0): (0, 1, 0x100, 0), (0xB, 1): (1, 2, 0x201, 0), (0x80000000, 0): (0x80000028, 0, 0, 0)}


def healthy_zen3():
    return {(0, 0): (0x10, 0x68747541, AMD_ECX, 0x69746E65), (0xB, 0): (0, 1, 0x100, 1), (0xB, 1): (5, 2, 0x201, 1),
            (0x8000001D, 0): (0x121, 0x01C0003F, 0x3F, 0), (0x8000001D, 1): (0x122, 0x01C0003F, 0x3F, 0),
            (0x8000001D, 2): (0x143, 0x01C0003F, 0x3FF, 2), (0x8000001D, 3): (0x4163, 0x03C0003F, 0x7FFF, 1)}


def healthy_xeon():
    return {(0, 0): (0x20, 0x756E6547, INTEL_ECX, 0x49656E69), (0xB, 0): (1, 2, 0x100, 0), (0xB, 1): (1, 2, 0x201, 0),
            (4, 0): (0x121 | 1 << 14, 11 << 22 | 63, 63, 0), (4, 1): (0x122 | 1 << 14, 7 << 22 | 63, 63, 0),
            (4, 2): (0x143 | 1 << 14, 15 << 22 | 63, 2047, 0), (4, 3): (0x163 | 1 << 14, 14 << 22 | 63, 114687, 0)}


class CacheViewTest(unittest.TestCase):
    def test_the_guest_that_hides_its_caches_is_found(self):
        vendor, per_core, problem = onednn_safety.read_cache_view(answers(affected_zen5()))
        self.assertEqual(vendor, "AMD")
        self.assertEqual(per_core, [1, 1, 1])
        self.assertIn("0x8000001D subleaf 0, 2, 3 describes no cache", problem)

    def test_an_amd_guest_without_leaf_0xb_is_found(self):
        table = healthy_zen3()
        table[(0, 0)] = (0xA,) + table[(0, 0)][1:]
        self.assertIn("no leaf 0xB", onednn_safety.read_cache_view(answers(table))[2])

    def test_healthy_processors_keep_onednn_with_the_sizes_they_report(self):
        self.assertEqual(onednn_safety.read_cache_view(answers(healthy_zen3())), ("AMD", [32768, 524288, 16777216], None))
        self.assertEqual(onednn_safety.read_cache_view(answers(healthy_xeon())), ("Intel", [49152, 2097152, 110100480], None))

    def test_an_intel_leaf_4_all_zero_is_left_to_onednn_s_own_guesses(self):
        table = {k: v for k, v in healthy_xeon().items() if k[0] != 4}
        self.assertEqual(onednn_safety.read_cache_view(answers(table)), ("Intel", [32768, 524288, 1048576], None))

    def test_this_processor_reads(self):
        cpuid = onednn_safety.this_processor_cpuid()
        if cpuid is None:
            self.skipTest("not x86-64 Linux")
        vendor, _, problem = onednn_safety.read_cache_view(cpuid)
        if vendor == "AMD":
            self.assertEqual(problem is None, os.path.isdir("/sys/devices/system/cpu/cpu0/cache"))


class DecisionTest(unittest.TestCase):
    affected = ("AMD", [1, 1, 1], "CPUID leaf 0x8000001D subleaf 0, 2, 3 describes no cache")
    healthy = ("AMD", [32768, 524288, 16777216], None)

    def test_auto_acts_only_on_an_affected_processor_with_an_affected_onednn(self):
        self.assertTrue(onednn_safety.decide("auto", self.affected, (3, 7))[0])
        self.assertFalse(onednn_safety.decide("auto", self.affected, (2, 6))[0], "PyTorch 1.13's oneDNN 2.6 checks the leaf")
        self.assertFalse(onednn_safety.decide("auto", self.affected, (3, 9))[0])
        self.assertFalse(onednn_safety.decide("auto", self.healthy, (3, 7))[0])
        self.assertFalse(onednn_safety.decide("auto", None, (3, 7))[0])

    def test_the_setting_forces_it(self):
        self.assertTrue(onednn_safety.decide("on", self.healthy, (2, 6))[0])
        self.assertFalse(onednn_safety.decide("off", self.affected, (3, 7))[0])


class ApplyTest(unittest.TestCase):
    def test_forced_on_reaches_onednn_before_its_first_convolution(self):
        import subprocess
        script = ("import torch; from spatial_prediction_torch import onednn_safety; print(onednn_safety.apply(torch)); "
                  "torch.nn.functional.conv2d(torch.rand(8, 32, 32, 32), torch.rand(32, 32, 3, 3))")
        environment = dict(os.environ, SPATIAL_PREDICTION_ONEDNN_SAFE_MODE="on", ONEDNN_VERBOSE="1", DNNL_VERBOSE="1")
        environment.pop("ONEDNN_MAX_CPU_ISA", None)
        output = subprocess.run([sys.executable, "-c", script], cwd=os.path.join(os.path.dirname(__file__), ".."),
                                env=environment, capture_output=True, text=True, check=True).stdout
        self.assertIn("(True, 'forced by SPATIAL_PREDICTION_ONEDNN_SAFE_MODE=on; oneDNN capped to its AVX kernels", output)
        isa = [line for line in output.splitlines() if ",isa:" in line]
        self.assertTrue(isa, output)
        self.assertRegex(isa[0], r"isa:Intel AVX( |$)")

    def test_a_setting_other_than_on_off_or_auto_is_refused(self):
        os.environ[onednn_safety.ENVIRONMENT_VARIABLE] = "maybe"
        try:
            with self.assertRaisesRegex(ValueError, "expected on, off or auto"):
                onednn_safety.apply(None)
        finally:
            del os.environ[onednn_safety.ENVIRONMENT_VARIABLE]


if __name__ == "__main__":
    unittest.main()
