"""Parity with SpatialPrediction.ML: recomputes, from the inputs a .NET fixture pinned, everything the .NET
implementation computed, and compares. The fixture file comes from the .NET test that runs this module
(PythonCompanionTests), named by the SP_PARITY_FIXTURE environment variable."""

import json
import os
import unittest

import torch

from spatial_prediction_torch import backbones, safetensors_io
from spatial_prediction_torch.boxes import TargetStandardizer, ViewPairSampler, relative_targets
from spatial_prediction_torch.objectives import HOSTS, SpatialPrediction, SpatialPredictionSettings
from spatial_prediction_torch.views import PhotometricParameters, apply_photometric, crop

CROP_TOLERANCE = 1e-6
TARGET_TOLERANCE = 1e-6
FEATURE_TOLERANCE = 1e-5
LOSS_TOLERANCE = 1e-5
STEP_TOLERANCE = 1e-4


def load_fixture():
    path = os.environ.get("SP_PARITY_FIXTURE")
    if not path:
        raise RuntimeError("SP_PARITY_FIXTURE is not set: run these tests through the .NET suite (dotnet test --filter PythonCompanion), "
                           "which writes the fixture")
    tensors, metadata = safetensors_io.load(path)
    return tensors, json.loads(metadata["case"])


def sub_state(tensors, prefix):
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_state(backbone, host, spatial, tensors, prefix):
    backbone.load_native_state_dict(sub_state(tensors, prefix + "backbone."))
    host_state = sub_state(tensors, prefix + "host.")
    teacher = teacher_name(host)
    if teacher:
        getattr(host, teacher).load_native_state_dict(sub_state(host_state, teacher + "."))
        host_state = {k: v for k, v in host_state.items() if not k.startswith(teacher + ".")}
        missing, unexpected = host.load_state_dict(host_state, strict=False)
        missing = [m for m in missing if not m.startswith(teacher + ".")]
        if missing or unexpected:
            raise KeyError(f"host state: missing {missing}, unexpected {unexpected}")
    else:
        host.load_state_dict(host_state, strict=True)
    spatial.load_state_dict(sub_state(tensors, prefix + "plugin."), strict=True)


def teacher_name(host):
    """The attribute holding the host's teacher backbone (DINO's and the momentum hosts' .NET names), or None."""
    return next((name for name in ("teacherBackbone", "teacher_backbone") if hasattr(host, name)), None)


def state(backbone, host, spatial):
    """Every tensor under the .NET names (backbones translated)."""
    out = {"backbone." + k: v for k, v in backbone.native_state_dict().items()}
    teacher = teacher_name(host)
    for k, v in host.state_dict().items():
        if not (teacher and k.startswith(teacher + ".")):
            out["host." + k] = v
    if teacher:
        out.update({f"host.{teacher}." + k: v for k, v in getattr(host, teacher).native_state_dict().items()})
    out.update({"plugin." + k: v for k, v in spatial.state_dict().items()})
    return out


def named_parameters(backbone, host, spatial):
    """Parameters under their .NET names."""
    return {name: p for p, name in _names(backbone, host, spatial).items()}


def gradients(backbone, host, spatial):
    names = _names(backbone, host, spatial)
    return {names[p]: p.grad for p in names if p.grad is not None}


def _names(backbone, host, spatial):
    names = {}
    if isinstance(backbone, backbones.ResNet):
        mapping = {p: backbones.torchvision_to_native(n, backbone.kind) for n, p in backbone.net.named_parameters()}
        names.update({p: "backbone." + mapping[p] for p in mapping})
    else:
        names.update({p: "backbone." + n for n, p in backbone.named_parameters()})
    names.update({p: "host." + n for n, p in host.named_parameters() if p.requires_grad})
    names.update({p: "plugin." + n for n, p in spatial.named_parameters()})
    return names


