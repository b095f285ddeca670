"""The yardstick for training speed: the seed's RAE as one hand-written, jitted JAX step.

Same model and optimizer as `rae` (784-360-360-20 with Dense -> ReLU -> BatchNorm ->
Dropout 0.2, sigmoid latent, mirrored decoder, summed BCE + L2 on decoder kernels,
BatchNorm moving statistics, SGD with momentum 0.9, per-epoch exponential LR decay and
global-norm clipping at 5.0, batch 200), with no framework between the step and XLA.

The training images live on the device; each epoch is shuffled there once, and each
step is one dispatch of one jitted function that slices its own batch and folds the
step number into its dropout key. `--scan` instead compiles the whole epoch into one
`lax.scan`, which removes the per-step dispatch too: the most this machine can do
with XLA, not a fair peer of a step-per-call trainer.

    python benchmarks/peers/jax_train_step.py [--epochs 4] [--scan] [--json]

It is a speed reference only: it does not checkpoint or validate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from machine_peak import matmul_gflops, model_flops_per_sample  # noqa: E402
from rae.config import ModelConfig  # noqa: E402
from rae.data import load_splits  # noqa: E402

SIZES = (784, 360, 360, 20, 360, 360, 784)
LINEAR_LAYERS = (2, 5)  # the latent and output layers: no ReLU, BatchNorm or dropout
DECODER_LAYERS = (3, 4, 5)
BATCH = 200
DROPOUT = 0.2
MOMENTUM = 0.9
CLIP = 5.0
LR = 0.01
LR_DECAY_PER_EPOCH = 0.95
L2 = 1e-4
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99


def init_params(key):
    params, bn_stats = [], []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        key, sub = jax.random.split(key)
        layer = {"w": 0.05 * jax.random.normal(sub, (n_in, n_out)), "b": jnp.zeros(n_out)}
        stats = {}
        if i not in LINEAR_LAYERS:
            layer.update(gamma=jnp.ones(n_out), beta=jnp.zeros(n_out))
            stats = {"mean": jnp.zeros(n_out), "var": jnp.ones(n_out)}
        params.append(layer)
        bn_stats.append(stats)
    return params, bn_stats


def forward(params, x, key):
    """Logits of the output layer and each BatchNorm's batch statistics."""
    h, batch_stats = x, []
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i in LINEAR_LAYERS:
            h = jax.nn.sigmoid(h) if i == 2 else h
            batch_stats.append({})
            continue
        h = jax.nn.relu(h)
        mean, var = h.mean(0), h.var(0)
        batch_stats.append({"mean": mean, "var": var})
        h = layer["gamma"] * (h - mean) * jax.lax.rsqrt(var + BN_EPSILON) + layer["beta"]
        key, sub = jax.random.split(key)
        h = jnp.where(jax.random.bernoulli(sub, 1 - DROPOUT, h.shape), h / (1 - DROPOUT), 0.0)
    return h, batch_stats


def loss_fn(params, x, key):
    logits, batch_stats = forward(params, x, key)
    bce = jnp.sum(jnp.logaddexp(0.0, logits) - x * logits, axis=1).mean()
    return bce + L2 * sum(jnp.sum(params[i]["w"] ** 2) for i in DECODER_LAYERS), batch_stats


def sgd_update(state, x, key):
    params, velocity, bn_stats, iteration = state
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, key)
    norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads)))
    scale = jnp.minimum(1.0, CLIP / jnp.maximum(norm, 1e-12))
    steps_per_epoch = 58_000 // BATCH
    lr = LR * LR_DECAY_PER_EPOCH ** (iteration / steps_per_epoch)
    velocity = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v - lr * scale * g, velocity, grads)
    params = jax.tree_util.tree_map(lambda p, v: p + v, params, velocity)
    bn_stats = jax.tree_util.tree_map(lambda s, b: BN_MOMENTUM * s + (1 - BN_MOMENTUM) * b, bn_stats, batch_stats)
    return (params, velocity, bn_stats, iteration + 1), loss


@partial(jax.jit, donate_argnums=0)
def train_step(state, x_epoch, step, key):
    batch = jax.lax.dynamic_index_in_dim(x_epoch, step, keepdims=False)
    return sgd_update(state, batch, jax.random.fold_in(key, step))


@partial(jax.jit, donate_argnums=0)
def train_epoch(state, x_epoch, key):
    steps = jnp.arange(x_epoch.shape[0])
    return jax.lax.scan(lambda s, step: sgd_update(s, x_epoch[step], jax.random.fold_in(key, step)), state, steps)


@jax.jit
def shuffled_batches(x, order):
    return x[order].reshape(-1, BATCH, x.shape[1])


class PeerTrainer:
    """The hand-written step over one training set, an epoch per call, so that
    `benchmarks/train_throughput.py` can alternate it with Keras in one process."""

    def __init__(self, x: np.ndarray, *, seed: int = 0, scan: bool = False) -> None:
        self.x = jnp.asarray(x)
        self.steps = len(self.x) // BATCH
        self.key = jax.random.PRNGKey(seed)
        params, bn_stats = init_params(self.key)
        self.state = (params, jax.tree_util.tree_map(jnp.zeros_like, params), bn_stats, jnp.zeros((), jnp.int32))
        self.rng = np.random.default_rng(seed)
        self.scan = scan
        self.epoch = 0

    def run_epoch(self) -> float:
        """Train one epoch; return its wall time in seconds."""
        start = time.perf_counter()
        x_epoch = shuffled_batches(self.x, jnp.asarray(self.rng.permutation(len(self.x))[: self.steps * BATCH]))
        epoch_key = jax.random.fold_in(self.key, self.epoch)
        if self.scan:
            self.state, _ = train_epoch(self.state, x_epoch, epoch_key)
        else:
            for step in range(self.steps):
                self.state, _ = train_step(self.state, x_epoch, step, epoch_key)
        jax.block_until_ready(self.state)
        self.epoch += 1
        return time.perf_counter() - start

    @property
    def samples_per_epoch(self) -> int:
        return self.steps * BATCH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs including the warm-up epoch")
    parser.add_argument("--scan", action="store_true", help="one lax.scan per epoch instead of one call per step")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    trainer = PeerTrainer(load_splits("mnist", seed=0).train.x, scan=args.scan)
    seconds = [trainer.run_epoch() for _ in range(args.epochs)]
    samples_per_s = trainer.samples_per_epoch / statistics.median(seconds[1:])
    model = ModelConfig()
    figures = {"samples_per_s": samples_per_s, "epoch_s": seconds,
               "model_gflops": samples_per_s * model_flops_per_sample(model) / 1e9,
               "matmul_gflops": matmul_gflops(model, BATCH)}
    if args.json:
        print(json.dumps(figures))
        return
    label = "hand-written JAX epoch scan" if args.scan else "hand-written JAX step"
    print(f"{label}: epoch times (s) {', '.join(f'{s:.2f}' for s in seconds)} (first is warm-up)")
    print(f"{label}: {samples_per_s:,.0f} samples/s, {figures['model_gflops']:.1f} GFLOP/s "
          f"against numpy's {figures['matmul_gflops']:.1f} GFLOP/s matmul")


if __name__ == "__main__":
    main()
