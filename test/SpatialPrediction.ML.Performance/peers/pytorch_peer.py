#!/usr/bin/env python3
"""PyTorch peer of SpatialPrediction.ML's training step, for the benchmark table.

Runs the step our engine runs, op for op: gather a batch of uint8 pictures, cut every view's
pixel-aligned box from its picture and resize it once (bilinear, antialiased), scaled to [0, 1], apply the same photometric augmentation, forward the torchvision-layout
ResNet through ImageNet standardisation, the host loss (SimCLR NT-Xent or DINO with teacher and centre) plus SP
(relative position and scale of two disjoint local views, smooth L1), backward, clip the gradient norm to 3, AdamW,
and the teacher EMA for DINO. Views are made inline on the training thread, as our engine does on 2 cores.

Prints one JSON object: the median step time after warm-up, images/s, torch version, threads and the BLAS that ran.
Usage: pytorch_peer.py --framework simclr|dino [--sp] --backbone resnet18 --size 64 --batch 64 --steps 12 --warmup 3
       --threads 2 [--channels-last]
The report runs the default (NCHW, as most PyTorch code does); --channels-last converts the backbone's weights, which
makes oneDNN run the convolutions channels-last, for comparing against our own channels-last path by hand.
"""
import argparse
import json
import math
import random
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import onednn_safety  # the companion's python/spatial_prediction_torch/onednn_safety.py, copied next to this script

MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)


class Backbone(nn.Module):
    def __init__(self, kind):
        super().__init__()
        net = getattr(torchvision.models, kind)()
        net.fc = nn.Identity()
        self.net = net
        self.dim = 512 if kind == "resnet18" else 2048

    def forward(self, x):
        return self.net((x - MEAN) / STD)


def mlp(widths, act=nn.ReLU):
    layers = []
    for i in range(len(widths) - 2):
        layers += [nn.Linear(widths[i], widths[i + 1]), nn.BatchNorm1d(widths[i + 1]), act()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def sample_box(rng, width, height, min_area, max_area, min_aspect=3 / 4, max_aspect=4 / 3):
    """A random-resized-crop box of whole pixels (left, top, w, h), the aspect ratio in pixels."""
    for _ in range(10):
        area = (min_area + (max_area - min_area) * rng.random()) * width * height
        aspect = math.exp(math.log(min_aspect) + (math.log(max_aspect) - math.log(min_aspect)) * rng.random())
        w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if w < 1 or h < 1 or w > width or h > height:
            continue
        return (min(int((width - w + 1) * rng.random()), width - w), min(int((height - h + 1) * rng.random()), height - h), w, h)
    side = math.sqrt(min(max(max_area, min_area), 1))
    w, h = max(1, round(side * width)), max(1, round(side * height))
    return ((width - w) // 2, (height - h) // 2, w, h)


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def crop(images, boxes, flips, size):
    """Each box's pixels sliced from its uint8 picture, scaled to [0, 1], resized once (bilinear, antialiased), mirrored."""
    crops = []
    for i, (left, top, w, h) in enumerate(boxes):
        region = images[i, :, top:top + h, left:left + w].unsqueeze(0).float().div_(255)
        if h != size or w != size:
            region = F.interpolate(region, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        crops.append(region.flip(3) if flips[i] else region)
    return torch.cat(crops)


def luma(x):
    return x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114


def hue_matrix(turns):
    if turns == 0:
        return torch.eye(3)
    c, s = math.cos(2 * math.pi * turns), math.sin(2 * math.pi * turns)
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    from_yiq = torch.tensor([[1, 0.956, 0.621], [1, -0.272, -0.647], [1, -1.106, 1.703]])
    rotate = torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]])
    return from_yiq @ rotate @ to_yiq


