"""Config files and dicts (config.py) and OffPolicyConfig validation (train/off_policy.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from actorcritic import ALGOS
from actorcritic.algos.ddpg import DDPGConfig
from actorcritic.algos.settings import OffPolicyConfig
from actorcritic.core.config import config_from_dict, config_to_dict, load_config_file
from actorcritic.errors import UserError

CUSTOM = DDPGConfig(
    num_envs=4,
    buffer_size=5000,
    batch_size=64,
    n_step=3,
    gamma=0.98,
    tau=0.01,
    hidden_sizes=(64, 32, 16),
    activation="tanh",
    noise="ou",
    noise_min_sigma=0.05,
    max_grad_norm=1.0,
    target_return=-150.0,
    critic_loss="huber",
)

# --------------------------------------------------------------------------- dict round trip


def test_ddpg_config_is_an_off_policy_config():
    assert issubclass(DDPGConfig, OffPolicyConfig)
    assert {f.name for f in dataclasses.fields(OffPolicyConfig)} <= {f.name for f in dataclasses.fields(DDPGConfig)}


@pytest.mark.parametrize("config", [DDPGConfig(), CUSTOM], ids=["defaults", "custom"])
def test_config_to_dict_from_dict_round_trip(config):
    data = config_to_dict(config)
    assert set(data) == {f.name for f in dataclasses.fields(DDPGConfig)}
    assert data["hidden_sizes"] == list(config.hidden_sizes)  # tuples become lists
    assert isinstance(data["hidden_sizes"], list)
    for f in dataclasses.fields(config):
        if not isinstance(getattr(config, f.name), tuple):
            assert data[f.name] == getattr(config, f.name), f.name
    back = config_from_dict(DDPGConfig, data)
    assert back == config
    assert isinstance(back.hidden_sizes, tuple)
    # JSON-ready: survives a text round trip.
    assert config_from_dict(DDPGConfig, json.loads(json.dumps(data))) == config


def test_config_from_partial_dict_uses_defaults():
    cfg = config_from_dict(DDPGConfig, {"tau": 0.5, "hidden_sizes": [8]})
    assert cfg == dataclasses.replace(DDPGConfig(), tau=0.5, hidden_sizes=(8,))


def test_unknown_keys_are_user_errors_naming_them():
    with pytest.raises(UserError, match=r"bogus.*tua|tua.*bogus") as info:
        config_from_dict(DDPGConfig, {"tua": 0.1, "bogus": 1, "tau": 0.2}, source="my.toml")
    assert "my.toml" in str(info.value)


def test_invalid_values_from_a_dict_are_user_errors():
    with pytest.raises(UserError, match="tau"):
        config_from_dict(DDPGConfig, {"tau": 2.0})


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("tau", "abc", "tau must be a number, got 'abc'"),
        ("batch_size", 32.5, "batch_size must be an int, got 32.5"),
        ("batch_size", True, "batch_size must be an int, got True"),
        ("hidden_sizes", ["a", 8], "hidden_sizes must be a list of ints"),
        ("hidden_sizes", 64, "hidden_sizes must be a list of ints, got 64"),
        ("hidden_sizes", None, "hidden_sizes must be a list of ints, got None"),
        ("critic_loss", "l1", "critic_loss must be one of 'mse', 'huber', got 'l1'"),
        ("noise_clip", "x", "noise_clip must be a number or None, got 'x'"),
    ],
)
def test_a_value_of_the_wrong_type_is_named_with_the_type_wanted(key, value, said):
    """Not Python's "'<' not supported between instances of 'int' and 'str'" from a check that compares it."""
    with pytest.raises(UserError, match="bad value in the sweep's settings") as info:
        config_from_dict(DDPGConfig, {key: value}, source="the sweep's settings")
    assert said in str(info.value)


def test_whole_floats_are_ints_where_a_field_is_an_int_and_stay_floats_elsewhere():
    """TOML and JSON read 1e5 as a float; a float field's 0.0 stays a float (an int would make tensors of ints)."""
    cfg = config_from_dict(DDPGConfig, {"buffer_size": 1e5, "ou_mu": 0.0, "reward_scale": 2.0})
    assert cfg.buffer_size == 100_000 and isinstance(cfg.buffer_size, int)
    assert isinstance(cfg.ou_mu, float) and isinstance(cfg.reward_scale, float)


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_every_algorithm_s_defaults_go_through_a_dict(algo):
    cls = ALGOS[algo].config_cls
    assert config_from_dict(cls, json.loads(json.dumps(config_to_dict(cls())))) == cls()


# --------------------------------------------------------------------------- files


