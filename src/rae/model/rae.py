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


@keras.saving.register_keras_serializable(package="rae")
class TrainingInputMask(layers.Layer):
    """Masked-input training: zero the masked pixels of a random share of each batch.

    Active only while training (inference, and every metric, sees the input
    unchanged), and the loss still scores the whole image, so the model learns to
    fill in what it cannot see. A change of training, never the default.
    """

    def __init__(self, mask, probability: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, dtype=bool)
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        hidden = keras.random.uniform((ops.shape(x)[0], 1), seed=self.seed_generator) < self.probability
        visible = ops.convert_to_tensor(~self.mask, dtype=x.dtype)
        return ops.where(hidden, x * visible, x)

    def get_config(self):
        return {**super().get_config(), "mask": self.mask.tolist(), "probability": self.probability,
                "seed": self.seed}


def build_autoencoder(
    config: ModelConfig, seed: int, *, input_mask: np.ndarray | None = None, input_mask_probability: float = 0.5
) -> keras.Model:
    """decoder(encoder(x)); the two halves stay separate models, reachable by name.

    `input_mask` (bool, True = hidden) turns on masked-input training (`TrainingInputMask`).
    """
    # Each initializer and dropout layer gets its own integer seed (equal seeds
    # would give equal matrices), all derived from `seed` alone.
    rng = np.random.default_rng(seed)

    def next_seed() -> int:
        return int(rng.integers(2**31 - 1))

    encoder = build_encoder(config, next_seed)
    decoder = build_decoder(config, next_seed)
    inputs = keras.Input(shape=(config.input_dim,), name="x")
    x = inputs
    if input_mask is not None:
        x = TrainingInputMask(input_mask, input_mask_probability, seed=next_seed(), name="training_input_mask")(x)
    return keras.Model(inputs, decoder(encoder(x)), name="rae")


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    return autoencoder.get_layer(ENCODER_NAME)


def decoder_of(autoencoder: keras.Model) -> keras.Model:
    return autoencoder.get_layer(DECODER_NAME)
