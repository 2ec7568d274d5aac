"""The SP budget study on a GPU: SimCLR and DINO, each with and without SP, at several epoch budgets and seeds.

    python3 -m spatial_prediction_torch.study_data --out study.safetensors          # once, where the data is prepared
    python3 -m spatial_prediction_torch.budget_study --data study.safetensors --out results/gpu-budget \
        --backbone ResNet18 --image-size 64 --epochs 10 30 100 --seeds 1 2 3 --time-limit 540

Each run pretrains a fresh backbone (this package's SP, parity-tested against SpatialPrediction.ML), freezes it and
measures: recognition (a z-scored multinomial logistic probe, its L2 chosen by 5-fold cross-validation on the training
features), the two style shifts (the same probe on Twitter's and OpenMoji's drawings of the evaluation emoji), and
localisation (evaluation emoji pasted at random positions and sizes onto crops of the photographs; a ridge probe, its
penalty chosen by cross-validation, predicts centre and log size from the pooled features: mean R² over the three
targets and mean IoU of the predicted box, fitted on half the objects and scored on the other half).

Results go to OUT/runs.json after every run, so a stopped or time-limited call loses nothing and a second call with the
same arguments runs only what is missing; OUT/summary.md holds, per host and budget, the host's mean ± std over seeds
and SP's difference paired by seed. `--time-limit` starts no run that the slowest finished run of its budget says would
end past the limit.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from . import onednn_safety, safetensors_io
from .objectives import teacher_momentum_at
from .train import build, cosine_schedule

HOST_NAMES = {"simclr": "SimCLR", "dino": "DINO"}
METRICS = ("in style", "Twitter", "OpenMoji", "localisation R²", "localisation IoU")


def load_study(path, device):
    tensors, metadata = safetensors_io.load(path)
    required = ["train_images", "train_labels", "eval_images", "eval_labels", "objects", "photos"]
    missing = [name for name in required if name not in tensors]
    if missing:
        raise SystemExit(f"{path}: no {', '.join(missing)}; write it with 'python3 -m spatial_prediction_torch.study_data'")
    return {k: v.to(device) for k, v in tensors.items()}, metadata


def as_float(images, size):
    """Floats in [0, 1] at `size` px, from stored uint8 pictures or from floats already in [0, 1]."""
    images = images.float() / 255 if images.dtype == torch.uint8 else images
    return images if images.shape[-1] == size else F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


@torch.no_grad()
def features_of(backbone, images, size, batch=512):
    backbone.eval()
    return torch.cat([backbone(as_float(images[i:i + batch], size)) for i in range(0, images.shape[0], batch)]).float()


def standardise(fit, *others):
    mean, std = fit.mean(0), fit.std(0).clamp_min(1e-6)
    return [(x - mean) / std for x in (fit,) + others]


def held_out_masks(count, k, seed, device):
    """k boolean masks over `count` rows for k-fold cross-validation: a seeded permutation dealt out round-robin."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    masks = []
    for i in range(k):
        held = torch.zeros(count, dtype=torch.bool)
        held[order[i::k]] = True
        masks.append(held.to(device))
    return masks


def fit_logistic(x, y, classes, l2):
    weight = torch.zeros(x.shape[1], classes, device=x.device, requires_grad=True)
    bias = torch.zeros(classes, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, y) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def linear_probe(train_x, train_y, tests, classes, seed, penalties=(1e-4, 1e-3, 1e-2, 1e-1)):
    """Accuracy on each (x, y) of `tests`, the L2 penalty chosen by 5-fold cross-validation on the training features."""
    masks = held_out_masks(train_x.shape[0], 5, seed, train_x.device)

    def cross_validated(l2):
        correct = 0
        for held in masks:
            fit_x, check_x = standardise(train_x[~held], train_x[held])
            w, b = fit_logistic(fit_x, train_y[~held], classes, l2)
            correct += int(((check_x @ w + b).argmax(1) == train_y[held]).sum())
        return correct

    best = max(penalties, key=cross_validated)
    standardised = standardise(train_x, *[x for x, _ in tests])
    w, b = fit_logistic(standardised[0], train_y, classes, best)
    return [float(((x @ w + b).argmax(1) == y).float().mean()) for x, (_, y) in zip(standardised[1:], tests)]


