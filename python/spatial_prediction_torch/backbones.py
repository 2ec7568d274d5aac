"""The backbones of SpatialPrediction.ML with its weight names: images [B, 3, H, W] in [0, 1] -> embeddings [B, D].

Input standardisation (ImageNet mean and std) lives inside the module, as in the .NET library. ResNet-18/50 are
TorchVision's modules; `native_state_dict` / `load_native_state_dict` translate to and from the .NET names
(`stem.*`, `stages.N.*`), so weights move both ways with `SpatialBackbone.ExportSafetensors` / `ImportSafetensors`.
"""

import re

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
KINDS = ("SmallResNet", "ResNet18", "ResNet50", "VitTiny", "VitSmall")


def standardize(images):
    mean = torch.tensor(_MEAN, dtype=images.dtype, device=images.device).reshape(1, 3, 1, 1)
    std = torch.tensor(_STD, dtype=images.dtype, device=images.device).reshape(1, 3, 1, 1)
    return (images - mean) / std


class ResidualBlock(nn.Module):
    """Basic block: two 3×3 convolutions with batch norm and a 1×1 projection shortcut when the shape changes."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class SmallResNet(nn.Module):
    """CIFAR-style ResNet: 3×3 stem, no max-pool, four stages at widths w, 2w, 4w, 8w."""

    kind = "SmallResNet"

    def __init__(self, width=32, blocks_per_stage=1):
        super().__init__()
        if width < 4:
            raise ValueError(f"width must be at least 4 (got {width})")
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        blocks, channels = [], width
        for stage in range(4):
            out = width << stage
            for b in range(blocks_per_stage):
                blocks.append(ResidualBlock(channels, out, 2 if stage > 0 and b == 0 else 1))
                channels = out
        self.stages = nn.Sequential(*blocks)
        self.feature_dimension = 8 * width

    def feature_map(self, images):
        return self.stages(self.stem(standardize(images)))

    def forward(self, images):
        return self.feature_map(images).mean((2, 3))

    def native_state_dict(self):
        return dict(self.state_dict())

    def load_native_state_dict(self, state):
        self.load_state_dict(state, strict=True)


_DEPTHS = {"ResNet18": (2, 2, 2, 2), "ResNet50": (3, 4, 6, 3)}
_BOTTLENECK = {"conv1": 0, "bn1": 1, "conv2": 3, "bn2": 4, "conv3": 6, "bn3": 7}
_LAYER = re.compile(r"^layer([1-4])\.(\d+)\.(.+)$")


def torchvision_to_native(name, kind):
    """The .NET library's name for a TorchVision ResNet state name, or None (the classifier `fc.*`)."""
    depths = _DEPTHS[kind]
    if name.startswith("conv1."):
        return "stem.0." + name[len("conv1."):]
    if name.startswith("bn1."):
        return "stem.1." + name[len("bn1."):]
    match = _LAYER.match(name)
    if not match:
        return None
    layer, block, rest = int(match.group(1)), int(match.group(2)), match.group(3)
    flat = sum(depths[:layer - 1]) + block
    if rest.startswith("downsample."):
        inner = "shortcut." + rest[len("downsample."):]
    elif kind == "ResNet18":
        inner = rest
    else:
        part, tail = rest.split(".", 1)
        inner = f"body.{_BOTTLENECK[part]}.{tail}" if part in _BOTTLENECK else rest
    return f"stages.{flat}.{inner}"


class ResNet(nn.Module):
    """TorchVision's ResNet-18 or ResNet-50 without its classifier, pooled to [B, 512] or [B, 2048]."""

    def __init__(self, kind="ResNet18"):
        super().__init__()
        if kind not in _DEPTHS:
            raise ValueError(f"ResNet supports {', '.join(_DEPTHS)} (got {kind!r})")
        self.kind = kind
        self.net = torchvision.models.resnet18() if kind == "ResNet18" else torchvision.models.resnet50()
        self.net.fc = nn.Identity()
        self.feature_dimension = 512 if kind == "ResNet18" else 2048

    def feature_map(self, images):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(standardize(images)))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))

    def forward(self, images):
        return self.feature_map(images).mean((2, 3))

    def native_state_dict(self):
        return {torchvision_to_native(k, self.kind): v for k, v in self.net.state_dict().items() if torchvision_to_native(k, self.kind)}

    def load_native_state_dict(self, state):
        names = {torchvision_to_native(k, self.kind): k for k in self.net.state_dict()}
        names.pop(None, None)
        missing = sorted(set(names) - set(state))
        unexpected = sorted(set(state) - set(names))
        if missing or unexpected:
            raise KeyError(f"{self.kind}: missing {missing[:5]}, unexpected {unexpected[:5]}")
        self.net.load_state_dict({names[k]: v for k, v in state.items()}, strict=True)


