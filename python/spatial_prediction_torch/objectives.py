"""SP as a plug-in and the SimCLR and DINO hosts, with the .NET library's definitions and defaults.

View makers take one `random.Random` per image, so an image's views depend on it and the run's seed only — not on
which rank holds it — and a run on N ranks sees the same views as one process.
"""

import copy
import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import distributed
from .boxes import REFERENCE_RELATIVE, RandomResizedCrop, TargetStandardizer, ViewPairSampler, relative_targets
from .heads import DinoHead, MlpHead, SpatialPredictionHead
from .views import PhotometricAugmentation, PhotometricParameters, apply_photometric, crop, crop_with_detail


def _stack_parameters(per_image):
    return PhotometricParameters(*[torch.cat([getattr(p, f) for p in per_image]) for f in
                                   ("brightness", "contrast", "saturation", "hue_rotation", "gray", "blur_sigma")])


def _augment(augmentation, crops, rngs):
    return apply_photometric(crops, _stack_parameters([augmentation.draw(1, rng) for rng in rngs]))


@dataclass
class SpatialPredictionSettings:
    """The .NET `SpatialPredictionOptions` defaults."""

    sampler: ViewPairSampler = field(default_factory=ViewPairSampler)
    local_resolution: int = 32
    detail_resolution: int = 0
    parameterization: str = REFERENCE_RELATIVE
    augmentation: PhotometricAugmentation = field(default_factory=lambda: PhotometricAugmentation(blur_probability=0.2))
    head_width: int = 256
    head_depth: int = 2
    projector_width: int = 256
    loss_beta: float = 1.0
    backbone_gradient_scale: float = 1.0


class SpatialPrediction(nn.Module):
    """SP: a pair of disentangled views per image, their relative position and scale regressed by a head."""

    def __init__(self, feature_dimension, settings=None, standardizer=None):
        super().__init__()
        self.settings = settings or SpatialPredictionSettings()
        self.standardizer = standardizer or TargetStandardizer.estimate(self.settings.sampler, self.settings.parameterization)
        s = self.settings
        self.head = SpatialPredictionHead(feature_dimension, s.head_width, s.head_depth, s.projector_width)

    def cut(self, images, boxes, flips):
        return crop_with_detail(images, boxes, flips, self.settings.local_resolution, self.settings.detail_resolution)

    def make_views(self, images, rngs):
        """(reference views, second views, standardised targets) for one pair per image."""
        pairs = [self.settings.sampler.sample(rng, images[i].shape[2], images[i].shape[1]) for i, rng in enumerate(rngs)]
        reference = torch.tensor([p[0] for p in pairs], dtype=torch.float32)
        second = torch.tensor([p[1] for p in pairs], dtype=torch.float32)
        mirror = torch.tensor([p[2] for p in pairs])
        targets = self.standardizer(relative_targets(reference, second, mirror, self.settings.parameterization)).to(images.device)
        a = _augment(self.settings.augmentation, self.cut(images, reference, mirror), rngs)
        b = _augment(self.settings.augmentation, self.cut(images, second, mirror), rngs)
        return a, b, targets

    def loss(self, backbone, reference_views, second_views, targets):
        features = backbone(torch.cat([reference_views, second_views], 0))
        scale = self.settings.backbone_gradient_scale
        if scale != 1:
            features = features.detach() if scale == 0 else features * scale + features.detach() * (1 - scale)
        a, b = features.chunk(2, 0)
        return F.smooth_l1_loss(self.head(a, b), targets, reduction="mean", beta=self.settings.loss_beta)


def multi_crop(images, rngs, families, augmentation, flip_probability=0.5):
    """Family by family (count, crop sampler, resolution): boxes and flips drawn per image, then photometric changes."""
    views = []
    for count, sampler, resolution in families:
        for _ in range(count):
            boxes, flips = [], []
            for i, rng in enumerate(rngs):
                boxes.append(sampler.sample(rng, images[i].shape[2], images[i].shape[1]))
                flips.append(rng.random() < flip_probability)
            crops = crop(images, torch.tensor(boxes, dtype=torch.float32), torch.tensor(flips), resolution)
            views.append(_augment(augmentation, crops, rngs))
    return views


