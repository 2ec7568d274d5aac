"""oneDNN safe mode: the same decision as SpatialPrediction.ML's OneDnnSafeMode, for PyTorch processes.

oneDNN 3.2 to 3.7 (inside PyTorch 2.1 to 2.9 and libtorch 2.10) read an AMD processor's cache sizes from CPUID leaf
0x8000001D without checking that it describes any cache. Virtual machines that zero that leaf get 1-byte caches: the
brgemm convolutions divide by zero (SIGFPE) or pick blocks that compute wrong, run-to-run different results. Without
CPUID leaf 0xB the same code divides by a zero thread count. Where that holds, `apply()` caps oneDNN to its AVX kernels
(ONEDNN_MAX_CPU_ISA=AVX), which do not size their blocks from the caches. It must run before the process's first
convolution: oneDNN reads the cap once.

SPATIAL_PREDICTION_ONEDNN_SAFE_MODE forces the choice: on, off or auto (the default).
"""
import ctypes
import mmap
import os
import platform
import re

ENVIRONMENT_VARIABLE = "SPATIAL_PREDICTION_ONEDNN_SAFE_MODE"
ISA_CAP_VARIABLE = "ONEDNN_MAX_CPU_ISA"
# oneDNN versions whose Xbyak takes leaf 0x8000001D on trust: from 3.2 up to, not including, 3.8.
AFFECTED_VERSIONS = ((3, 2), (3, 8))
SMALLEST_PLAUSIBLE_CACHE_BYTES = 4 * 1024
ONEDNN_GUESSES = [32 * 1024, 512 * 1024, 1024 * 1024]
_AMD_ECX, _INTEL_ECX = 0x444D4163, 0x6C65746E  # "cAMD", "ntel"


def _bits(value, low, high):
    return (value >> low) & ((1 << (high - low + 1)) - 1)


def _cache_bytes(ebx, ecx):
    # line size × partitions × ways × sets, each stored minus one, multiplied in 32 bits as Xbyak does
    return ((_bits(ebx, 22, 31) + 1) * (_bits(ebx, 12, 21) + 1) * (_bits(ebx, 0, 11) + 1) * (ecx + 1)) & 0xFFFFFFFF