def composites(objects, photos, per_object, size, generator):
    """Objects pasted onto random crops of random photographs: images [N, 3, S, S] in [0, 1], boxes [N, 3] (left, top, side) in px."""
    objects = objects.float() / 255
    photos = photos.float() / 255
    images, boxes = [], []
    for k in range(objects.shape[0]):
        for _ in range(per_object):
            photo = photos[int(torch.randint(photos.shape[0], (1,), generator=generator))]
            top, left = (int(torch.randint(photo.shape[1] - size + 1, (1,), generator=generator)),
                         int(torch.randint(photo.shape[2] - size + 1, (1,), generator=generator)))
            background = photo[:, top:top + size, left:left + size]
            side = max(4, round(size * (0.3 + 0.5 * float(torch.rand(1, generator=generator)))))
            x = int(torch.randint(size - side + 1, (1,), generator=generator))
            y = int(torch.randint(size - side + 1, (1,), generator=generator))
            thing = F.interpolate(objects[k:k + 1], size=(side, side), mode="bilinear", align_corners=False, antialias=True)[0].clamp(0, 1)
            picture = background.clone()
            alpha = thing[3:4]
            picture[:, y:y + side, x:x + side] = background[:, y:y + side, x:x + side] * (1 - alpha) + thing[:3] * alpha
            images.append(picture)
            boxes.append((x, y, side))
    return torch.stack(images), torch.tensor(boxes, dtype=torch.float32, device=objects.device)


def box_targets(boxes, size):
    left, top, side = boxes.unbind(1)
    return torch.stack([(left + side / 2) / size, (top + side / 2) / size, torch.log(side / size)], 1)


def iou(a, b):
    """Mean IoU of square boxes given as targets (centre x, centre y, log side), in units of the picture's side."""
    def corners(t):
        half = torch.exp(t[:, 2]) / 2
        return t[:, 0] - half, t[:, 1] - half, t[:, 0] + half, t[:, 1] + half
    ax0, ay0, ax1, ay1 = corners(a)
    bx0, by0, bx1, by1 = corners(b)
    w = (torch.minimum(ax1, bx1) - torch.maximum(ax0, bx0)).clamp_min(0)
    h = (torch.minimum(ay1, by1) - torch.maximum(ay0, by0)).clamp_min(0)
    inter = w * h
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float((inter / union.clamp_min(1e-9)).mean())


def ridge(x, y, alpha):
    eye = torch.eye(x.shape[1], device=x.device)
    return torch.linalg.solve(x.T @ x + alpha * eye, x.T @ y)


def localisation(features, targets, fit, seed, alphas=(0.1, 1.0, 10.0, 100.0, 1000.0)):
    """(mean R², mean IoU) of a ridge probe fitted on the rows in `fit` and scored on the others."""
    fit_x, check_x = standardise(features[fit], features[~fit])
    fit_x = torch.cat([fit_x, torch.ones_like(fit_x[:, :1])], 1)
    check_x = torch.cat([check_x, torch.ones_like(check_x[:, :1])], 1)
    fit_y, check_y = targets[fit], targets[~fit]
    masks = held_out_masks(fit_x.shape[0], 5, seed, fit_x.device)

    def error(alpha):
        total = 0.0
        for held in masks:
            w = ridge(fit_x[~held], fit_y[~held], alpha)
            total += float((fit_x[held] @ w - fit_y[held]).pow(2).sum())
        return total

    best = min(alphas, key=error)
    predicted = check_x @ ridge(fit_x, fit_y, best)
    residual = (predicted - check_y).pow(2).sum(0)
    spread = (check_y - check_y.mean(0)).pow(2).sum(0).clamp_min(1e-12)
    r2 = float((1 - residual / spread).mean())
    return r2, iou(predicted, check_y)