SETTINGS = {"tau": 0.02, "batch_size": 32, "hidden_sizes": [64, 64], "noise": "ou", "gamma": 0.95}


def test_load_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('tau = 0.02\nbatch_size = 32\nhidden_sizes = [64, 64]\nnoise = "ou"\ngamma = 0.95\n')
    assert load_config_file(path) == SETTINGS


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_load_yaml(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    path.write_text("tau: 0.02\nbatch_size: 32\nhidden_sizes: [64, 64]\nnoise: ou\ngamma: 0.95\n")
    assert load_config_file(path) == SETTINGS


def test_load_json(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(SETTINGS, indent=2))
    assert load_config_file(path) == SETTINGS


def test_file_to_config(tmp_path):
    """The three formats give the same config, equal to the one built directly."""
    want = dataclasses.replace(DDPGConfig(), tau=0.02, batch_size=32, hidden_sizes=(64, 64), noise="ou", gamma=0.95)
    (tmp_path / "a.json").write_text(json.dumps(SETTINGS))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(SETTINGS))
    (tmp_path / "a.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in SETTINGS.items()))
    for name in ("a.json", "a.yaml", "a.toml"):
        assert config_from_dict(DDPGConfig, load_config_file(tmp_path / name)) == want, name


def test_empty_yaml_is_an_empty_mapping(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n")
    assert load_config_file(path) == {}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.toml", "tau = \n"),
        ("bad2.toml", "[section\nx = 1\n"),
        ("bad.yaml", "tau: [0.1, 0.2\n"),
        ("bad2.yaml", "a: b: c\n"),
        ("bad.json", '{"tau": 0.1,}'),
        ("bad2.json", "{tau: 0.1}"),
    ],
)
def test_malformed_files_are_user_errors(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError, match="malformed") as info:
        load_config_file(path)
    assert "\n" not in str(info.value)  # one line for the CLI


def test_yaml_python_tags_are_refused(tmp_path):
    """safe_load: a YAML config cannot construct Python objects."""
    path = tmp_path / "evil.yaml"
    path.write_text("tau: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(UserError, match="malformed"):
        load_config_file(path)


@pytest.mark.parametrize(
    ("name", "text"),
    [("list.yaml", "- 1\n- 2\n"), ("scalar.yaml", "just a string\n"), ("list.json", "[1, 2]")],
)
def test_non_mapping_files_are_user_errors(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError, match="mapping"):
        load_config_file(path)


@pytest.mark.parametrize("name", ["c.ini", "c.txt", "config"])
def test_wrong_suffix_is_a_user_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("tau = 0.1\n")
    with pytest.raises(UserError, match=r"\.toml"):
        load_config_file(path)


def test_missing_file_or_directory_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_config_file(tmp_path / "missing.toml")
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(UserError, match="not found"):
        load_config_file(tmp_path / "dir.toml")


def test_non_utf8_file_is_a_malformed_user_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("activation: relu  # café\n".encode("latin-1"))
    with pytest.raises(UserError, match="malformed"):
        load_config_file(path)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "changes",
    [
        {"tau": 0.0},
        {"tau": 1.5},
        {"tau": -0.1},
        {"actor_lr": -1e-3},
        {"actor_lr": 0.0},
        {"critic_lr": -1e-4},
        {"critic_lr": 0.0},
        {"batch_size": 101, "buffer_size": 100},
        {"gamma": 1.1},
        {"gamma": -0.1},
        {"n_step": 0},
        {"num_envs": 0},
        {"target_update_period": 0},
        {"learning_starts": -1},
        {"noise_sigma": -0.1},
        {"max_grad_norm": 0.0},
        {"hidden_sizes": ()},
        {"hidden_sizes": (64, 0)},
    ],
)
def test_invalid_configs_are_user_errors(changes):
    with pytest.raises(UserError):
        DDPGConfig(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"tau": 1.0},  # a hard copy is allowed
        {"tau": 1e-6},
        {"batch_size": 100, "buffer_size": 100},
        {"gamma": 0.0},
        {"gamma": 1.0},
        {"learning_starts": 0},
        {"max_grad_norm": 0.5},
        {"hidden_sizes": (1,)},
    ],
)
def test_valid_edge_configs_are_accepted(changes):
    cfg = DDPGConfig(**changes)
    for k, v in changes.items():
        assert getattr(cfg, k) == v


def test_error_message_names_the_field():
    with pytest.raises(UserError, match="tau"):
        DDPGConfig(tau=0)
    with pytest.raises(UserError, match="critic_lr"):
        DDPGConfig(critic_lr=-1.0)
    with pytest.raises(UserError, match=r"batch_size.*buffer_size"):
        DDPGConfig(batch_size=512, buffer_size=256)
