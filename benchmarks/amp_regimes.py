"""When mixed precision pays: training throughput in float32, TF32, float16 and bfloat16
autocast, for a launch-bound and a compute-bound MLP (the GPU part of the cuda_training lesson).

    .venv/bin/python benchmarks/amp_regimes.py
    .venv/bin/python benchmarks/amp_regimes.py --steps 100 --repeat 5

Two regimes, timed with the reference's measure_throughput (Adam, cross-entropy, the amp
options of `train`; synchronised before and after the clock):

* the course's MLP, 784-1024-1024-10 at batch 512: each matmul finishes in microseconds, the
  step's time is kernel launches, and autocast adds cast kernels — AMP is slower;
* a 4096-wide MLP, 4096-4096-4096-10 at batch 4096: the matmuls are the time, and the tensor
  cores (TF32, float16, bfloat16) are several times faster.

Prints the median samples/s of --repeat runs per precision and the speed-up over float32.
Without CUDA there is nothing to measure: it says so and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REGIMES = {  # name: (widths, batch size)
    "course MLP 784-1024-1024-10, batch 512 (launch-bound)": ([784, 1024, 1024, 10], 512),
    "wide MLP 4096-4096-4096-10, batch 4096 (compute-bound)": ([4096, 4096, 4096, 10], 4096),
}


def _mlp(widths: list[int]):
    from torch import nn

    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("CUDA is not available here: no GPU regimes to measure (AMP only runs on CUDA)")
        return 0
    from reference.cuda_training import measure_throughput

    precisions = {"float32": (False, False), "tf32": (False, True),
                  "float16 autocast": (torch.float16, False),
                  "bfloat16 autocast": (torch.bfloat16, False)}
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}; median of {args.repeat} "
          f"runs of {args.steps} steps after {args.warmup} warm-up steps")
    tf32_before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        for regime, (widths, batch) in REGIMES.items():
            print(f"\n{regime}")
            base = None
            for name, (amp, tf32) in precisions.items():
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
                rates = []
                for run in range(args.repeat):
                    torch.manual_seed(run)
                    model = _mlp(widths)
                    rates.append(measure_throughput(model, batch, widths[0], "cuda", steps=args.steps,
                                                    warmup=args.warmup, amp=amp))
                    del model
                    torch.cuda.empty_cache()
                rate = statistics.median(rates)
                base = base or rate
                print(f"  {name:18s} {rate / 1e3:9.1f}k samples/s   {rate / base:5.2f}× float32")
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32_before
    return 0


if __name__ == "__main__":
    sys.exit(main())
