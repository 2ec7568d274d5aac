#!/usr/bin/env bash
# The test suite: Debian's PyTorch for the Python companion's parity and DDP tests when missing, then every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/install-python-torch.sh
dotnet test -c Release "$@"
