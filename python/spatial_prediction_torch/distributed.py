"""What a multi-process run needs beyond DistributedDataParallel's gradient averaging, on CPU (gloo) as on GPUs.

- `gather`: all ranks' rows with the gradient routed back (SimCLR's negatives come from the global batch).
- `all_reduce_sum`: a differentiable sum over ranks.
- `GlobalBatchNorm`: batch statistics over the global batch, so N ranks of B/N images train like one process of B;
  PyTorch 1.13's SyncBatchNorm refuses CPU tensors, so this one is built on the two collectives above.
"""

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank():
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


class _Gather(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        parts = [torch.zeros_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return tuple(parts)

    @staticmethod
    def backward(ctx, *grads):
        # Every rank computed the same global loss from the gathered rows, so each row's gradient is the sum over ranks.
        stacked = torch.stack(grads).contiguous()
        dist.all_reduce(stacked)
        return stacked[dist.get_rank()]


class _AllReduceSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        total = x.clone().contiguous()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad):
        total = grad.clone().contiguous()
        dist.all_reduce(total)
        return total


def gather(x):
    """Rows of every rank, concatenated in rank order; `x` itself in a single process."""
    return x if world_size() == 1 else torch.cat(_Gather.apply(x), 0)


def all_reduce_sum(x):
    return x if world_size() == 1 else _AllReduceSum.apply(x)


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics cover every rank's batch (same names and buffers as nn.BatchNorm*)."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input (got {x.dim()}-D)")

    def forward(self, x):
        if not self.training or world_size() == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                self.training or self.running_mean is None, self.momentum, self.eps)
        dims = [0] + list(range(2, x.dim()))
        count = x.numel() // x.shape[1] * world_size()
        mean = all_reduce_sum(x.sum(dims)) / count
        shape = [1, -1] + [1] * (x.dim() - 2)
        centred = x - mean.reshape(shape)
        var = all_reduce_sum((centred * centred).sum(dims)) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                self.running_mean.mul_(1 - self.momentum).add_(mean.detach() * self.momentum)
                self.running_var.mul_(1 - self.momentum).add_(var.detach() * (count / max(count - 1, 1)) * self.momentum)
        y = centred / torch.sqrt(var.reshape(shape) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def convert_batch_norm(module):
    """Replaces every BatchNorm1d/2d in `module` by a GlobalBatchNorm holding the same parameters and statistics."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)) and not isinstance(child, GlobalBatchNorm):
            replacement = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats,
                                          device=child.running_mean.device if child.running_mean is not None else None)
            replacement.load_state_dict(child.state_dict())
            replacement.train(child.training)
            for p_new, p_old in zip(replacement.parameters(), child.parameters()):
                p_new.requires_grad_(p_old.requires_grad)
            setattr(module, name, replacement)
        else:
            convert_batch_norm(child)
    return module
