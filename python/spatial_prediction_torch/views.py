"""Cutting boxes out of images, and the photometric augmentation, exactly as SpatialPrediction.ML does them."""

import math
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def pixel_box(box, width, height):
    """(left, top, w, h) in whole pixels of a width × height picture for a box (centre x, centre y, w, h as fractions,
    float32): rounded in float32 as the .NET library rounds, at least one pixel, inside the picture."""
    cx, cy, bw, bh = (torch.as_tensor(v, dtype=torch.float32) for v in box)
    w = min(max(int(torch.round(bw * width)), 1), width)
    h = min(max(int(torch.round(bh * height)), 1), height)
    left = min(max(int(torch.round((cx - bw / 2) * width)), 0), width - w)
    top = min(max(int(torch.round((cy - bh / 2) * height)), 0), height - h)
    return left, top, w, h


def box_from_pixels(left, top, w, h, width, height):
    """The fractional box of whole pixels, computed in float32 as the .NET library does."""
    f = torch.float32
    return tuple(float(v) for v in ((torch.tensor(left, dtype=f) + torch.tensor(w, dtype=f) / 2) / width,
                                     (torch.tensor(top, dtype=f) + torch.tensor(h, dtype=f) / 2) / height,
                                     torch.tensor(w, dtype=f) / width, torch.tensor(h, dtype=f) / height))


def _resize(region, size):
    if region.shape[2] == size and region.shape[3] == size:
        return region
    return F.interpolate(region, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def crop(pictures, boxes, flips, size, detail=0):
    """Cuts boxes[i] ([B, 4]) out of pictures[i] (a [B, C, H, W] batch or a list of [C, H, W], bytes or floats in [0, 1])
    as the .NET library does: the box's whole pixels sliced, resized once (bilinear, antialiased) to size × size — with
    `detail` > 0 first reduced to that side and enlarged back — and mirrored where flips[i]."""
    crops = []
    for i, picture in enumerate(pictures):
        left, top, w, h = pixel_box(boxes[i], picture.shape[2], picture.shape[1])
        region = picture[:, top:top + h, left:left + w].unsqueeze(0)
        region = region.float() / 255 if region.dtype == torch.uint8 else region
        out = _resize(_resize(region, detail), size) if detail > 0 else _resize(region, size)
        crops.append(out.flip(3) if bool(flips[i]) else out)
    return torch.cat(crops, 0)


def crop_with_detail(pictures, boxes, flips, size, detail):
    """SP's crop: with `detail` > 0, reduced (antialiased) to `detail` and enlarged back to `size`, so every view carries
    the same detail whatever its box."""
    return crop(pictures, boxes, flips, size, detail)


@dataclass
class PhotometricParameters:
    """Per-sample choices of one augmentation call ([B] each; hue_rotation [B, 3, 3])."""

    brightness: torch.Tensor
    contrast: torch.Tensor
    saturation: torch.Tensor
    hue_rotation: torch.Tensor
    gray: torch.Tensor
    blur_sigma: torch.Tensor


def hue_rotation(turns):
    """Hue rotation by `turns` of the colour wheel as one RGB matrix: rotate YIQ's chroma plane and come back."""
    if turns == 0:
        return torch.eye(3)
    c, s = math.cos(2 * math.pi * turns), math.sin(2 * math.pi * turns)
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    from_yiq = torch.tensor([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])
    rotate = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return from_yiq @ (rotate @ to_yiq)


@dataclass(frozen=True)
class PhotometricAugmentation:
    """Colour jitter, random grayscale and Gaussian blur, drawn per sample (the .NET library's defaults)."""

    jitter_probability: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4
    hue: float = 0.1
    grayscale_probability: float = 0.2
    blur_probability: float = 0.0
    max_blur_sigma: float = 1.5

    def draw(self, batch, rng: random.Random):
        b, c, s, h, g, sigma = [], [], [], [], [], []
        for _ in range(batch):
            jitter = rng.random() < self.jitter_probability
            b.append(1 + self.brightness * (2 * rng.random() - 1) if jitter else 1.0)
            c.append(1 + self.contrast * (2 * rng.random() - 1) if jitter else 1.0)
            s.append(1 + self.saturation * (2 * rng.random() - 1) if jitter else 1.0)
            h.append(hue_rotation(self.hue * (2 * rng.random() - 1) if jitter else 0.0))
            g.append(1.0 if rng.random() < self.grayscale_probability else 0.0)
            sigma.append(0.1 + (self.max_blur_sigma - 0.1) * rng.random() if rng.random() < self.blur_probability else 0.0)
        return PhotometricParameters(torch.tensor(b), torch.tensor(c), torch.tensor(s), torch.stack(h), torch.tensor(g), torch.tensor(sigma))

    def __call__(self, images, rng: random.Random):
        return apply_photometric(images, self.draw(images.shape[0], rng))


IDENTITY = PhotometricAugmentation(jitter_probability=0, grayscale_probability=0, blur_probability=0)


def _luma(x):
    return x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114


def apply_photometric(images, p: PhotometricParameters):
    """Brightness, contrast, saturation, hue rotation, grayscale, then blur, with the given per-sample parameters."""
    def factor(values):
        return values.to(images.dtype).to(images.device).reshape(-1, 1, 1, 1)

    x = images * factor(p.brightness)
    luma = _luma(x)
    mean = luma.mean((1, 2, 3), keepdim=True)
    x = ((x - mean) * factor(p.contrast) + mean).clamp(0, 1)
    luma = _luma(x)
    x = ((x - luma) * factor(p.saturation) + luma).clamp(0, 1)
    x = torch.einsum("bij,bjhw->bihw", p.hue_rotation.to(images.dtype).to(images.device), x).clamp(0, 1)
    gray = factor(p.gray)
    x = x * (1 - gray) + _luma(x) * gray
    if bool((p.blur_sigma > 0).any()):
        x = _blur(x, p.blur_sigma)
    return x


def _blur(x, sigmas):
    radius = 2
    size = 2 * radius + 1
    batch, channels = x.shape[0], x.shape[1]
    offsets = torch.arange(size, dtype=torch.float32) - radius
    kernels = []
    for sigma in sigmas.tolist():
        if sigma <= 0:
            k1 = torch.zeros(size)
            k1[radius] = 1
        else:
            s = torch.tensor(sigma, dtype=torch.float32)
            k1 = torch.exp(-(offsets * offsets) / (2 * s * s))
            k1 = k1 / k1.sum()
        kernels.append(torch.outer(k1, k1).expand(channels, size, size))
    weight = torch.stack(kernels).reshape(batch * channels, 1, size, size).to(x.dtype).to(x.device)
    padded = F.pad(x.reshape(1, batch * channels, x.shape[2], x.shape[3]), (radius,) * 4, mode="replicate")
    return F.conv2d(padded, weight, groups=batch * channels).reshape(x.shape)
