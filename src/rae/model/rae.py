"""Encoder 784-360-360-20 and its mirrored decoder (`../shared/PROTOCOL.md`).

Only `keras.*` APIs are used, so the same code trains on the TensorFlow and the
JAX backends.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import layers, ops

from rae.config import ModelConfig

ENCODER_NAME = "encoder"
DECODER_NAME = "decoder"


@keras.saving.register_keras_serializable(package="rae")
def summed_bce(x, x_hat):
    """BCE summed over pixels: Keras then averages it over the batch."""
    return ops.sum(ops.binary_crossentropy(x, x_hat), axis=-1)


def _hidden_block(x, units: int, config: ModelConfig, next_seed: Callable[[], int], name: str, l2):
    x = layers.Dense(
        units,
        activation="relu",
        kernel_initializer=keras.initializers.RandomNormal(stddev=config.init_stddev, seed=next_seed()),
        kernel_regularizer=l2,
        name=f"{name}_dense",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Dropout(config.dropout, seed=next_seed(), name=f"{name}_dropout")(x)


def _mlp(config: ModelConfig, sizes: tuple[int, ...], activation: str, name: str, next_seed, l2) -> keras.Model:
    inputs = keras.Input(shape=(sizes[0],), name=f"{name}_input")
    x = inputs
    for i, units in enumerate(sizes[1:-1], start=1):
        x = _hidden_block(x, units, config, next_seed, f"{name}_hidden{i}", l2)
    outputs = layers.Dense(
        sizes[-1],
        activation=activation,
        kernel_initializer=keras.initializers.RandomNormal(stddev=config.init_stddev, seed=next_seed()),
        kernel_regularizer=l2,
        name=f"{name}_out",
    )(x)
    return keras.Model(inputs, outputs, name=name)


def build_encoder(config: ModelConfig, next_seed: Callable[[], int]) -> keras.Model:
    """x (784) -> z (20); the encoder carries no weight penalty."""
    sizes = (config.input_dim, *config.hidden_units, config.latent_dim)
    return _mlp(config, sizes, config.latent_activation, ENCODER_NAME, next_seed, l2=None)


def build_decoder(config: ModelConfig, next_seed: Callable[[], int]) -> keras.Model:
    """z (20) -> Bernoulli means x_hat (784); every decoder kernel carries the L2 penalty."""
    sizes = (config.latent_dim, *reversed(config.hidden_units), config.input_dim)
    l2 = keras.regularizers.L2(config.decoder_l2) if config.decoder_l2 > 0 else None
    return _mlp(config, sizes, "sigmoid", DECODER_NAME, next_seed, l2=l2)


def build_autoencoder(config: ModelConfig, seed: int) -> keras.Model:
    """decoder(encoder(x)); the two halves stay separate models, reachable by name."""
    # Each initializer and dropout layer gets its own integer seed (equal seeds
    # would give equal matrices), all derived from `seed` alone.
    rng = np.random.default_rng(seed)

    def next_seed() -> int:
        return int(rng.integers(2**31 - 1))

    encoder = build_encoder(config, next_seed)
    decoder = build_decoder(config, next_seed)
    inputs = keras.Input(shape=(config.input_dim,), name="x")
    return keras.Model(inputs, decoder(encoder(inputs)), name="rae")


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    return autoencoder.get_layer(ENCODER_NAME)


def decoder_of(autoencoder: keras.Model) -> keras.Model:
    return autoencoder.get_layer(DECODER_NAME)