def nt_xent(first, second, temperature=0.5):
    """SimCLR's NT-Xent over the rows of every rank: i and i + N are two views of one image."""
    z = F.normalize(torch.cat([distributed.gather(first), distributed.gather(second)], 0), dim=1)
    n = z.shape[0] // 2
    logits = (z @ z.t() / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -1e9)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, partner)


class SimCLR(nn.Module):
    """Two random-resized crops (area 0.2–1), flip, colour jitter and grayscale; projector D → 2D → 128; NT-Xent 0.5."""

    spatial_weight = 0.5
    teacher_momentum = None

    def __init__(self, backbone, image_size, temperature=0.5, projection_dimension=128):
        super().__init__()
        d = backbone.feature_dimension
        self.projection = MlpHead([d, 2 * d, projection_dimension])
        self.temperature = temperature
        self.families = [(2, RandomResizedCrop(0.2, 1.0), image_size)]
        self.augmentation = PhotometricAugmentation()

    def make_views(self, images, rngs):
        return multi_crop(images, rngs, self.families, self.augmentation)

    def loss(self, backbone, views):
        z = self.projection(backbone(torch.cat([views[0], views[1]], 0)))
        first, second = z.chunk(2, 0)
        return nt_xent(first, second, self.temperature)

    def update_teacher(self, backbone, momentum):
        pass


