import keras
import numpy as np
import pytest

from rae.config import ModelConfig
from rae.model import build_autoencoder, summed_bce
from rae.model.rae import decoder_of, encoder_of


def dense_params(n_in, n_out):
    return n_in * n_out + n_out


def batchnorm_params(n):
    return 4 * n  # gamma, beta and the two moving statistics


@pytest.fixture(scope="module")
def model():
    return build_autoencoder(ModelConfig(decoder_l2=1e-3, init_stddev=0.05), seed=0)


def test_parameter_count_matches_the_protocol(model):
    # 784-360-360-20 and its mirror, a BatchNorm after each hidden ReLU.
    encoder = dense_params(784, 360) + batchnorm_params(360) + dense_params(360, 360) + batchnorm_params(360) \
        + dense_params(360, 20)
    decoder = dense_params(20, 360) + batchnorm_params(360) + dense_params(360, 360) + batchnorm_params(360) \
        + dense_params(360, 784)
    assert encoder_of(model).count_params() == encoder
    assert decoder_of(model).count_params() == decoder
    assert model.count_params() == encoder + decoder


def _structure(submodel):
    out = []
    for layer in submodel.layers[1:]:
        if isinstance(layer, keras.layers.Dense):
            out.append(("dense", layer.units, layer.activation.__name__))
        elif isinstance(layer, keras.layers.BatchNormalization):
            out.append(("bn",))
        elif isinstance(layer, keras.layers.Dropout):
            out.append(("dropout", layer.rate))
        else:
            out.append((type(layer).__name__,))
    return out


def test_layer_order_is_dense_relu_batchnorm_dropout(model):
    block = lambda units: [("dense", units, "relu"), ("bn",), ("dropout", 0.2)]  # noqa: E731
    assert _structure(encoder_of(model)) == block(360) + block(360) + [("dense", 20, "sigmoid")]
    assert _structure(decoder_of(model)) == block(360) + block(360) + [("dense", 784, "sigmoid")]


def test_only_the_decoder_kernels_carry_l2(model):
    for layer in encoder_of(model).layers:
        assert getattr(layer, "kernel_regularizer", None) is None
    kernels = []
    for layer in decoder_of(model).layers:
        if isinstance(layer, keras.layers.Dense):
            assert layer.kernel_regularizer is not None
            assert layer.bias_regularizer is None
            kernels.append(np.asarray(layer.kernel))
    model(np.zeros((1, 784), "float32"))
    expected = 1e-3 * sum(float(np.sum(k.astype(np.float64) ** 2)) for k in kernels)
    assert float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses)) == pytest.approx(expected, rel=1e-5)


def test_no_l2_means_no_penalty():
    model = build_autoencoder(ModelConfig(decoder_l2=0.0), seed=0)
    model(np.zeros((1, 784), "float32"))
    assert len(model.losses) == 0


def test_init_is_gaussian_with_the_configured_scale_and_seeded():
    a = build_autoencoder(ModelConfig(init_stddev=0.1), seed=3)
    b = build_autoencoder(ModelConfig(init_stddev=0.1), seed=3)
    c = build_autoencoder(ModelConfig(init_stddev=0.1), seed=4)
    kernel = np.asarray(encoder_of(a).get_layer("encoder_hidden1_dense").kernel)
    assert kernel.std() == pytest.approx(0.1, rel=0.02)
    assert abs(kernel.mean()) < 0.005
    # Layers of equal shape must not share a draw.
    second = np.asarray(decoder_of(a).get_layer("decoder_hidden2_dense").kernel)
    first = np.asarray(encoder_of(a).get_layer("encoder_hidden2_dense").kernel)
    assert not np.allclose(first, second)
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()) if wa.std() > 0)


def test_latent_is_in_the_unit_interval_and_inference_is_deterministic(model):
    x = (np.random.default_rng(0).random((64, 784)) > 0.5).astype("float32")
    z = keras.ops.convert_to_numpy(encoder_of(model)(x, training=False))
    assert z.shape == (64, 20) and np.all((z > 0) & (z < 1))
    once = keras.ops.convert_to_numpy(model(x, training=False))
    twice = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_array_equal(once, twice)
    dropped = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(once, dropped)


def test_summed_bce_is_the_sum_over_pixels():
    rng = np.random.default_rng(1)
    x = (rng.random((4, 784)) > 0.5).astype("float32")
    p = rng.uniform(0.01, 0.99, (4, 784)).astype("float32")
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(summed_bce(x, p)), expected, rtol=1e-4)


def test_masked_input_training_hides_the_mask_only_while_training(tmp_path):
    from rae.evaluation.masks import right_half_mask
    from rae.model.rae import TrainingInputMask

    mask = right_half_mask()
    layer = TrainingInputMask(mask, probability=0.5, seed=0)
    x = np.ones((400, 784), dtype="float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    hidden = out[:, mask].sum(axis=1) == 0
    np.testing.assert_array_equal(out[:, ~mask], 1.0)  # observed pixels always pass
    assert np.all(out[~hidden][:, mask] == 1.0)  # an image is either fully masked or untouched
    assert 0.35 < hidden.mean() < 0.65

    model = build_autoencoder(ModelConfig(), seed=0, input_mask=mask, input_mask_probability=0.5)
    path = tmp_path / "masked.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(loaded.get_layer("training_input_mask").mask, mask)
    probe = (np.random.default_rng(0).random((8, 784)) > 0.5).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(probe, training=False)),
                               keras.ops.convert_to_numpy(model(probe, training=False)), rtol=1e-6)
