"""Heads on top of the backbone, with the .NET library's module names (so state dicts load by name both ways)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MlpHead(nn.Module):
    """Projector / predictor: (Linear, BatchNorm, ReLU) per hidden layer, a final Linear, optionally a BatchNorm
    without affine parameters."""

    def __init__(self, widths, final_batch_norm=False):
        super().__init__()
        if len(widths) < 2:
            raise ValueError("an MLP head needs at least an input and an output width")
        modules = []
        for i in range(len(widths) - 2):
            modules += [nn.Linear(widths[i], widths[i + 1]), nn.BatchNorm1d(widths[i + 1]), nn.ReLU()]
        modules.append(nn.Linear(widths[-2], widths[-1]))
        if final_batch_norm:
            modules.append(nn.BatchNorm1d(widths[-1], affine=False))
        self.layers = nn.Sequential(*modules)

    def forward(self, x):
        return self.layers(x)


class SpatialPredictionHead(nn.Module):
    """MLP over [zA, zB, zA − zB] to the four standardised targets, after an optional per-view projector."""

    def __init__(self, feature_dimension, hidden_width=256, hidden_layers=2, projector_width=256):
        super().__init__()
        modules = []
        width = 3 * (projector_width if projector_width > 0 else feature_dimension)
        for _ in range(hidden_layers):
            modules += [nn.Linear(width, hidden_width), nn.BatchNorm1d(hidden_width), nn.ReLU()]
            width = hidden_width
        modules.append(nn.Linear(width, 4))
        self.layers = nn.Sequential(*modules)
        if projector_width > 0:
            self.projector = MlpHead([feature_dimension, projector_width, projector_width])
        else:
            self.projector = None

    def forward(self, reference, second):
        if self.projector is not None:
            reference, second = self.projector(reference), self.projector(second)
        return self.layers(torch.cat([reference, second, reference - second], 1))


class DinoHead(nn.Module):
    """DINO's head: 3-layer GELU MLP (with batch norm) to a bottleneck, L2 norm, then unit-length prototypes."""

    def __init__(self, input_dimension, hidden_dimension=512, bottleneck_dimension=128, prototype_count=1024):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(input_dimension, hidden_dimension), nn.BatchNorm1d(hidden_dimension), nn.GELU(),
            nn.Linear(hidden_dimension, hidden_dimension), nn.BatchNorm1d(hidden_dimension), nn.GELU(),
            nn.Linear(hidden_dimension, bottleneck_dimension))
        self.prototypes = nn.Parameter(torch.randn(prototype_count, bottleneck_dimension) * 0.02)

    def forward(self, features):
        return F.normalize(self.mlp(features), dim=1).matmul(F.normalize(self.prototypes, dim=1).t())
