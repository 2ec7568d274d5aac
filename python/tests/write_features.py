"""python -m tests.write_features WEIGHTS IMAGES OUT: eval-mode features of IMAGES (safetensors 'images') with the
backbone in WEIGHTS (its metadata names the kind), written to OUT as 'features'."""

import sys

import torch

from spatial_prediction_torch import backbones, safetensors_io
from spatial_prediction_torch.train import load_images


def main(weights, images, out):
    state, metadata = safetensors_io.load(weights)
    size = int(metadata["image_size"])
    pictures = load_images(images, size)
    backbone = backbones.create(metadata["kind"], int(metadata.get("width", 32)), int(metadata.get("patch_size", 8)), size)
    backbone.load_native_state_dict(state)
    backbone.eval()
    with torch.no_grad():
        safetensors_io.save({"features": backbone(pictures)}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
