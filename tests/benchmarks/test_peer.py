"""The hand-written JAX step is a fair yardstick only if it computes the same model as `rae`."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rae.config import ModelConfig
from rae.model import build_autoencoder, summed_bce
from rae.model.rae import decoder_of, encoder_of
from tests.benchmarks.conftest import load_script

jax = pytest.importorskip("jax")


def peer_params_from(autoencoder: keras.Model):
    """The Keras model's weights in the peer's layout: one dict per Dense layer, BatchNorm folded in."""
    params = []
    for half in (encoder_of(autoencoder), decoder_of(autoencoder)):
        for layer in half.layers:
            if isinstance(layer, keras.layers.Dense):
                params.append({"w": np.asarray(layer.kernel), "b": np.asarray(layer.bias)})
            elif isinstance(layer, keras.layers.BatchNormalization):
                params[-1].update(gamma=np.asarray(layer.gamma), beta=np.asarray(layer.beta))
    return params


def test_peer_computes_the_rae_forward_pass_and_loss(monkeypatch):
    peer = load_script("peers/jax_train_step.py")
    monkeypatch.setattr(peer, "DROPOUT", 0.0)  # dropout masks cannot match across frameworks
    config = ModelConfig(dropout=0.0)
    autoencoder = build_autoencoder(config, seed=3)
    # Trained-looking BatchNorm parameters, so a swapped gamma/beta would show.
    for layer in autoencoder._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.gamma.assign(np.linspace(0.5, 1.5, layer.gamma.shape[0]).astype("float32"))
            layer.beta.assign(np.linspace(-0.2, 0.2, layer.beta.shape[0]).astype("float32"))
    x = (np.random.default_rng(0).random((64, 784)) < 0.3).astype("float32")

    keras_p = keras.ops.convert_to_numpy(autoencoder(x, training=True))
    params = peer_params_from(autoencoder)
    assert len(params) == len(peer.SIZES) - 1
    logits, _ = peer.forward(params, x, jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.asarray(jax.nn.sigmoid(logits)), keras_p, rtol=1e-4, atol=1e-5)

    keras_loss = float(np.mean(keras.ops.convert_to_numpy(summed_bce(x, keras_p)))) + float(
        sum(keras.ops.convert_to_numpy(loss) for loss in autoencoder.losses))
    peer_loss, _ = peer.loss_fn(params, x, jax.random.PRNGKey(0))
    assert float(peer_loss) == pytest.approx(keras_loss, rel=1e-4)
