"""python -m tests.torchvision_load WEIGHTS KIND IMAGES OUT: loads WEIGHTS (exported with TorchVision names) into
torchvision.models.resnet18/50, prints the names it lacked and the names it did not know as JSON, and writes the
eval-mode pooled features of IMAGES (the .NET input standardisation applied first) to OUT."""

import json
import sys

import torch
import torchvision

from spatial_prediction_torch import safetensors_io
from spatial_prediction_torch.backbones import standardize
from spatial_prediction_torch.train import load_images


def main(weights, kind, images, out):
    state, _ = safetensors_io.load(weights)
    model = {"ResNet18": torchvision.models.resnet18, "ResNet50": torchvision.models.resnet50}[kind]()
    missing, unexpected = model.load_state_dict(state, strict=False)
    print(json.dumps({"missing": sorted(missing), "unexpected": sorted(unexpected)}))
    model.fc = torch.nn.Identity()
    model.eval()
    with torch.no_grad():
        safetensors_io.save({"features": model(standardize(load_images(images, 32)))}, out)


if __name__ == "__main__":
    main(*sys.argv[1:5])
