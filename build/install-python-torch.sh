#!/usr/bin/env bash
# Makes Debian's PyTorch available to the Python companion's tests (python/): python3-torch and python3-torchvision
# from apt when /usr/bin/python3 cannot import them. Does nothing when they are there or SPATIAL_PREDICTION_PYTHON
# names another interpreter.
set -euo pipefail
python="${SPATIAL_PREDICTION_PYTHON:-/usr/bin/python3}"
if "$python" -c "import torch, torchvision" 2>/dev/null; then exit 0; fi
if [[ -n ${SPATIAL_PREDICTION_PYTHON:-} ]]; then
  echo "SPATIAL_PREDICTION_PYTHON=$python cannot import torch and torchvision" >&2; exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "No apt-get: install PyTorch and TorchVision for $python, or set SPATIAL_PREDICTION_PYTHON" >&2; exit 1
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "Installing python3-torch and python3-torchvision (Debian) for the Python companion's tests..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch python3-torchvision >/dev/null
"$python" -c "import torch, torchvision; print('PyTorch', torch.__version__, 'TorchVision', torchvision.__version__)"
