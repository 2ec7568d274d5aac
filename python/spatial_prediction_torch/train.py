"""SP pretraining on PyTorch: one process, or many under `torchrun --nproc_per_node=N` with DistributedDataParallel.

    torchrun --nproc_per_node=2 -m spatial_prediction_torch.train --images DIR --image-size 32 --backbone SmallResNet \
        --host simclr --batch-size 64 --epochs 10 --checkpoint-dir ckpt --out backbone.safetensors

Every rank holds batch-size / N images of each global batch (DistributedSampler); batch norm, SimCLR's negatives and
DINO's centre cover the global batch, so N ranks train like one process with the whole batch. Rank 0 writes
checkpoints; a run whose checkpoint folder holds one of the same settings resumes from it with the same views and
order as an uninterrupted run. `--init` starts from weights written by SpatialPrediction.ML's `ExportSafetensors`;
`--out` writes the backbone with the names its `ImportSafetensors` reads.
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from . import backbones, distributed, onednn_safety, safetensors_io
from .objectives import HOSTS, SpatialPrediction, SpatialPredictionSettings, teacher_momentum_at

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


class Pretraining(nn.Module):
    """Backbone, host objective and SP plug-in as one module, so DistributedDataParallel sees one forward per step."""

    def __init__(self, backbone, host, spatial, spatial_weight):
        super().__init__()
        self.backbone, self.host, self.spatial = backbone, host, spatial
        self.spatial_weight = spatial_weight

    def forward(self, host_views, spatial_views):
        zero = torch.zeros((), device=next(self.parameters()).device)
        host_loss = self.host.loss(self.backbone, host_views) if self.host is not None else zero
        spatial_loss = self.spatial.loss(self.backbone, *spatial_views) if self.spatial is not None else zero
        return host_loss + self.spatial_weight * spatial_loss, host_loss.detach(), spatial_loss.detach()


def cosine_schedule(base, total, warmup, step):
    """Linear warm-up then cosine decay to 0 (the .NET `CosineSchedule`)."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(max((step - warmup) / max(1, total - warmup), 0.0), 1.0)
    return base * 0.5 * (1 + math.cos(math.pi * progress))


def resize_iso_crop(image, size):
    """Scales the shorter side to `size` (antialiased) and keeps the centre square, like ML.NET's IsoCrop."""
    _, h, w = image.shape
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    image = F.interpolate(image[None], size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)[0]
    top, left = (nh - size) // 2, (nw - size) // 2
    return image[:, top:top + size, left:left + size]


