"""python -m tests.write_features WEIGHTS IMAGES OUT: eval-mode features of IMAGES (safetensors 'images') with the
backbone in WEIGHTS (its metadata names the kind), written to OUT as 'features'."""

import sys

import torch

from spatial_prediction_torch import backbones, safetensors_io


def main(weights, images, out):
    state, metadata = safetensors_io.load(weights)
    pictures = safetensors_io.load(images)[0]["images"].float()
    backbone = backbones.create(metadata["kind"], image_size=int(metadata.get("image_size", pictures.shape[-1])))
    backbone.load_native_state_dict(state)
    backbone.eval()
    with torch.no_grad():
        safetensors_io.save({"features": backbone(pictures)}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
