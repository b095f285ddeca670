"""The machine's own limit for the RAE's training step: float32 GEMM at the model's shapes.

Shared by the training benchmarks so that every process measures its own
matmul GFLOP/s right after its own training run (this machine's speed drifts
by 10-20% from minute to minute, so a peak measured elsewhere is no reference).
"""

from __future__ import annotations

import time

import numpy as np

from rae.config import ModelConfig


def layer_sizes(model: ModelConfig) -> tuple[int, ...]:
    return (model.input_dim, *model.hidden_units, model.latent_dim, *reversed(model.hidden_units), model.input_dim)


def model_flops_per_sample(model: ModelConfig) -> float:
    """FLOPs of the Dense layers per training sample: 2 per multiply-add, x3 for forward + backward."""
    sizes = layer_sizes(model)
    return 3.0 * sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_gflops(model: ModelConfig, batch: int, seconds: float = 2.0) -> float:
    """numpy's float32 GEMM GFLOP/s over the model's (batch x in) @ (in x out) products, run for `seconds`."""
    sizes = layer_sizes(model)
    rng = np.random.default_rng(0)
    pairs = [(rng.random((batch, a), dtype=np.float32), rng.random((a, b), dtype=np.float32))
             for a, b in zip(sizes[:-1], sizes[1:])]
    flops_per_pass = sum(2 * batch * a.shape[1] * b.shape[1] for a, b in pairs)
    for a, b in pairs:  # warm-up
        a @ b
    passes, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a, b in pairs:
            a @ b
        passes += 1
    return flops_per_pass * passes / (time.perf_counter() - start) / 1e9