def augment(x, rng, blur_p):
    b = x.shape[0]
    bright, contrast, sat, gray, sigma, hue = [], [], [], [], [], []
    for _ in range(b):
        jitter = rng.random() < 0.8
        bright.append(1 + 0.4 * (2 * rng.random() - 1) if jitter else 1)
        contrast.append(1 + 0.4 * (2 * rng.random() - 1) if jitter else 1)
        sat.append(1 + 0.4 * (2 * rng.random() - 1) if jitter else 1)
        hue.append(hue_matrix(0.1 * (2 * rng.random() - 1) if jitter else 0))
        gray.append(1.0 if rng.random() < 0.2 else 0.0)
        sigma.append(0.1 + 1.4 * rng.random() if rng.random() < blur_p else 0.0)
    f = lambda v: torch.tensor(v, dtype=torch.float32).reshape(b, 1, 1, 1)
    x = x * f(bright)
    m = luma(x).mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - m) * f(contrast) + m).clamp(0, 1)
    l = luma(x)
    x = ((x - l) * f(sat) + l).clamp(0, 1)
    x = torch.einsum("bij,bjhw->bihw", torch.stack(hue), x).clamp(0, 1)
    g = f(gray)
    x = x * (1 - g) + luma(x) * g
    if any(s > 0 for s in sigma):
        x = blur(x, sigma)
    return x


def blur(x, sigmas, radius=2):
    b, c, h, w = x.shape
    size = 2 * radius + 1
    kernels = torch.zeros(b * c, 1, size, size)
    offsets = torch.arange(size, dtype=torch.float32) - radius
    for i, s in enumerate(sigmas):
        if s <= 0:
            k = torch.zeros(size)
            k[radius] = 1
        else:
            k = torch.exp(-offsets ** 2 / (2 * s * s))
            k = k / k.sum()
        kernels[i * c:(i + 1) * c, 0] = torch.outer(k, k)
    padded = F.pad(x.reshape(1, b * c, h, w), (radius,) * 4, mode="replicate")
    return F.conv2d(padded, kernels, groups=b * c).reshape(b, c, h, w)


def multi_crop(images, rng, families, blur_p):
    views = []
    for count, (lo, hi), size in families:
        for _ in range(count):
            boxes = [sample_box(rng, images.shape[3], images.shape[2], lo, hi) for _ in range(images.shape[0])]
            flips = [rng.random() < 0.5 for _ in range(images.shape[0])]
            views.append(augment(crop(images, boxes, flips, size), rng, blur_p))
    return views


def spatial_views(images, rng, size=32):
    refs, tgts, flips, targets = [], [], [], []
    for _ in range(images.shape[0]):
        while True:
            a, b = sample_box(rng, images.shape[3], images.shape[2], 0.08, 0.35), sample_box(rng, images.shape[3], images.shape[2], 0.08, 0.35)
            if iou(a, b) <= 0.3:
                break
        mirrored = rng.random() < 0.5
        refs.append(a)
        tgts.append(b)
        flips.append(mirrored)
        dx = (b[0] + b[2] / 2 - a[0] - a[2] / 2) / a[2] * (-1 if mirrored else 1)
        targets.append([dx, (b[1] + b[3] / 2 - a[1] - a[3] / 2) / a[3], math.log(b[2] / a[2]), math.log(b[3] / a[3])])
    ref = augment(crop(images, refs, flips, size), rng, 0.2)
    tgt = augment(crop(images, tgts, flips, size), rng, 0.2)
    return ref, tgt, torch.tensor(targets)