def read_cache_view(cpuid):
    """(vendor, per-core data cache bytes oneDNN will use, problem or None) from cpuid(leaf, subleaf) -> (eax, ebx, ecx, edx)."""
    max_basic, _, vendor_ecx, _ = cpuid(0, 0)
    amd, intel = vendor_ecx == _AMD_ECX, vendor_ecx == _INTEL_ECX
    vendor = "AMD" if amd else "Intel" if intel else "other"
    if not (amd or intel):
        return vendor, ONEDNN_GUESSES, None
    smt, logical = 0, 0
    topology = max_basic >= 0xB
    if topology:
        for subleaf in (0, 1):
            _, ebx, ecx, _ = cpuid(0xB, subleaf)
            level, count = _bits(ecx, 8, 15), _bits(ebx, 0, 15)
            if level == 1:
                smt = count
            elif level == 2:
                logical = count
        smt = max(1, smt)
        logical = max(smt, logical)
    sizes, sharing = [], []
    if amd:
        if smt == 0:
            return vendor, [], ("CPUID reports no leaf 0xB (highest basic leaf 0x%X), so oneDNN divides by a zero thread count "
                                "per core while reading the caches" % max_basic)
        empty = []
        for subleaf in (0, 2, 3):
            eax, ebx, ecx, _ = cpuid(0x8000001D, subleaf)
            if _bits(eax, 0, 4) == 0:
                empty.append(str(subleaf))
            sizes.append(_cache_bytes(ebx, ecx))
            actual = _bits(eax, 14, 25) + 1
            if logical:
                actual = min(actual, logical)
            sharing.append(max(actual // smt, 1))
        per_core = [size // cores for size, cores in zip(sizes, sharing)]
        if empty:
            described = " / ".join("L%d %d B" % (i + 1, b) for i, b in enumerate(per_core))
            return vendor, per_core, ("CPUID leaf 0x8000001D subleaf %s describes no cache, so oneDNN takes the data caches "
                                      "to be %s per core" % (", ".join(empty), described))
        return vendor, per_core, _implausible(per_core)
    intel_smt, intel_logical = (smt, logical) if topology else (0, 0)
    subleaf = 0
    while len(sizes) < 10:
        eax, ebx, ecx, _ = cpuid(4, subleaf)
        subleaf += 1
        kind = _bits(eax, 0, 4)
        if kind == 0:
            break
        if kind not in (1, 3):
            continue
        actual = _bits(eax, 14, 25) + 1
        if intel_logical:
            actual = min(actual, intel_logical)
        if kind == 1 and intel_smt == 0:
            intel_smt = actual
        if intel_smt == 0:
            return vendor, [], ("CPUID leaf 4 lists a unified cache before any data cache and there is no leaf 0xB, so oneDNN "
                                "divides by a zero thread count per core")
        sizes.append(_cache_bytes(ebx, ecx))
        sharing.append(max(actual // intel_smt, 1))
    if not sizes:
        return vendor, ONEDNN_GUESSES, None
    per_core = [size // cores for size, cores in zip(sizes, sharing)][:3]
    return vendor, per_core, _implausible(per_core)


def _implausible(per_core):
    for level, size in enumerate(per_core):
        if size < SMALLEST_PLAUSIBLE_CACHE_BYTES:
            return ("CPUID describes an L%d data cache of %d bytes per core, smaller than any real one, and oneDNN sizes "
                    "its kernels' blocks from it" % (level + 1, size))
    return None


# push rbx; mov r8, rdx; mov eax, edi; mov ecx, esi; cpuid; mov [r8], eax; mov [r8+4], ebx; mov [r8+8], ecx;
# mov [r8+12], edx; pop rbx; ret  (System V x86-64: leaf in edi, subleaf in esi, output pointer in rdx)
_CPUID_CODE = bytes.fromhex("534989d089f889f10fa2418900418958044189480841895" "00c5bc3")


def this_processor_cpuid():
    """cpuid(leaf, subleaf) on this processor, or None where it cannot be run (not x86-64 Linux, no executable memory)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError, AttributeError):
        return None
    page.write(_CPUID_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    function = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))(address)

    def cpuid(leaf, subleaf):
        out = (ctypes.c_uint32 * 4)()
        function(leaf, subleaf, out)
        return tuple(out)

    cpuid.page = page  # keeps the code mapped as long as the function lives
    return cpuid


def onednn_version(torch):
    """(major, minor) of the oneDNN inside this PyTorch, or None if it has none."""
    match = re.search(r"(?:oneDNN|MKL-DNN) v(\d+)\.(\d+)", torch.__config__.show())
    return (int(match.group(1)), int(match.group(2))) if match else None


def decide(setting, view, version):
    """(safe mode on, reason) for a setting, a read_cache_view result (None: not x86) and the oneDNN version (None: none)."""
    if setting == "on":
        return True, "forced by %s=on" % ENVIRONMENT_VARIABLE
    if setting == "off":
        return False, "forced by %s=off" % ENVIRONMENT_VARIABLE
    if view is None:
        return False, "not an x86 processor"
    vendor, _, problem = view
    if problem is None:
        return False, "this %s processor reports its cache sizes" % vendor
    if version is None or not (AFFECTED_VERSIONS[0] <= version < AFFECTED_VERSIONS[1]):
        return False, "%s, but this PyTorch's oneDNN (%s) does not take that leaf on trust" % (
            problem, "none" if version is None else "v%d.%d" % version)
    return True, problem


def apply(torch):
    """Decides once for this process and caps oneDNN where needed; returns (safe mode on, reason). Call it before the first convolution."""
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "auto").strip().lower() or "auto"
    if setting not in ("on", "off", "auto"):
        raise ValueError("%s is '%s'; expected on, off or auto." % (ENVIRONMENT_VARIABLE, setting))
    cpuid = this_processor_cpuid()
    safe, reason = decide(setting, None if cpuid is None else read_cache_view(cpuid), onednn_version(torch))
    if not safe:
        return False, reason
    existing = os.environ.get(ISA_CAP_VARIABLE)
    if existing is not None and existing.strip().upper() in ("SSE41", "AVX"):
        return True, "%s; oneDNN kept to %s by the process's %s" % (reason, existing, ISA_CAP_VARIABLE)
    os.environ[ISA_CAP_VARIABLE] = "AVX"  # os.environ calls putenv, so oneDNN's getenv sees it
    return True, "%s; oneDNN capped to its AVX kernels by %s=AVX" % (reason, ISA_CAP_VARIABLE)