class SelfAttention(nn.Module):
    def __init__(self, dimension, heads):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / ((dimension // heads) ** 0.5)
        self.qkv = nn.Linear(dimension, 3 * dimension)
        self.projection = nn.Linear(dimension, dimension)

    def forward(self, tokens):
        b, n, d = tokens.shape
        q, k, v = self.qkv(tokens).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attention = (q.matmul(k.transpose(-2, -1)) * self.scale).softmax(-1)
        return self.projection(attention.matmul(v).transpose(1, 2).reshape(b, n, d))


class TransformerBlock(nn.Module):
    def __init__(self, dimension, heads, mlp_ratio=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dimension, eps=1e-6)
        self.attention = SelfAttention(dimension, heads)
        self.norm2 = nn.LayerNorm(dimension, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dimension, mlp_ratio * dimension), nn.GELU(), nn.Linear(mlp_ratio * dimension, dimension))

    def forward(self, tokens):
        x = tokens + self.attention(self.norm1(tokens))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """ViT-Tiny / ViT-Small: patch embedding, CLS token, learned positions (bicubic-resized for other sizes), pre-norm
    blocks, final LayerNorm; the embedding is the CLS token."""

    def __init__(self, kind="VitTiny", patch_size=8, image_size=32):
        super().__init__()
        dims = {"VitTiny": (192, 12, 3), "VitSmall": (384, 12, 6)}
        if kind not in dims:
            raise ValueError(f"VisionTransformer supports VitTiny and VitSmall (got {kind!r})")
        if image_size % patch_size:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {patch_size}")
        self.kind = kind
        dimension, depth, heads = dims[kind]
        self.patch_size, self.grid, self.feature_dimension = patch_size, image_size // patch_size, dimension
        self.patchEmbedding = nn.Conv2d(3, dimension, patch_size, stride=patch_size)
        self.classToken = nn.Parameter(torch.randn(1, 1, dimension) * 0.02)
        self.positions = nn.Parameter(torch.randn(1, 1 + self.grid * self.grid, dimension) * 0.02)
        self.blocks = nn.Sequential(*[TransformerBlock(dimension, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dimension, eps=1e-6)

    def _positions(self, h, w):
        if h == self.grid and w == self.grid:
            return self.positions
        d = self.feature_dimension
        grid = self.positions[:, 1:].reshape(1, self.grid, self.grid, d).permute(0, 3, 1, 2)
        resized = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([self.positions[:, :1], resized.permute(0, 2, 3, 1).reshape(1, h * w, d)], 1)

    def tokens(self, images):
        patches = self.patchEmbedding(standardize(images))
        b, _, h, w = patches.shape
        tokens = patches.flatten(2).transpose(1, 2)
        tokens = torch.cat([self.classToken.expand(b, -1, -1), tokens], 1) + self._positions(h, w)
        return self.norm(self.blocks(tokens))

    def forward(self, images):
        return self.tokens(images)[:, 0]

    def native_state_dict(self):
        return dict(self.state_dict())

    def load_native_state_dict(self, state):
        self.load_state_dict(state, strict=True)


def create(kind, width=32, patch_size=8, image_size=32):
    """A backbone by the .NET library's `BackboneKind` name."""
    if kind == "SmallResNet":
        return SmallResNet(width)
    if kind in _DEPTHS:
        return ResNet(kind)
    if kind in ("VitTiny", "VitSmall"):
        return VisionTransformer(kind, patch_size, image_size)
    raise ValueError(f"backbone {kind!r} is not available here; choose one of {', '.join(KINDS)}")
