"""View boxes, the samplers that draw them, SP's relative-box targets and their standardisation.

A box is (centre x, centre y, width, height) as fractions of the image, x right and y down — the .NET library's
`ViewBox`. Batches of boxes are float32 tensors [B, 4].
"""

import math
import random
from dataclasses import dataclass

import torch

from .views import box_from_pixels

TARGET_NAMES = ("dx", "dy", "log_w", "log_h")
ESTIMATION_SIDE = 1024  # the square picture target statistics are estimated in, as in the .NET library
REFERENCE_RELATIVE = "reference-relative"
IMAGE_NORMALIZED = "image-normalized"


def iou(a, b):
    """Intersection over union of two boxes given as tuples."""
    w = max(0.0, min(a[0] + a[2] / 2, b[0] + b[2] / 2) - max(a[0] - a[2] / 2, b[0] - b[2] / 2))
    h = max(0.0, min(a[1] + a[3] / 2, b[1] + b[3] / 2) - max(a[1] - a[3] / 2, b[1] - b[3] / 2))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def gap(a, b):
    """The larger of the horizontal and vertical gaps between the boxes' edges (negative when they overlap)."""
    return max(abs(b[0] - a[0]) - (a[2] + b[2]) / 2, abs(b[1] - a[1]) - (a[3] + b[3]) / 2)


def mirrored(box):
    """The same region in the horizontally mirrored image."""
    return (1.0 - box[0], box[1], box[2], box[3])


@dataclass(frozen=True)
class RandomResizedCrop:
    """Inception-style crop boxes: area fraction uniform, aspect ratio log-uniform; torchvision's centred fallback."""

    min_area: float
    max_area: float
    min_aspect: float = 3 / 4
    max_aspect: float = 4 / 3

    def sample(self, rng: random.Random, width, height):
        """A box of whole pixels inside a width × height picture, the aspect ratio measured in pixels (the .NET
        library's recipe and order of draws; its random stream is its own)."""
        pixels = width * height
        for _ in range(10):
            area = (self.min_area + (self.max_area - self.min_area) * rng.random()) * pixels
            aspect = math.exp(math.log(self.min_aspect) + (math.log(self.max_aspect) - math.log(self.min_aspect)) * rng.random())
            w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if w < 1 or h < 1 or w > width or h > height:
                continue
            left = min(int((width - w + 1) * rng.random()), width - w)
            top = min(int((height - h + 1) * rng.random()), height - h)
            return box_from_pixels(left, top, w, h, width, height)
        side = math.sqrt(min(max(self.max_area, self.min_area), 1.0))
        w, h = max(1, round(side * width)), max(1, round(side * height))
        return box_from_pixels((width - w) // 2, (height - h) // 2, w, h, width, height)


@dataclass(frozen=True)
class ViewPairSampler:
    """SP's disentangled pairs: two independent boxes with IoU <= max_iou and, when min_gap > 0, that far apart."""

    min_area: float = 0.08
    max_area: float = 0.35
    min_aspect: float = 3 / 4
    max_aspect: float = 4 / 3
    max_iou: float = 0.3
    min_gap: float = 0.0
    mirror_probability: float = 0.5
    max_attempts: int = 1000

    def __post_init__(self):
        if not (0 < self.min_area <= self.max_area <= 1):
            raise ValueError(f"view areas must satisfy 0 < min_area <= max_area <= 1 (got {self.min_area}, {self.max_area})")
        if not (0 < self.min_aspect <= self.max_aspect):
            raise ValueError(f"aspect ratios must satisfy 0 < min_aspect <= max_aspect (got {self.min_aspect}, {self.max_aspect})")
        if not (0 <= self.max_iou <= 1) or not (0 <= self.min_gap < 1) or not (0 <= self.mirror_probability <= 1):
            raise ValueError("max_iou and mirror_probability must be in [0, 1], min_gap in [0, 1)")

    def sample(self, rng: random.Random, width, height):
        """(reference box, second box, mirrored) of a width × height picture meeting every constraint."""
        crops = RandomResizedCrop(self.min_area, self.max_area, self.min_aspect, self.max_aspect)
        for _ in range(self.max_attempts):
            a, b = crops.sample(rng, width, height), crops.sample(rng, width, height)
            if iou(a, b) > self.max_iou:
                continue
            if self.min_gap > 0 and gap(a, b) < self.min_gap:
                continue
            return a, b, rng.random() < self.mirror_probability
        raise RuntimeError(f"no pair with IoU <= {self.max_iou} and gap >= {self.min_gap} in {self.max_attempts} draws "
                           f"with view areas in [{self.min_area}, {self.max_area}]; use smaller views or relax the constraints")


def relative_targets(reference, second, mirror, parameterization=REFERENCE_RELATIVE):
    """SP's four targets [B, 4] of `second` relative to `reference` (boxes [B, 4] in the original image; `mirror` [B]
    bool), computed in the frame the model sees: a mirrored pair's boxes are mirrored first."""
    reference = reference.to(torch.float32)
    second = second.to(torch.float32)
    one = torch.ones((), dtype=torch.float32)
    rx = torch.where(mirror, one - reference[:, 0], reference[:, 0])
    sx = torch.where(mirror, one - second[:, 0], second[:, 0])
    dx, dy = sx - rx, second[:, 1] - reference[:, 1]
    if parameterization == REFERENCE_RELATIVE:
        dx, dy = dx / reference[:, 2], dy / reference[:, 3]
    elif parameterization != IMAGE_NORMALIZED:
        raise ValueError(f"unknown target parameterization {parameterization!r}")
    return torch.stack([dx, dy, torch.log(second[:, 2] / reference[:, 2]), torch.log(second[:, 3] / reference[:, 3])], 1)


class TargetStandardizer:
    """Per-target mean and std under a sampler, so the four targets weigh equally in the loss."""

    def __init__(self, mean, std):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(4)
        self.std = torch.as_tensor(std, dtype=torch.float32).reshape(4)
        if not bool((self.std > 0).all()):
            raise ValueError("every target standard deviation must be positive")

    @staticmethod
    def estimate(sampler, parameterization=REFERENCE_RELATIVE, draws=16384, seed=20260):
        """Statistics from `draws` pairs of a fixed stream (the .NET library estimates its own from its own stream)."""
        rng = random.Random(seed)
        pairs = [sampler.sample(rng, ESTIMATION_SIDE, ESTIMATION_SIDE) for _ in range(draws)]
        t = relative_targets(torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs]),
                             torch.tensor([p[2] for p in pairs]), parameterization).double()
        return TargetStandardizer(t.mean(0), t.std(0, unbiased=False).clamp_min(1e-6))

    def __call__(self, targets):
        return (targets - self.mean.to(targets.device)) / self.std.to(targets.device)