def photometric(tensors, prefix):
    return PhotometricParameters(*[tensors[f"{prefix}.{f}"] for f in ("brightness", "contrast", "saturation", "hue_rotation", "gray", "blur_sigma")])


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.t, cls.case = load_fixture()
        c = cls.case
        cls.backbone = backbones.create(c["kind"], c["width"], c["patch_size"], c["image_size"])
        host_class = HOSTS[c["host"]]
        cls.host = host_class(cls.backbone, c["image_size"], **({"local_crops": c["local_crops"], "local_size": c["local_size"]} if c["host"] == "dino" else {}))
        settings = SpatialPredictionSettings(local_resolution=c["local_resolution"], detail_resolution=c["detail_resolution"],
                                             parameterization=c["parameterization"], head_width=c["head_width"],
                                             head_depth=c["head_depth"], projector_width=c["projector_width"])
        standardizer = TargetStandardizer(cls.t["sp.standardizer_mean"], cls.t["sp.standardizer_std"])
        cls.spatial = SpatialPrediction(cls.backbone.feature_dimension, settings, standardizer)
        load_state(cls.backbone, cls.host, cls.spatial, cls.t, "before.")
        cls.measured = {}

    @classmethod
    def tearDownClass(cls):
        print(f"\nlargest differences, {cls.case['name']}:")
        for what, difference in sorted(cls.measured.items()):
            print(f"  {what}: {difference:.2e}")

    def assertClose(self, actual, expected, tolerance, what):
        self.assertEqual(tuple(actual.shape), tuple(expected.shape), f"{what}: shapes differ")
        difference = (actual.double() - expected.double()).abs().max().item() if actual.numel() else 0.0
        group = what.split(" after one AdamW step")[0] if "after one AdamW step" not in what else "weights after one AdamW step"
        self.measured[group] = max(self.measured.get(group, 0.0), difference)
        self.assertLessEqual(difference, tolerance, f"{self.case['name']}: {what} differs by {difference:.3g} (tolerance {tolerance:g})")

    def test_crops_match(self):
        t = self.t
        self.assertClose(crop(t["images"], t["crop.boxes"], t["crop.flips"].bool(), self.case["image_size"]), t["crop.output"], CROP_TOLERANCE, "plain crop")
        mirror = t["sp.mirrored"].bool()
        self.assertClose(self.spatial.cut(t["images"], t["sp.reference_boxes"], mirror), t["sp.reference_crops"], CROP_TOLERANCE, "SP reference crop")
        self.assertClose(self.spatial.cut(t["images"], t["sp.second_boxes"], mirror), t["sp.second_crops"], CROP_TOLERANCE, "SP second crop")

    def test_photometric_augmentation_matches(self):
        t = self.t
        for view in ("reference", "second"):
            actual = apply_photometric(t[f"sp.{view}_crops"], photometric(t, f"sp.{view}_photometric"))
            self.assertClose(actual, t[f"sp.{view}_views"], CROP_TOLERANCE, f"SP {view} view after photometric augmentation")

    def test_targets_match(self):
        t = self.t
        targets = relative_targets(t["sp.reference_boxes"], t["sp.second_boxes"], t["sp.mirrored"].bool(), self.case["parameterization"])
        self.assertClose(targets, t["sp.targets"], TARGET_TOLERANCE, "relative-box targets")
        self.assertClose(self.spatial.standardizer(targets), t["sp.standardized"], TARGET_TOLERANCE, "standardised targets")

    def test_standardizer_estimate_is_close_to_the_dotnet_one(self):
        # Different random streams: the statistics agree to Monte Carlo error, not bit for bit.
        estimate = TargetStandardizer.estimate(ViewPairSampler(), self.case["parameterization"])
        self.assertClose(estimate.mean, self.t["sp.standardizer_mean"], 0.05, "standardiser mean")
        self.assertClose(estimate.std / self.t["sp.standardizer_std"], torch.ones(4), 0.05, "standardiser std ratio")

    def test_features_losses_gradients_and_one_adamw_step_match(self):
        t, c = self.t, self.case
        backbone, host, spatial = self.backbone, self.host, self.spatial
        backbone.eval()
        with torch.no_grad():
            self.assertClose(backbone(t["images"]), t["features"], FEATURE_TOLERANCE, "features")
        backbone.train(), host.train(), spatial.train()
        views = [t[f"host.view{v}"] for v in range(sum(1 for k in t if k.startswith("host.view")))]
        parameters = [p for m in (backbone, host, spatial) for p in m.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(parameters, lr=c["learning_rate"], weight_decay=c["weight_decay"])
        optimizer.zero_grad()
        host_loss = host.loss(backbone, views)
        spatial_loss = spatial.loss(backbone, t["sp.reference_views"], t["sp.second_views"], t["sp.standardized"])
        self.assertClose(host_loss.detach().reshape(1), t["loss.host"], LOSS_TOLERANCE, "host loss")
        self.assertClose(spatial_loss.detach().reshape(1), t["loss.spatial"], LOSS_TOLERANCE, "SP loss")
        (host_loss + c["spatial_weight"] * spatial_loss).backward()
        grads = gradients(backbone, host, spatial)
        expected = {k[len("grad."):]: v for k, v in t.items() if k.startswith("grad.")}
        self.assertEqual(sorted(grads), sorted(expected), "parameters with gradients differ")
        flat = torch.cat([grads[k].flatten().double() for k in sorted(expected)])
        reference = torch.cat([expected[k].flatten().double() for k in sorted(expected)])
        relative = ((flat - reference).norm() / reference.norm()).item()
        self.measured["gradients (relative L2)"] = relative
        self.assertLessEqual(relative, 1e-4, "gradients differ (relative L2)")
        # AdamW's first step moves each weight by about ±lr·sign(gradient), so where a gradient is within float noise of
        # zero the two implementations may step opposite ways; the step is therefore taken from the .NET gradients,
        # which the check above has shown to be the same as these.
        by_name = {n: p for n, p in named_parameters(backbone, host, spatial).items()}
        for name, value in expected.items():
            by_name[name].grad = value.clone()
        norm = torch.nn.utils.clip_grad_norm_(parameters, c["clip"])
        self.assertClose(norm.reshape(1).float(), t["gradient_norm"], 1e-4 * float(t["gradient_norm"]) + 1e-6, "gradient norm")
        optimizer.step()
        host.update_teacher(backbone, c["teacher_momentum"])
        after = state(backbone, host, spatial)
        expected_after = sub_state(t, "after.")
        self.assertEqual(sorted(after), sorted(expected_after), "state names differ")
        for name in sorted(expected_after):
            if expected_after[name].is_floating_point():
                self.assertClose(after[name], expected_after[name], STEP_TOLERANCE, f"{name} after one AdamW step")
            else:
                self.assertTrue(torch.equal(after[name], expected_after[name]), f"{name} after one AdamW step")


if __name__ == "__main__":
    unittest.main()
