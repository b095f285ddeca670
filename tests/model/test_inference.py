"""InferenceModel: the metrics' view of the RAE, in inference mode and in fixed-size chunks."""

from __future__ import annotations

import keras
import numpy as np

from rae.config import ModelConfig
from rae.model import build_autoencoder
from rae.model.inference import InferenceModel, predict_in_chunks


def test_chunked_prediction_equals_one_inference_mode_call_over_uneven_chunks():
    autoencoder = build_autoencoder(ModelConfig(), seed=0)
    model = InferenceModel.from_autoencoder(autoencoder)
    x = (np.random.default_rng(0).random((2500, 784)) < 0.3).astype(np.float32)
    expected_z = keras.ops.convert_to_numpy(model.encoder(x, training=False))
    z = predict_in_chunks(model.encoder, x, batch_size=1000)  # chunks of 1000, 1000, 500
    assert z.shape == (2500, 20) and z.dtype == np.float32
    np.testing.assert_allclose(z, expected_z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.reconstruct(x), keras.ops.convert_to_numpy(autoencoder(x, training=False)),
                               rtol=1e-5, atol=1e-6)
    # Dropout is off: the same input always gives the same code.
    np.testing.assert_array_equal(model.encode(x[:7]), model.encode(x[:7]))


def test_no_images_give_an_empty_array_of_the_output_width():
    model = InferenceModel.from_autoencoder(build_autoencoder(ModelConfig(), seed=0))
    assert model.encode(np.zeros((0, 784), np.float32)).shape == (0, 20)
    assert model.decode(np.zeros((0, 20), np.float32)).shape == (0, 784)
