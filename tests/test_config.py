import json

import pytest

from rae.config import Config, parse_override
from rae.errors import ConfigError


def test_defaults_are_the_protocol():
    config = Config()
    assert config.model.hidden_units == (360, 360)
    assert config.model.latent_dim == 20
    assert config.model.dropout == 0.2
    assert config.model.latent_activation == "sigmoid"
    assert config.train.batch_size == 200
    assert config.train.epochs == 50
    assert config.train.clip_global_norm == 5.0
    assert config.eval.mask == "right-half"
    assert config.eval.gmm_components == 75
    assert config.eval.gmm_covariance == "full"
    assert config.eval.num_samples == 5000
    assert config.data.validation_per_class == 200


def test_round_trips_through_json():
    config = Config().replace(**{"seed": 7, "train.epochs": 3, "model.hidden_units": [100, 50], "eval.gmm_subset": 18000})
    again = Config.from_dict(json.loads(config.to_json()))
    assert again == config
    assert again.model.hidden_units == (100, 50)


def test_reads_toml_and_json_files(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('seed = 3\n[train]\nlearning_rate = 0.05\n[data]\ndataset = "fashion-mnist"\n')
    config = Config.from_file(toml)
    assert (config.seed, config.train.learning_rate, config.data.dataset) == (3, 0.05, "fashion-mnist")
    js = tmp_path / "c.json"
    js.write_text(config.to_json())
    assert Config.from_file(js) == config


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("train.learning_rate", 0, "learning_rate must be a positive"),
        ("train.learning_rate", -0.1, "learning_rate must be a positive"),
        ("train.epochs", 0, "epochs must be a positive"),
        ("train.batch_size", -5, "batch_size must be a positive"),
        ("train.epochs", 2.5, "epochs must be of type int"),
        ("model.dropout", 1.0, "dropout must be in [0, 1)"),
        ("model.latent_activation", "tanh", "latent_activation must be one of"),
        ("eval.gmm_covariance", "banana", "gmm_covariance must be one of"),
        ("eval.num_samples", 0, "num_samples must be a positive"),
        ("train.lr_decay_per_epoch", 1.5, "lr_decay_per_epoch must be in (0, 1]"),
        ("seed", -1, "seed must be a non-negative"),
        ("train.nonsense", 1, "unknown config key"),
        ("nonsense.key", 1, "unknown config key"),
    ],
)
def test_nonsensical_values_are_rejected_in_one_line(key, value, words):
    with pytest.raises(ConfigError) as info:
        Config().replace(**{key: value})
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_config_file_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = ")
    with pytest.raises(ConfigError, match="not valid toml"):
        Config.from_file(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        Config.from_file(tmp_path / "missing.json")


def test_parse_override_reads_json_values():
    assert parse_override("train.learning_rate=0.5") == ("train.learning_rate", 0.5)
    assert parse_override("data.dataset=kmnist") == ("data.dataset", "kmnist")
    assert parse_override("eval.gmm_subset=null") == ("eval.gmm_subset", None)
    with pytest.raises(ConfigError):
        parse_override("no-equals-sign")
