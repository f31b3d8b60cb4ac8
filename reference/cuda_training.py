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

import random
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer: str = "auto") -> torch.device:
    """The device to train on.

    prefer="auto": ``cuda`` if ``torch.cuda.is_available()``, else ``mps`` if
    ``torch.backends.mps.is_available()``, else ``cpu``.
    prefer="cpu", "cuda" or "mps": that device — but raise ValueError (naming the device)
    when it is not available here. Any other string is a ValueError too.
    """
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": _mps_available(),
        "cpu": True,
    }
    if prefer == "auto":
        return torch.device(next(name for name, ok in available.items() if ok))
    if prefer not in available:
        raise ValueError(f"unknown device {prefer!r}; choose auto, cpu, cuda or mps")
    if not available[prefer]:
        raise ValueError(f"device {prefer!r} is not available on this machine")
    return torch.device(prefer)


def move_to(obj, device):
    """Move every tensor inside ``obj`` to ``device`` (``tensor.to(device)``).

    obj may be a tensor, or dicts, lists and tuples nested to any depth; containers
    are rebuilt with the same type (a dict stays a dict, a tuple a tuple) and the same
    keys and order. Other leaves (numbers, strings, None, numpy arrays) are returned
    unchanged. ``obj`` itself is not modified: new containers are returned.
    """
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((key, move_to(value, device)) for key, value in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(move_to(item, device) for item in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(item, device) for item in obj)
    return obj


def set_seed(seed: int) -> None:
    """Seed every random number generator training uses:
    ``random.seed(seed)``, ``np.random.seed(seed)``, ``torch.manual_seed(seed)`` and
    ``torch.cuda.manual_seed_all(seed)`` (harmless without CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


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
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.int64)
    n_val = round(len(x) * val_fraction)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()  # page-locked batches copy faster to the GPU
    train_loader = DataLoader(TensorDataset(x[train_idx], y[train_idx]), batch_size=batch_size,
                              shuffle=True, generator=torch.Generator().manual_seed(seed),
                              pin_memory=pin_memory)
    val_loader = DataLoader(TensorDataset(x[val_idx], y[val_idx]), batch_size=batch_size,
                            shuffle=False, pin_memory=pin_memory)
    return train_loader, val_loader


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
    set_seed(seed)
    device = torch.device(device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    amp_dtype = _amp_dtype(amp, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        total = torch.zeros((), device=device)  # summed on device: one sync per epoch
        count = 0
        for xb, yb in train_loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            loss = _amp_step(model, xb, yb, loss_fn, optimizer, scaler, amp_dtype)
            total += loss.detach() * len(yb)
            count += len(yb)
        val_loss, val_acc = evaluate(model, val_loader, device)
        history["train_loss"].append(total.item() / max(count, 1))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


def evaluate(model: nn.Module, loader, device) -> tuple[float, float]:
    """Mean cross-entropy per sample and accuracy over the whole loader.

    Moves the model and each batch to device; runs in eval mode and under
    ``torch.no_grad()``; the model is back in its previous mode (train or eval) on return.
    Both results are Python floats; the loss is summed over every sample and divided by
    the number of samples (batches of different sizes count by their size).
    """
    device = torch.device(device)
    model.to(device)
    was_training = model.training
    model.eval()  # dropout off
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    try:
        with torch.no_grad():  # no graph: evaluation needs no gradients
            for xb, yb in loader:
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                logits = model(xb)
                total_loss += nn.functional.cross_entropy(logits.float(), yb, reduction="sum")
                correct += (logits.argmax(dim=1) == yb).sum()
                count += len(yb)
    finally:
        model.train(was_training)
    count = max(count, 1)
    return total_loss.item() / count, correct.item() / count


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
    device = torch.device(device)
    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    amp_dtype = _amp_dtype(amp, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    x = torch.randn(batch_size, in_dim, device=device)
    with torch.no_grad():
        num_classes = model(x).shape[1]
    y = torch.randint(0, num_classes, (batch_size,), device=device)
    for _ in range(warmup):
        _amp_step(model, x, y, loss_fn, optimizer, scaler, amp_dtype)
    _synchronize(device)  # the warm-up must be finished before the clock starts
    start = time.perf_counter()
    for _ in range(steps):
        _amp_step(model, x, y, loss_fn, optimizer, scaler, amp_dtype)
    _synchronize(device)  # kernels are queued asynchronously: wait until they ran
    elapsed = time.perf_counter() - start
    return steps * batch_size / elapsed


# ---------------------------------------------------------------- pieces shared by train and timing


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _amp_dtype(amp, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for float32: AMP only on CUDA."""
    if device.type != "cuda" or amp is False or amp is None:
        return None
    if amp is True or amp == torch.float16:
        return torch.float16
    if amp == torch.bfloat16:
        return torch.bfloat16
    raise ValueError(f"amp must be False, True, torch.float16 or torch.bfloat16, not {amp!r}")


def _amp_step(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, loss_fn, optimizer,
              scaler: torch.amp.GradScaler, amp_dtype: torch.dtype | None) -> torch.Tensor:
    """One training step, under autocast when amp_dtype is set; returns the loss tensor."""
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=amp_dtype or torch.float16, enabled=amp_dtype is not None):
        loss = loss_fn(model(xb), yb)  # autocast keeps the loss itself in float32
    scaler.scale(loss).backward()  # float16: scale up so small gradients do not underflow
    scaler.step(optimizer)  # unscales first; skips the step if a gradient overflowed
    scaler.update()
    return loss


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
