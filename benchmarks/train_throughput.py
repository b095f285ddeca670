"""Training throughput of the seed's RAE against this machine's float32 matmul speed.

    KERAS_BACKEND=tensorflow python benchmarks/train_throughput.py
    KERAS_BACKEND=jax        python benchmarks/train_throughput.py

Prints the median samples/s of several epochs after a warm-up epoch (MNIST,
58,000 training images, batch 200), the machine's float32 GEMM GFLOP/s measured
in the same run at the model's own layer shapes, and the fraction of that peak
the training step achieves. Compare only figures printed by the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rae.config import Config  # noqa: E402
from rae.data import load_splits  # noqa: E402
from rae.training import train  # noqa: E402


def model_flops_per_sample(config: Config) -> float:
    """Multiply-adds of the Dense layers, x2 for FLOPs, x3 for forward + backward."""
    sizes = (config.model.input_dim, *config.model.hidden_units, config.model.latent_dim,
             *reversed(config.model.hidden_units), config.model.input_dim)
    forward = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 3.0 * forward


def matmul_gflops(config: Config, batch: int, repeats: int = 200) -> float:
    """float32 GEMM GFLOP/s of numpy's BLAS at the model's (batch x in) @ (in x out) shapes."""
    sizes = (config.model.input_dim, *config.model.hidden_units, config.model.latent_dim,
             *reversed(config.model.hidden_units), config.model.input_dim)
    rng = np.random.default_rng(0)
    pairs = [(rng.random((batch, a), dtype=np.float32), rng.random((a, b), dtype=np.float32))
             for a, b in zip(sizes[:-1], sizes[1:])]
    flops = sum(2 * batch * a.shape[1] * b.shape[1] for a, b in pairs)
    for a, b in pairs:  # warm-up
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in pairs:
            a @ b
    return flops * repeats / (time.perf_counter() - start) / 1e9


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs including the warm-up epoch")
    parser.add_argument("--steps-per-execution", type=int, default=1)
    args = parser.parse_args()

    config = Config().replace(**{"train.epochs": args.epochs, "train.steps_per_execution": args.steps_per_execution})
    splits = load_splits("mnist", seed=0)
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as tmp:
        train(config, f"{tmp}/run", quiet=True, splits=splits, callbacks=[timer])

    epoch_s = statistics.median(timer.seconds[1:])
    samples_per_s = len(splits.train.x) / epoch_s
    achieved = samples_per_s * model_flops_per_sample(config) / 1e9
    peak = matmul_gflops(config, config.train.batch_size)
    print(f"backend                 {keras.backend.backend()}")
    print(f"steps_per_execution     {args.steps_per_execution}")
    print(f"epoch times (s)         {', '.join(f'{s:.2f}' for s in timer.seconds)} (first is warm-up)")
    print(f"train samples/s         {samples_per_s:,.0f}")
    print(f"model GFLOP/s           {achieved:.1f} ({model_flops_per_sample(config) / 1e6:.2f} MFLOP/sample/step)")
    print(f"matmul GFLOP/s (numpy)  {peak:.1f} (float32, batch {config.train.batch_size}, the model's shapes)")
    print(f"fraction of matmul peak {achieved / peak:.2f}")


if __name__ == "__main__":
    main()
