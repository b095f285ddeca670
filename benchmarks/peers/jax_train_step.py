"""The yardstick for training speed: the seed's RAE as one hand-written, jitted JAX step.

Same model and optimizer as `rae` (784-360-360-20 with Dense -> ReLU -> BatchNorm ->
Dropout 0.2, sigmoid latent, mirrored decoder, summed BCE + L2 on decoder kernels,
SGD with momentum 0.9 and global-norm clipping at 5.0, batch 200), with no framework
between the step and XLA. Prints the median samples/s of the epochs after a warm-up:

    python benchmarks/peers/jax_train_step.py [--epochs 4]

It is a speed reference only: it does not checkpoint, validate or decay the LR.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from rae.data import load_splits

SIZES = (784, 360, 360, 20, 360, 360, 784)
BATCH = 200
DROPOUT = 0.2
MOMENTUM = 0.9
CLIP = 5.0
LR = 0.01
L2 = 1e-4
BN_EPS = 1e-3


def init_params(key):
    params = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        key, sub = jax.random.split(key)
        layer = {"w": 0.05 * jax.random.normal(sub, (n_in, n_out)), "b": jnp.zeros(n_out)}
        if i not in (2, 5):  # hidden layers carry BatchNorm
            layer.update(gamma=jnp.ones(n_out), beta=jnp.zeros(n_out))
        params.append(layer)
    return params


def forward(params, x, key):
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i in (2, 5):
            h = jax.nn.sigmoid(h) if i == 2 else h
            continue
        h = jax.nn.relu(h)
        mean, var = h.mean(0), h.var(0)
        h = layer["gamma"] * (h - mean) / jnp.sqrt(var + BN_EPS) + layer["beta"]
        key, sub = jax.random.split(key)
        h = jnp.where(jax.random.bernoulli(sub, 1 - DROPOUT, h.shape), h / (1 - DROPOUT), 0.0)
    return h  # logits of the output layer


def loss_fn(params, x, key):
    logits = forward(params, x, key)
    bce = jnp.sum(jnp.logaddexp(0.0, logits) - x * logits, axis=1).mean()
    return bce + L2 * sum(jnp.sum(layer["w"] ** 2) for layer in params[3:])


@jax.jit
def train_step(params, velocity, x, key):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, key)
    norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads)))
    scale = jnp.minimum(1.0, CLIP / (norm + 1e-12))
    velocity = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v - LR * scale * g, velocity, grads)
    params = jax.tree_util.tree_map(lambda p, v: p + v, params, velocity)
    return params, velocity, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs including the warm-up epoch")
    args = parser.parse_args()
    x = jnp.asarray(load_splits("mnist", seed=0).train.x)
    steps = len(x) // BATCH
    key = jax.random.PRNGKey(0)
    params = init_params(key)
    velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(args.epochs):
        order = jnp.asarray(rng.permutation(len(x)))
        start = time.perf_counter()
        for step in range(steps):
            key, sub = jax.random.split(key)
            batch = x[order[step * BATCH:(step + 1) * BATCH]]
            params, velocity, loss = train_step(params, velocity, batch, sub)
        loss.block_until_ready()
        seconds.append(time.perf_counter() - start)
    print(f"hand-written JAX step: epoch times (s) {', '.join(f'{s:.2f}' for s in seconds)} (first is warm-up)")
    print(f"hand-written JAX step: {steps * BATCH / statistics.median(seconds[1:]):,.0f} samples/s")


if __name__ == "__main__":
    main()