class SimClr(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.projection = mlp([d, 2 * d, 128])

    def views(self, images, rng):
        return multi_crop(images, rng, [(2, (0.2, 1.0), images.shape[-1])], 0.0)

    def loss(self, backbone, views):
        z = self.projection(backbone(torch.cat(views[:2])))
        n = views[0].shape[0]
        z = F.normalize(z, dim=1)
        logits = (z @ z.t() / 0.5).masked_fill(torch.eye(2 * n, dtype=torch.bool), -1e9)
        partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
        return F.cross_entropy(logits, partner)

    def update_teacher(self, backbone, momentum):
        pass


class DinoHead(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.mlp = mlp([d, 512, 512, 128], act=nn.GELU)
        self.prototypes = nn.Parameter(torch.randn(1024, 128) * 0.02)

    def forward(self, x):
        return F.normalize(self.mlp(x), dim=1) @ F.normalize(self.prototypes, dim=1).t()


class Dino(nn.Module):
    def __init__(self, backbone, kind):
        super().__init__()
        self.head = DinoHead(backbone.dim)
        self.teacher_backbone = Backbone(kind)
        self.teacher_backbone.load_state_dict(backbone.state_dict())
        self.teacher_head = DinoHead(backbone.dim)
        self.teacher_head.load_state_dict(self.head.state_dict())
        for p in list(self.teacher_backbone.parameters()) + list(self.teacher_head.parameters()):
            p.requires_grad = False
        self.register_buffer("center", torch.zeros(1, 1024))

    def views(self, images, rng):
        s = images.shape[-1]
        return multi_crop(images, rng, [(2, (0.4, 1.0), s), (4, (0.05, 0.4), s // 2)], 0.5)

    def loss(self, backbone, views):
        n = views[0].shape[0]
        globals_ = torch.cat(views[:2])
        student = list(self.head(backbone(globals_)).chunk(2))
        student += list(self.head(backbone(torch.cat(views[2:]))).split(n))
        with torch.no_grad():
            teacher = self.teacher_head(self.teacher_backbone(globals_)).chunk(2)
        total, pairs = 0, 0
        for i, t in enumerate(teacher):
            targets = ((t - self.center) / 0.04).softmax(-1)
            for j, s in enumerate(student):
                if i != j:
                    total = total + -(targets * (s / 0.1).log_softmax(-1)).sum(-1).mean()
                    pairs += 1
        with torch.no_grad():
            self.center.mul_(0.9).add_(torch.cat(teacher).mean(0, keepdim=True), alpha=0.1)
        return total / pairs

    def update_teacher(self, backbone, momentum):
        with torch.no_grad():
            for t, s in zip(list(self.teacher_backbone.parameters()) + list(self.teacher_head.parameters()),
                            list(backbone.parameters()) + list(self.head.parameters())):
                t.mul_(momentum).add_(s, alpha=1 - momentum)


def blas_in_use():
    with open("/proc/self/maps") as maps:
        libraries = {line.split()[-1] for line in maps if "blas" in line.lower() or "mkl" in line.lower()}
    return sorted(libraries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", choices=["simclr", "dino"], default="simclr")
    parser.add_argument("--sp", action="store_true")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="the losses under torch.autocast('cpu', dtype=torch.bfloat16)")
    args = parser.parse_args()

    onednn_safe, onednn_reason = onednn_safety.apply(torch)  # before the first convolution, as the library does
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = random.Random(1)
    images = torch.randint(0, 256, (args.batch * 4, 3, args.size, args.size), dtype=torch.uint8)
    backbone = Backbone(args.backbone)
    host = SimClr(backbone.dim) if args.framework == "simclr" else Dino(backbone, args.backbone)
    sp_head = mlp([3 * backbone.dim, 256, 256, 4]) if args.sp else None
    if args.channels_last:
        backbone = backbone.to(memory_format=torch.channels_last)
    parameters = list(backbone.parameters()) + [p for p in host.parameters() if p.requires_grad]
    if sp_head is not None:
        parameters += list(sp_head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=2e-3, weight_decay=1e-4)

    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        index = torch.tensor(rng.sample(range(images.shape[0]), args.batch))
        batch = images.index_select(0, index)  # uint8: each view's pixels are scaled to [0, 1] as they are cut
        views = host.views(batch, rng)
        sp = spatial_views(batch, rng) if sp_head is not None else None
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            host_loss = host.loss(backbone, views)
            total = host_loss
            if sp is not None:
                ref, tgt = backbone(torch.cat([sp[0], sp[1]])).chunk(2)
                sp_loss = F.smooth_l1_loss(sp_head(torch.cat([ref, tgt, ref - tgt], 1)), sp[2])
                total = host_loss + sp_loss
        host_loss, total = host_loss.float(), total.float()
        host_loss.item(), total.item()
        total.backward()
        nn.utils.clip_grad_norm_(parameters, 3.0)
        optimizer.step()
        host.update_teacher(backbone, 0.99)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)

    median = statistics.median(times)
    print(json.dumps({
        "median_step_s": median,
        "images_per_s": args.batch / median,
        "steps": len(times),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "onednn_safe_mode": onednn_safe,
        "onednn_reason": onednn_reason,
        "blas": blas_in_use(),
    }))


if __name__ == "__main__":
    main()
