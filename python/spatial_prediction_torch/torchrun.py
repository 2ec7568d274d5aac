"""`torchrun`, fixed for Debian 12: PyTorch 1.13's launcher parses `--redirects`/`--tee` (default "0") by iterating its
`Std` flag enum, and Python 3.11 no longer yields the zero and multi-bit members, so every launch fails with
"'NoneType' object has no attribute 'get'". This entry point parses them by value and then runs torchrun unchanged:

    python3 -m spatial_prediction_torch.torchrun --nproc_per_node=2 -m spatial_prediction_torch.train ...

Newer PyTorch has no such problem; plain `torchrun` works there.
"""

import re
import sys

from torch.distributed.elastic.multiprocessing import api
from torch.distributed.run import main


def _from_str(vm):
    if re.fullmatch(r"\d", vm):
        return api.Std(int(vm))
    if re.fullmatch(r"(\d:\d,)*\d:\d", vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm!r} is neither a digit nor a mapping such as 0:1,1:2")


api.Std.from_str = classmethod(lambda cls, vm: _from_str(vm))

if __name__ == "__main__":
    sys.exit(main())
