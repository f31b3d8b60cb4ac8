"""Assignment 6 — training on a GPU, correctly (torch).

The lesson
----------
Why did deep learning take off around 2012–2013? Bigger data, and good libraries for
matrix arithmetic on **GPUs**. A network's forward and backward passes are mostly
matrix multiplications: thousands of independent multiply-adds that a GPU's
thousands of simple cores run at once, where a CPU has a handful of complex ones.
Using a GPU well takes a few habits this assignment practises.

* **Devices.** A tensor lives on one device (``cpu``, ``cuda``, ``mps``); an operation
  needs all its tensors on the same one. Pick the device once (``get_device``), move
  the model there once, and move each batch as it is used (``move_to``).
* **Host-to-device copies** cross the PCIe bus, which is far slower than the GPU's own
  memory: copy each batch once, never shuttle tensors back and forth inside the loop
  (``loss.item()`` is such a copy — and a synchronisation — so take it once per batch).
* **Pinned memory.** Ordinary (pageable) host memory must be staged through a
  page-locked buffer before the GPU can read it. A DataLoader with
  ``pin_memory=True`` puts batches in page-locked memory directly, which makes the
  copy faster and lets ``tensor.to(device, non_blocking=True)`` overlap it with compute.
* **Asynchrony and timing.** CUDA calls return as soon as the work is *queued*. A
  timer read right after them measures how fast Python queues kernels, not how fast
  the GPU runs them: call ``torch.cuda.synchronize()`` before reading the clock.
* **Train and eval modes.** ``model.train()`` turns dropout (and batch-norm statistics)
  on, ``model.eval()`` turns them off; evaluation also runs under ``torch.no_grad()``
  so no graph is kept. A function that evaluates must restore the mode it found.
* **Mixed precision (AMP), and when it pays.** ``torch.autocast`` runs matrix
  multiplications in float16 or bfloat16 on the tensor cores and keeps reductions such
  as the loss in float32. float16 has a small range, so small gradients underflow to
  zero: a ``torch.amp.GradScaler`` multiplies the loss before backward and divides the
  gradients before the step. bfloat16 has float32's range and needs no scaler. AMP is
  not free speed: it adds cast kernels around every matmul (and the scaler its own
  checks), and it only helps where the matmuls are what takes the time. Measured on an
  H200 with ``measure_throughput``: this course's 784-1024-1024-10 MLP at batch 512
  trains at 294k samples/s in float32, but 201k with float16 autocast and 247k with
  bfloat16 — *slower*: its matrices are so small that a step's time goes to launching
  kernels (it is launch-bound), and AMP launches more of them. A 4096-wide MLP at
  batch 4096 is compute-bound, and there float16 gains 5.6× and bfloat16 7.3×; TF32
  alone (``torch.backends.cuda.matmul.allow_tf32 = True``: float32 storage, tensor-core
  matmuls) already gains 4.7×. So: measure first; reach for AMP when the layers are
  wide and the batches large (or when half-size activations let a bigger batch fit in
  memory), not by habit.
* **Reproducibility.** Seed python, numpy and torch (CPU and CUDA) before building a
  model; give the shuffling loader its own seeded ``torch.Generator``.

The contract
------------
float32 data: x float32 (N, D), y int64 class labels (N,), numpy arrays or tensors.
``device`` arguments accept a ``torch.device`` or a string such as "cpu" or "cuda".
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader


def get_device(prefer: str = "auto") -> torch.device:
    """The device to train on.

    prefer="auto": ``cuda`` if ``torch.cuda.is_available()``, else ``mps`` if
    ``torch.backends.mps.is_available()``, else ``cpu``.
    prefer="cpu", "cuda" or "mps": that device — but raise ValueError (naming the device)
    when it is not available here. Any other string is a ValueError too.
    """
    raise NotImplementedError


def move_to(obj, device):
    """Move every tensor inside ``obj`` to ``device`` (``tensor.to(device)``).

    obj may be a tensor, or dicts, lists and tuples nested to any depth; containers
    are rebuilt with the same type (a dict stays a dict, a tuple a tuple) and the same
    keys and order. Other leaves (numbers, strings, None, numpy arrays) are returned
    unchanged. ``obj`` itself is not modified: new containers are returned.
    """
    raise NotImplementedError


def set_seed(seed: int) -> None:
    """Seed every random number generator training uses:
    ``random.seed(seed)``, ``np.random.seed(seed)``, ``torch.manual_seed(seed)`` and
    ``torch.cuda.manual_seed_all(seed)`` (harmless without CUDA)."""
    raise NotImplementedError


def make_loaders(x, y, batch_size: int, val_fraction: float = 0.2, seed: int = 0,
                 pin_memory: bool | None = None) -> tuple[DataLoader, DataLoader]:
    """Split (x, y) into a training and a validation DataLoader.

    x: (N, D) float32, y: (N,) int64 — numpy arrays or tensors; the loaders yield
    ``(xb, yb)`` batches of float32 and int64 tensors.
    * n_val = ``round(N·val_fraction)`` samples go to validation, chosen by seed:
      ``perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed))``,
      validation = ``perm[:n_val]``, training = the rest.
    * The training loader shuffles with its own ``torch.Generator().manual_seed(seed)``
      (same seed → same batches in the same order); the validation loader does not shuffle.
    * Both use ``batch_size`` and keep the last, smaller batch.
    * pin_memory=None means: pin when CUDA is available (``torch.cuda.is_available()``).
    Returns (train_loader, val_loader).
    """
    raise NotImplementedError


def train(model: nn.Module, train_loader, val_loader, *, epochs: int, lr: float, device,
          amp=False, seed: int = 0) -> dict[str, list[float]]:
    """Train a classifier with Adam and cross-entropy on ``device``; returns its history.

    1. ``set_seed(seed)``; move the model to device; ``torch.optim.Adam(model.parameters(),
       lr=lr)``; ``nn.CrossEntropyLoss()``.
    2. Each epoch: ``model.train()``; for each (xb, yb) of train_loader: move the batch to
       device (``non_blocking=True``), zero the gradients, forward, backward, step.
       Then ``evaluate(model, val_loader, device)``.
    3. history = {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, one float per
       epoch; train_loss is the epoch's mean loss per training sample.

    amp (on CUDA only; ignored on other devices):
      False                          float32 throughout;
      True or torch.float16          forward and loss under ``torch.autocast("cuda",
                                     dtype=torch.float16)``, with a ``torch.amp.GradScaler``;
      torch.bfloat16                 autocast with bfloat16, no scaler.
    The model ends on device.
    """
    raise NotImplementedError


def evaluate(model: nn.Module, loader, device) -> tuple[float, float]:
    """Mean cross-entropy per sample and accuracy over the whole loader.

    Moves the model and each batch to device; runs in eval mode and under
    ``torch.no_grad()``; the model is back in its previous mode (train or eval) on return.
    Both results are Python floats; the loss is summed over every sample and divided by
    the number of samples (batches of different sizes count by their size).
    """
    raise NotImplementedError


def measure_throughput(model: nn.Module, batch_size: int, in_dim: int, device, steps: int = 50,
                       warmup: int = 5, amp=False) -> float:
    """Training samples per second of ``model`` on ``device``.

    Random inputs ``torch.randn(batch_size, in_dim)`` and random labels in [0, C), C the
    number of model outputs, made on device once. ``warmup`` untimed training steps (Adam,
    cross-entropy, the amp options of ``train``) let CUDA pick kernels and allocate memory;
    then ``steps`` timed steps. On CUDA call ``torch.cuda.synchronize()`` before starting
    and before stopping the clock (``time.perf_counter()``). Returns
    ``steps·batch_size / elapsed seconds``. The model ends on device in train mode.

    This is how to find out whether AMP pays for a model: compare amp=False with
    amp=torch.float16 and amp=torch.bfloat16 (small models are launch-bound and get
    slower; wide layers with large batches get several times faster).
    """
    raise NotImplementedError