def load_images(path, size):
    """[N, 3, size, size] floats in [0, 1] from a folder of pictures or a safetensors file with an `images` tensor."""
    if os.path.isfile(path):
        tensors, _ = safetensors_io.load(path)
        if "images" not in tensors:
            raise SystemExit(f"{path}: no tensor named 'images' (expected [N, 3, {size}, {size}])")
        images = tensors["images"]
        images = images.float() / 255 if images.dtype == torch.uint8 else images.float()
        if images.dim() != 4 or images.shape[1] != 3:
            raise SystemExit(f"{path}: 'images' is {list(images.shape)}, expected [N, 3, H, W]")
        return images if images.shape[2:] == (size, size) else torch.stack([resize_iso_crop(i, size) for i in images])
    if not os.path.isdir(path):
        raise SystemExit(f"--images {path}: no such file or folder")
    from torchvision.io import ImageReadMode, read_image
    files = sorted(os.path.join(root, f) for root, _, names in os.walk(path) for f in names if f.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise SystemExit(f"--images {path}: no pictures ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    images, unreadable = [], []
    for file in files:
        try:
            images.append(resize_iso_crop(read_image(file, ImageReadMode.RGB).float() / 255, size))
        except Exception as error:  # a broken file is named, never silently dropped
            unreadable.append(f"{file}: {error}")
    if unreadable:
        raise SystemExit("unreadable pictures:\n  " + "\n  ".join(unreadable))
    return torch.stack(images)


class IndexedImages(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        return index, self.images[index]


def fingerprint(args, image_count):
    """The settings a checkpoint must share to be resumed, the data (path and image count) and the starting weights included."""
    keys = ["images", "init", "backbone", "width", "patch_size", "image_size", "host", "spatial_weight", "no_spatial", "batch_size", "epochs", "steps",
            "learning_rate", "weight_decay", "warmup_fraction", "clip", "seed", "local_resolution", "detail_resolution", "local_crops"]
    values = {k: getattr(args, k) for k in keys}
    values["images"] = os.path.abspath(args.images)
    values["init"] = os.path.abspath(args.init) if args.init else None
    values["image_count"] = image_count
    text = json.dumps(values, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(args, feature_source=None):
    """The Pretraining module for the arguments (weights from `--init` when given)."""
    backbone = backbones.create(args.backbone, args.width, args.patch_size, args.image_size)
    if args.init:
        state, metadata = safetensors_io.load(args.init)
        kind = metadata.get("kind")
        if kind and kind != args.backbone:
            raise SystemExit(f"--init {args.init} holds a {kind} backbone, not {args.backbone}")
        backbone.load_native_state_dict(state)
    host = HOSTS[args.host](backbone, args.image_size, **({"local_crops": args.local_crops} if args.host == "dino" else {})) if args.host != "none" else None
    spatial = None
    if not args.no_spatial:
        settings = SpatialPredictionSettings(local_resolution=args.local_resolution, detail_resolution=args.detail_resolution)
        spatial = SpatialPrediction(backbone.feature_dimension, settings)
    weight = args.spatial_weight if args.spatial_weight is not None else (host.spatial_weight if host is not None else 1.0)
    if host is None and spatial is None:
        raise SystemExit("nothing to train: --host none and --no-spatial")
    return Pretraining(backbone, host, spatial, weight)


def write_backbone(backbone, path, args):
    """The backbone with the .NET names and the architecture in the metadata (`SpatialBackbone.FromSafetensors` reads it)."""
    safetensors_io.save(backbone.native_state_dict(), path, {
        "format": "pt", "library": "spatial_prediction_torch", "kind": backbone.kind, "image_size": str(args.image_size),
        "width": str(args.width), "patch_size": str(args.patch_size), "naming": "Native"})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="spatial_prediction_torch.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", required=True, help="folder of pictures, or a safetensors file with an 'images' tensor [N, 3, H, W]")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--backbone", default="SmallResNet", choices=backbones.KINDS)
    parser.add_argument("--width", type=int, default=32, help="SmallResNet base width")
    parser.add_argument("--patch-size", type=int, default=8, help="ViT patch size")
    parser.add_argument("--host", default="simclr", choices=sorted(HOSTS) + ["none"])
    parser.add_argument("--spatial-weight", type=float, default=None, help="λ; default: the host's (SimCLR, MoCo v3, BYOL 0.5; DINO 0.25)")
    parser.add_argument("--no-spatial", action="store_true", help="train the host alone")
    parser.add_argument("--local-resolution", type=int, default=32)
    parser.add_argument("--detail-resolution", type=int, default=0)
    parser.add_argument("--local-crops", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, split over the ranks")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=None, help="total optimiser steps (overrides --epochs)")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup-fraction", type=float, default=0.1)
    parser.add_argument("--clip", type=float, default=3.0, help="gradient clip norm over all parameters; 0: off")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", help="start from backbone weights (safetensors from ExportSafetensors or --out)")
    parser.add_argument("--out", help="write the trained backbone here (safetensors, the .NET library's names)")
    parser.add_argument("--checkpoint-dir", help="rank 0 writes checkpoints here; a matching one is resumed")
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--stop-after", type=int, default=None, help="stop after this many steps of this invocation (leaves a checkpoint)")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: the rank's GPU when CUDA is available")
    parser.add_argument("--gradients-out", help="rank 0 writes the first step's averaged gradients here (safetensors; for checks)")
    parser.add_argument("--out-every-rank", action="store_true", help="every rank writes OUT.rankN too (to check that they agree)")
    args = parser.parse_args(argv)
    onednn_safe, onednn_reason = onednn_safety.apply(torch)  # before the first convolution: oneDNN reads its cap once

    world = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no CUDA device")
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank = distributed.rank()
    torch.manual_seed(args.seed)
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} does not split over {world} ranks")
    images = load_images(args.images, args.image_size)
    steps_per_epoch = images.shape[0] // args.batch_size
    if steps_per_epoch < 1:
        raise SystemExit(f"{images.shape[0]} images are fewer than one batch of {args.batch_size}")
    total_steps = args.steps if args.steps is not None else args.epochs * steps_per_epoch

    model = build(args)
    if world > 1:
        distributed.convert_batch_norm(model)  # before the move, so the new batch norms go to the device too
    model = model.to(device)
    if world > 1:
        engine = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if use_cuda else None, broadcast_buffers=False)
    else:
        engine = model
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.learning_rate, weight_decay=args.weight_decay)
    warmup = round(args.warmup_fraction * total_steps)
    print_rank0 = (lambda *a: print(*a, flush=True)) if rank == 0 else (lambda *a: None)
    if onednn_safe:
        print_rank0(f"oneDNN safe mode on: {onednn_reason}")

    key = fingerprint(args, images.shape[0])
    start = 0
    checkpoint_path = os.path.join(args.checkpoint_dir, "checkpoint.pt") if args.checkpoint_dir else None
    if checkpoint_path and os.path.exists(checkpoint_path):
        saved = torch.load(checkpoint_path, map_location=device)
        if saved["fingerprint"] != key:
            raise SystemExit(f"{checkpoint_path} was written with other settings; use another --checkpoint-dir or delete it")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        start = saved["step"]
        print_rank0(f"resuming from {checkpoint_path} at step {start} of {total_steps}")

    def save_checkpoint(step):
        if rank != 0 or not checkpoint_path:
            return
        os.makedirs(args.checkpoint_dir, exist_ok=True)
        temporary = checkpoint_path + ".tmp"
        torch.save({"fingerprint": key, "step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, temporary)
        os.replace(temporary, checkpoint_path)

    dataset = IndexedImages(images)
    sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    local_batch = args.batch_size // world
    print_rank0(f"pretraining {args.host}{'' if args.no_spatial else f' + SP (λ = {model.spatial_weight})'} on {args.backbone}, "
                f"{images.shape[0]} images, {total_steps} steps of {args.batch_size} images on {world} process(es)")
    model.train()
    clock = time.time()
    step = start
    stopped = False
    while step < total_steps and not stopped:
        epoch = step // steps_per_epoch
        sampler.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(dataset, batch_size=local_batch, sampler=sampler, drop_last=True)
        for position, (indices, batch) in enumerate(loader):
            if position >= steps_per_epoch:
                break
            if epoch * steps_per_epoch + position < step:
                continue  # resumed inside this epoch
            rngs = [random.Random(f"{args.seed}:{epoch}:{int(i)}") for i in indices]
            batch = batch.to(device, non_blocking=True)
            host_views = model.host.make_views(batch, rngs) if model.host is not None else None
            spatial_views = model.spatial.make_views(batch, rngs) if model.spatial is not None else None
            lr = cosine_schedule(args.learning_rate, total_steps, warmup, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            total, host_loss, spatial_loss = engine(host_views, spatial_views)
            # Every rank decides together: one rank leaving alone would leave the others waiting in DDP's all-reduce.
            diverged = torch.tensor([0.0 if bool(torch.isfinite(total)) else 1.0], device=device)
            if world > 1:
                dist.all_reduce(diverged)
            if diverged.item() > 0:
                raise SystemExit(f"training diverged at step {step + 1}: loss {total.item()} (on this rank); lower --learning-rate")
            total.backward()
            if args.gradients_out and rank == 0 and step == start:
                safetensors_io.save({n: p.grad for n, p in model.named_parameters() if p.grad is not None}, args.gradients_out)
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(trainable, args.clip)
            optimizer.step()
            if model.host is not None and model.host.teacher_momentum is not None:
                model.host.update_teacher(model.backbone, teacher_momentum_at(model.host.teacher_momentum, step, total_steps))
            step += 1
            if step % args.log_every == 0 or step == total_steps:
                rate = (step - start) * args.batch_size / max(1e-9, time.time() - clock)
                print_rank0(f"step {step}/{total_steps} epoch {epoch + 1} loss {total.item():.4f} host {host_loss.item():.4f} "
                            f"sp {spatial_loss.item():.4f} lr {lr:.2e} {rate:.1f} img/s")
            if step % args.checkpoint_every == 0 or step == total_steps:
                save_checkpoint(step)
            if args.stop_after is not None and step - start >= args.stop_after:
                save_checkpoint(step)
                stopped = True
            if step >= total_steps or stopped:
                break
    if args.out and step >= total_steps:
        if rank == 0:
            write_backbone(model.backbone, args.out, args)
            print_rank0(f"wrote {args.out}")
        if args.out_every_rank:
            write_backbone(model.backbone, f"{args.out}.rank{rank}", args)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
