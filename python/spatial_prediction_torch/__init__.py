"""Spatial Prediction (SP) pretraining on PyTorch, with the same definition as SpatialPrediction.ML.

Modules, one idea each:
  safetensors_io  the weights format shared with the .NET library
  boxes           view boxes, samplers, SP's relative-box targets and their standardisation
  views           cropping boxes out of images and the photometric augmentation
  backbones       SmallResNet, ResNet-18/50 (TorchVision), ViT-Tiny/Small, with the .NET library's weight names
  heads           projector, SP head and DINO head
  objectives      SP plug-in, SimCLR and DINO hosts and their losses
  onednn_safety   the oneDNN safe mode for processors whose CPUID hides the cache sizes
  distributed     collectives with gradients and a batch norm over all ranks (CPU/gloo included)
  train           the torchrun / DistributedDataParallel training script
  study_data      the emoji and photographs of the budget study packed into one file
  budget_study    the SP budget study (SimCLR and DINO ± SP, several budgets and seeds) on a GPU
"""

__version__ = "0.1.0"