def evaluate(backbone, data, size, seed):
    classes = int(data["train_labels"].max()) + 1
    train_x = features_of(backbone, data["train_images"], size)
    tests = [(features_of(backbone, data["eval_images"], size), data["eval_labels"])]
    names = ["in style"]
    for style, name in (("twitter", "Twitter"), ("openmoji", "OpenMoji")):
        if f"{style}_images" in data:
            tests.append((features_of(backbone, data[f"{style}_images"], size), data[f"{style}_labels"]))
            names.append(name)
    metrics = dict(zip(names, linear_probe(train_x, data["train_labels"], tests, classes, seed)))
    generator = torch.Generator().manual_seed(seed)
    objects = data["objects"]
    images, boxes = composites(objects, data["photos"], 2, size, generator)
    fit = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
    fit[: objects.shape[0] // 2 * 2] = True  # the composites of the first half of the objects fit, the rest score
    features = features_of(backbone, images, size)
    metrics["localisation R²"], metrics["localisation IoU"] = localisation(features, box_targets(boxes, size), fit, seed)
    return metrics


def pretrain(data, host, spatial, epochs, seed, args, device):
    """A fresh backbone trained with `host` (± SP) for `epochs` on the study's training pictures, as train.py trains."""
    torch.manual_seed(seed)
    settings = argparse.Namespace(backbone=args.backbone, width=args.width, patch_size=8, image_size=args.image_size, init=None, host=host,
                                  local_crops=4, no_spatial=not spatial, local_resolution=args.local_resolution, detail_resolution=0,
                                  spatial_weight=None)
    model = build(settings).to(device)
    images = as_float(data["train_images"], args.image_size)
    steps_per_epoch = images.shape[0] // args.batch_size
    total = epochs * steps_per_epoch
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.learning_rate, weight_decay=1e-4)
    warmup = round(0.1 * total)
    model.train()
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed * 100003 + epoch))
        for position in range(steps_per_epoch):
            indices = order[position * args.batch_size:(position + 1) * args.batch_size]
            batch = images[indices.to(images.device)]
            rngs = [random.Random(f"{seed}:{epoch}:{int(i)}") for i in indices]
            host_views = model.host.make_views(batch, rngs)
            spatial_views = model.spatial.make_views(batch, rngs) if model.spatial is not None else None
            for group in optimizer.param_groups:
                group["lr"] = cosine_schedule(args.learning_rate, total, warmup, step)
            optimizer.zero_grad(set_to_none=True)
            loss, _, _ = model(host_views, spatial_views)
            if not bool(torch.isfinite(loss)):
                raise SystemExit(f"{host}{' + SP' if spatial else ''}, {epochs} epochs, seed {seed}: loss {loss.item()} at step {step + 1}")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 3.0)
            optimizer.step()
            if model.host.teacher_momentum is not None:
                model.host.update_teacher(model.backbone, teacher_momentum_at(model.host.teacher_momentum, step, total))
            step += 1
    return model.backbone


def run_key(host, spatial, epochs, seed):
    return f"{host}|{'sp' if spatial else 'host'}|{epochs}|{seed}"