class Dino(nn.Module):
    """Student and EMA teacher with DINO heads; 2 global crops (0.4–1) and local crops (0.05–0.4); τs 0.1, τt 0.04,
    centre momentum 0.9, teacher momentum 0.99 → 1."""

    spatial_weight = 0.25
    teacher_momentum = 0.99

    def __init__(self, backbone, image_size, local_crops=4, local_size=None, hidden=512, bottleneck=128, prototypes=1024):
        super().__init__()
        d = backbone.feature_dimension
        self.head = DinoHead(d, hidden, bottleneck, prototypes)
        self.teacherHead = copy.deepcopy(self.head)
        self.teacherBackbone = copy.deepcopy(backbone)
        for p in list(self.teacherHead.parameters()) + list(self.teacherBackbone.parameters()):
            p.requires_grad_(False)
        self.center = nn.Parameter(torch.zeros(1, prototypes), requires_grad=False)
        self.families = [(2, RandomResizedCrop(0.4, 1.0), image_size),
                         (local_crops, RandomResizedCrop(0.05, 0.4), local_size or image_size // 2)]
        self.augmentation = PhotometricAugmentation(blur_probability=0.5)
        self.student_temperature, self.teacher_temperature, self.center_momentum = 0.1, 0.04, 0.9

    def make_views(self, images, rngs):
        return multi_crop(images, rngs, self.families, self.augmentation)

    def loss(self, backbone, views):
        batch = views[0].shape[0]
        globals_ = torch.cat([views[0], views[1]], 0)
        student = list(self.head(backbone(globals_)).chunk(2, 0))
        if len(views) > 2:
            student += list(self.head(backbone(torch.cat(views[2:], 0))).split(batch, 0))
        with torch.no_grad():
            teacher = self.teacherHead(self.teacherBackbone(globals_)).chunk(2, 0)
        total, pairs = 0, 0
        for i, t in enumerate(teacher):
            targets = ((t - self.center) / self.teacher_temperature).softmax(-1)
            for j, s in enumerate(student):
                if j == i:
                    continue
                total = total + -(targets * (s / self.student_temperature).log_softmax(-1)).sum(-1).mean()
                pairs += 1
        with torch.no_grad():
            rows = torch.cat(teacher, 0)
            mean = distributed.all_reduce_sum(rows.sum(0, keepdim=True)) / (rows.shape[0] * distributed.world_size())
            self.center.mul_(self.center_momentum).add_(mean, alpha=1 - self.center_momentum)
        return total / pairs

    def update_teacher(self, backbone, momentum):
        move_teacher(((self.teacherBackbone, backbone), (self.teacherHead, self.head)), momentum)


class MomentumHost(nn.Module):
    """MoCo v3 and BYOL's shape: the student runs backbone → projector → predictor on both views, an EMA teacher
    (backbone and projector copies) runs on both without gradients; subclasses compare predictions with the teacher's
    output of the other view. Views as SimCLR."""

    spatial_weight = 0.5
    teacher_momentum = 0.99

    def __init__(self, backbone, image_size, projector, predictor):
        super().__init__()
        self.projector = projector
        self.predictor = predictor
        self.teacher_backbone = copy.deepcopy(backbone)
        self.teacher_projector = copy.deepcopy(projector)
        for p in list(self.teacher_backbone.parameters()) + list(self.teacher_projector.parameters()):
            p.requires_grad_(False)
        self.families = [(2, RandomResizedCrop(0.2, 1.0), image_size)]
        self.augmentation = PhotometricAugmentation()

    def make_views(self, images, rngs):
        return multi_crop(images, rngs, self.families, self.augmentation)

    def loss(self, backbone, views):
        both = torch.cat([views[0], views[1]], 0)
        predictions = self.predictor(self.projector(backbone(both))).chunk(2, 0)
        with torch.no_grad():
            targets = self.teacher_projector(self.teacher_backbone(both)).chunk(2, 0)
        return self.cross_view_loss(predictions, targets)

    def update_teacher(self, backbone, momentum):
        move_teacher(((self.teacher_backbone, backbone), (self.teacher_projector, self.projector)), momentum)


class Byol(MomentumHost):
    """BYOL: 2 − 2·cos between one view's prediction and the teacher's projection of the other, symmetrised; projector
    and predictor D → 512 → 128."""

    def __init__(self, backbone, image_size, hidden=512, out=128):
        super().__init__(backbone, image_size, MlpHead([backbone.feature_dimension, hidden, out]), MlpHead([out, hidden, out]))

    @staticmethod
    def cosine_regression(p, z):
        return (2 - 2 * (F.normalize(p, dim=1) * F.normalize(z, dim=1)).sum(1)).mean()

    def cross_view_loss(self, predictions, targets):
        return (self.cosine_regression(predictions[0], targets[1]) + self.cosine_regression(predictions[1], targets[0])) / 2


class MoCoV3(MomentumHost):
    """MoCo v3: InfoNCE (τ = 0.2, scaled by 2τ) of queries against the teacher's keys of the other view, the keys of
    every rank as negatives; projector D → 512 → 512 → 128 and predictor 128 → 512 → 128, each ending in a
    non-affine batch norm."""

    def __init__(self, backbone, image_size, hidden=512, out=128, temperature=0.2):
        super().__init__(backbone, image_size, MlpHead([backbone.feature_dimension, hidden, hidden, out], final_batch_norm=True),
                         MlpHead([out, hidden, out], final_batch_norm=True))
        self.temperature = temperature

    def info_nce(self, queries, keys):
        q = F.normalize(queries, dim=1)
        k = F.normalize(distributed.gather(keys), dim=1)  # the teacher's keys: no gradient to route back
        labels = torch.arange(q.shape[0], device=q.device) + distributed.rank() * q.shape[0]
        return F.cross_entropy(q @ k.t() / self.temperature, labels) * (2 * self.temperature)

    def cross_view_loss(self, queries, keys):
        return self.info_nce(queries[0], keys[1]) + self.info_nce(queries[1], keys[0])


def move_teacher(pairs, momentum):
    """θ_teacher ← m·θ_teacher + (1 − m)·θ_student for each (teacher, student) module pair (the .NET `MomentumTeacher.Update`)."""
    with torch.no_grad():
        for teacher, student in pairs:
            for t, s in zip(teacher.parameters(), student.parameters()):
                t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)


def teacher_momentum_at(base, step, total_steps):
    """base → 1 by a half cosine, as the .NET `MomentumTeacher.Schedule`."""
    return 1 - (1 - base) * (math.cos(math.pi * step / max(1, total_steps)) + 1) / 2


HOSTS = {"simclr": SimCLR, "dino": Dino, "mocov3": MoCoV3, "byol": Byol}
