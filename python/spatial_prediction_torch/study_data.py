"""Packs the emoji and photographs that `samples/PrepareData` prepared into one safetensors file for the budget study.

    python3 -m spatial_prediction_torch.study_data --data-folder ~/.cache/spatial-prediction/data --out study.safetensors

The split is the experiment runner's: on "validation" one training emoji in five is held out by its code points (the
FNV-1a hash of the file name without U+FE0F, modulo 5, equal to 2), so every style of one emoji lands on the same side
and no test emoji is read; on "test" the training CSV is trained on and the test CSV evaluated. Pictures are stored as
uint8: the training and evaluation pictures on black (as the .NET decoder premultiplies transparent pixels), the
objects pasted onto photographs with their alpha, the photographs at twice the study's side. At 64 px the file is
about 35 MB, small enough to carry to a GPU machine with the code.
"""

import argparse
import csv
import json
import os
import re
import sys

import torch

from . import safetensors_io
from .train import resize_iso_crop

STYLES = ("google", "twitter", "openmoji")
OBJECT_LIMIT = 300


def stable_hash(text):
    """32-bit FNV-1a over the UTF-16 code units of `text` (the .NET runner's `StableHash`)."""
    value = 2166136261
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        value = ((value ^ int.from_bytes(data[i:i + 2], "little")) * 16777619) & 0xFFFFFFFF
    return value


def emoji_key(path):
    """The held-out key of an emoji file: its name without extension and U+FE0F, lower case."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return re.sub("-fe0f", "", stem, flags=re.IGNORECASE).lower()


def is_held_out(path):
    return stable_hash(emoji_key(path)) % 5 == 2


def read_csv(path):
    """(path, label) rows of a prepared CSV, paths resolved against its folder; a missing file says how to prepare it."""
    if not os.path.isfile(path):
        raise SystemExit(f"{path} not found: prepare the data first with "
                         "'dotnet run -c Release --project samples/PrepareData -- emoji' (and '-- photos')")
    folder = os.path.dirname(path)
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        if reader.fieldnames is None or "path" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise SystemExit(f"{path}: expected the columns 'path' and 'label', found {reader.fieldnames}")
        return [(os.path.join(folder, row["path"]), row["label"]) for row in reader]


def read_picture(path, size, alpha=True):
    """[4, size, size] (straight alpha) or [3, size, size] floats in [0, 1], resized (shorter side, centre square) where needed."""
    from torchvision.io import ImageReadMode, read_image
    try:
        image = read_image(path, ImageReadMode.RGB_ALPHA if alpha else ImageReadMode.RGB).float() / 255
    except Exception as error:  # name the file, never drop it silently
        raise SystemExit(f"{path}: unreadable picture ({error})")
    return image if image.shape[1:] == (size, size) else resize_iso_crop(image, size).clamp(0, 1)


def on_black(rgba):
    return rgba[:3] * rgba[3:4]


def to_bytes(images):
    return (torch.stack(images) * 255).round().clamp(0, 255).to(torch.uint8)


def pack(data_folder, size, split, out):
    emoji = os.path.join(data_folder, "emoji")
    if split not in ("validation", "test"):
        raise SystemExit(f"--split {split}: use 'validation' or 'test'")

    def part(style, held_out):
        rows = read_csv(os.path.join(emoji, f"{style}-category-train.csv"))
        if split == "test":
            return rows if not held_out else read_csv(os.path.join(emoji, f"{style}-category-test.csv"))
        return [r for r in rows if is_held_out(r[0]) == held_out]

    train_rows = part("google", held_out=False)
    classes = sorted({label for _, label in train_rows})
    tensors, counts = {}, {}
    for name, rows in [("train", train_rows)] + [(style if style != "google" else "eval", part(style, held_out=True)) for style in STYLES]:
        rows = [r for r in rows if r[1] in classes]
        pictures = [read_picture(path, size) for path, _ in rows]
        tensors[f"{name}_images"] = to_bytes([on_black(p) for p in pictures])
        tensors[f"{name}_labels"] = torch.tensor([classes.index(label) for _, label in rows], dtype=torch.int64)
        counts[name] = len(rows)
        if name == "eval":
            tensors["objects"] = to_bytes(pictures[:OBJECT_LIMIT])
    photo_rows = read_csv(os.path.join(data_folder, "photos.csv"))
    tensors["photos"] = to_bytes([read_picture(path, 2 * size, alpha=False) for path, _ in photo_rows])
    metadata = {"classes": json.dumps(classes), "split": split, "image_size": str(size), "counts": json.dumps(counts)}
    safetensors_io.save(tensors, out, metadata)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(prog="spatial_prediction_torch.study_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-folder", default=os.path.join(os.path.expanduser("~"), ".cache", "spatial-prediction", "data"))
    parser.add_argument("--size", type=int, default=64, help="side of the stored pictures")
    parser.add_argument("--split", default="validation", choices=["validation", "test"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    counts = pack(args.data_folder, args.size, args.split, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.1f} MB): {counts}, split {args.split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