def summary(runs, settings):
    lines = [f"# SP budget study ({settings})", "",
             "Mean ± std over seeds; Δ = host + SP − host, paired by seed. n: the seeds both arms finished.", ""]
    by_key = {r["key"]: r for r in runs}
    for host in HOST_NAMES:
        budgets = sorted({r["epochs"] for r in runs if r["host"] == host})
        if not budgets:
            continue
        header = "| metric | " + " | ".join(f"{HOST_NAMES[host]} {e} ep | Δ SP (n)" for e in budgets) + " |"
        lines += [header, "|---|" + "---|---|" * len(budgets)]
        for metric in METRICS:
            cells = []
            for epochs in budgets:
                seeds = sorted({r["seed"] for r in runs if r["host"] == host and r["epochs"] == epochs})
                alone = [by_key[k]["metrics"][metric] for s in seeds if (k := run_key(host, False, epochs, s)) in by_key and metric in by_key[k]["metrics"]]
                pairs = [by_key[run_key(host, True, epochs, s)]["metrics"][metric] - by_key[run_key(host, False, epochs, s)]["metrics"][metric]
                         for s in seeds if run_key(host, True, epochs, s) in by_key and run_key(host, False, epochs, s) in by_key
                         and metric in by_key[run_key(host, True, epochs, s)]["metrics"]]
                cells.append(spread(alone))
                cells.append(f"{spread(pairs, signed=True)} ({len(pairs)})" if pairs else "–")
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def spread(values, signed=False):
    if not values:
        return "–"
    mean = statistics.fmean(values)
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text + (f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else "")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="spatial_prediction_torch.budget_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="safetensors written by spatial_prediction_torch.study_data")
    parser.add_argument("--out", required=True, help="folder for runs.json and summary.md (finished runs are kept)")
    parser.add_argument("--hosts", nargs="+", default=["simclr", "dino"], choices=sorted(HOST_NAMES))
    parser.add_argument("--epochs", nargs="+", type=int, default=[10, 30, 100])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--backbone", default="ResNet18")
    parser.add_argument("--width", type=int, default=32, help="SmallResNet base width")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--local-resolution", type=int, default=32, help="SP's view side")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--time-limit", type=float, default=None, help="seconds: start no run expected to end after this")
    args = parser.parse_args(argv)
    onednn_safety.apply(torch)
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no CUDA device")
    device = torch.device("cuda" if use_cuda else "cpu")
    if use_cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    data, metadata = load_study(args.data, device)
    if data["train_images"].shape[0] < args.batch_size:
        raise SystemExit(f"{data['train_images'].shape[0]} training pictures are fewer than one batch of {args.batch_size}")
    os.makedirs(args.out, exist_ok=True)
    runs_path = os.path.join(args.out, "runs.json")
    settings = (f"{args.backbone}, {args.image_size} px, batch {args.batch_size}, lr {args.learning_rate}, split {metadata.get('split', '?')}, "
                f"{device.type}{' ' + torch.cuda.get_device_name(device) if use_cuda else ''}")
    runs = []
    if os.path.exists(runs_path):
        with open(runs_path, encoding="utf-8") as file:
            saved = json.load(file)
        if saved.get("settings") != settings:
            raise SystemExit(f"{runs_path} holds runs of other settings ({saved.get('settings')}); use another --out")
        runs = saved["runs"]
    done = {r["key"] for r in runs}
    started = time.time()
    slowest = {}
    plan = [(seed, epochs, host, spatial) for seed in args.seeds for epochs in args.epochs for host in args.hosts for spatial in (False, True)]
    for seed, epochs, host, spatial in plan:
        key = run_key(host, spatial, epochs, seed)
        if key in done:
            continue
        expected = slowest.get(epochs, 0.0)
        if args.time_limit is not None and time.time() - started + expected > args.time_limit:
            print(f"time limit: {key} not started (a run of {epochs} epochs took up to {expected:.0f} s)", flush=True)
            continue
        clock = time.time()
        backbone = pretrain(data, host, spatial, epochs, seed, args, device)
        trained = time.time() - clock
        metrics = evaluate(backbone, data, args.image_size, seed)
        seconds = time.time() - clock
        slowest[epochs] = max(slowest.get(epochs, 0.0), seconds)
        runs.append({"key": key, "host": host, "sp": spatial, "epochs": epochs, "seed": seed,
                     "training_seconds": round(trained, 1), "seconds": round(seconds, 1), "metrics": metrics})
        with open(runs_path + ".tmp", "w", encoding="utf-8") as file:
            json.dump({"settings": settings, "runs": runs}, file, indent=1)
        os.replace(runs_path + ".tmp", runs_path)
        print(f"{key}: {seconds:.0f} s, " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()), flush=True)
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as file:
        file.write(summary(runs, settings) + "\n")
    print(summary(runs, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
