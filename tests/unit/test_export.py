"""export_policy: a standalone file that acts exactly as agent.act, for every algorithm and both formats."""

import json
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from actorcritic import (
    A2C,
    A3C,
    ALGOS,
    DDPG,
    PPO,
    REINFORCE,
    SAC,
    TD3,
    A2CConfig,
    A3CConfig,
    DDPGConfig,
    PPOConfig,
    REINFORCEConfig,
    SACConfig,
    TD3Config,
)
from actorcritic.errors import UserError
from actorcritic.runtime.export import ONNX_EXTRA, export_policy

# torch 2.13 deprecates TorchScript (torch.jit); the files it writes still load.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")

SMALL = {"hidden_sizes": (16, 16), "eval_episodes": 1, "eval_interval": 0}
OFF = {**SMALL, "learning_starts": 50, "batch_size": 32, "buffer_size": 1000}

# Each trains a few hundred steps, enough that every weight (and PPO's normaliser) has moved.
AGENTS = {
    "ddpg": lambda: DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0),
    "td3": lambda: TD3("Pendulum-v1", TD3Config(**OFF), seed=0),
    "sac": lambda: SAC("Pendulum-v1", SACConfig(**OFF), seed=0),
    "reinforce": lambda: REINFORCE("CartPole-v1", REINFORCEConfig(**SMALL, num_envs=2, episodes_per_update=2), seed=0),
    "a2c": lambda: A2C("CartPole-v1", A2CConfig(**SMALL, num_envs=2), seed=0),
    "a3c": lambda: A3C("CartPole-v1", A3CConfig(**SMALL, num_workers=1), seed=0),
    "ppo": lambda: PPO(
        "Pendulum-v1", PPOConfig(**SMALL, num_envs=2, num_steps=50, num_minibatches=2, normalize_obs=True), seed=0
    ),
}


def observations(agent, n: int = 37) -> np.ndarray:
    """Real observations (an episode's start under random actions), typical random ones, and extreme
    ones (beyond the normaliser's clip and the action bounds)."""
    rng = np.random.default_rng(1)
    env = gym.make(agent.env_id)
    real = [env.reset(seed=1)[0]]
    env.action_space.seed(1)
    for _ in range(9):
        real.append(env.step(env.action_space.sample())[0])
    env.close()
    typical = rng.normal(size=(n - len(real) - 5, agent.obs_dim))
    extreme = 100 * rng.normal(size=(5, agent.obs_dim))
    return np.concatenate([np.stack(real), typical, extreme]).astype(np.float32)


def expected_actions(agent, obs: np.ndarray, member: int = 0) -> np.ndarray:
    if agent.num_members == 1:
        return agent.act(obs)
    return agent.act(np.repeat(obs[None], agent.num_members, axis=0))[member]


def needs_onnx() -> None:
    """Writing ONNX needs onnx and onnxscript (the [export] extra); running it here, onnxruntime."""
    for module in ("onnx", "onnxscript", "onnxruntime"):
        pytest.importorskip(module)


def run_onnx(path, obs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["obs"]
    assert [o.name for o in session.get_outputs()] == ["action"]
    return session.run(None, {"obs": obs})[0]


def run_torchscript(path, obs: np.ndarray) -> np.ndarray:
    return torch.jit.load(str(path))(torch.as_tensor(obs)).numpy()


def assert_acts_like(agent, got: np.ndarray, obs: np.ndarray, member: int = 0) -> None:
    expected = expected_actions(agent, obs, member)
    if agent.scaler is None:  # Discrete: indices
        assert got.dtype == np.int64 and got.shape == (len(obs),)
        np.testing.assert_array_equal(got, expected)
    else:
        assert got.dtype == np.float32 and got.shape == (len(obs), agent.action_dim)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
        assert np.all(got >= agent.scaler.low) and np.all(got <= agent.scaler.high)


def test_every_algorithm_is_covered():
    assert set(AGENTS) == set(ALGOS)


@pytest.mark.parametrize("algo", list(AGENTS))
def test_exported_policy_acts_like_the_agent(tmp_path, algo):
    needs_onnx()
    agent = AGENTS[algo]().learn(300)
    try:
        assert agent.num_updates > 0
        onnx_path = export_policy(agent, tmp_path / "policy.onnx", "onnx")
        ts_path = export_policy(agent, tmp_path / "policy.pt", "torchscript")
        assert sorted(tmp_path.iterdir()) == sorted([onnx_path, ts_path])  # no temp files left behind
        obs = observations(agent)
        distinct = len(np.unique(expected_actions(agent, obs)))  # a constant policy would make a weak test
        assert distinct == agent.action_dim if agent.scaler is None else distinct > 10  # every discrete action occurs
        for batch in (obs, obs[:1], obs[:3]):  # traced with 8 observations; any batch size runs
            assert_acts_like(agent, run_onnx(onnx_path, batch), batch)
            assert_acts_like(agent, run_torchscript(ts_path, batch), batch)
        if algo == "ppo":  # the normaliser is baked in: the raw policy network alone would act differently
            assert agent.obs_normalizer is not None and agent.obs_normalizer.rms.count > 300
            with torch.no_grad():
                raw = agent.learner.model.act(torch.as_tensor(obs), deterministic=True).numpy()
            assert not np.allclose(agent.scaler.to_env(raw), run_torchscript(ts_path, obs), atol=1e-3)
    finally:
        agent.close()


def test_seed_group_exports_one_member(tmp_path):
    needs_onnx()
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=[0, 1]).learn(300)
    obs = observations(agent)
    first, second = expected_actions(agent, obs, 0), expected_actions(agent, obs, 1)
    assert not np.allclose(first, second, atol=1e-3)  # the members differ, so the right one must be chosen
    assert_acts_like(agent, run_onnx(export_policy(agent, tmp_path / "m0.onnx", "onnx"), obs), obs, member=0)
    assert_acts_like(agent, run_torchscript(export_policy(agent, tmp_path / "m0.pt", "torchscript"), obs), obs, 0)
    member1 = export_policy(agent, tmp_path / "m1.pt", "torchscript", member=1)
    assert_acts_like(agent, run_torchscript(member1, obs), obs, member=1)
    scripted = torch.jit.load(str(member1))
    assert all(p.shape[0] == 1 for p in scripted.parameters())  # one member's weights only
    with pytest.raises(UserError, match="member"):
        export_policy(agent, tmp_path / "m2.pt", "torchscript", member=2)
    agent.close()


def test_files_describe_the_policy(tmp_path):
    needs_onnx()
    import onnx

    agent = PPO("CartPole-v1", PPOConfig(**SMALL, num_envs=1, num_steps=16, normalize_obs=True), seed=5)
    onnx_path = export_policy(agent, tmp_path / "policy.onnx", "onnx")
    model = onnx.load(str(onnx_path))
    assert model.opset_import[0].version >= 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # a dynamic batch axis
    meta = json.loads({p.key: p.value for p in model.metadata_props}["actorcritic"])
    assert meta["algo"] == "ppo" and meta["env"] == "CartPole-v1" and meta["seed"] == 5
    assert meta["action"] == {"type": "Discrete", "n": 2, "dtype": "int64", "shape": ["batch"]}
    assert meta["obs"] == {"dtype": "float32", "shape": ["batch", 4]} and meta["normalize_obs"] is True

    ts_path = export_policy(agent, tmp_path / "policy.pt", "torchscript")
    extra = {"actorcritic.json": ""}
    torch.jit.load(str(ts_path), _extra_files=extra)
    assert json.loads(extra["actorcritic.json"]) == meta


def test_existing_file_is_never_overwritten(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    path = tmp_path / "policy.pt"
    path.write_text("keep me")
    with pytest.raises(UserError, match="already exists"):
        export_policy(agent, path, "torchscript")
    assert path.read_text() == "keep me"
    assert list(tmp_path.iterdir()) == [path]


def test_unknown_format_is_a_user_error(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    with pytest.raises(UserError, match="unknown export format 'tflite'"):
        export_policy(agent, tmp_path / "policy.tflite", "tflite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", ["onnx", "onnxscript"])
def test_missing_onnx_names_the_extra(tmp_path, monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    with pytest.raises(UserError) as info:
        export_policy(agent, tmp_path / "policy.onnx", "onnx")
    assert str(info.value) == ONNX_EXTRA == 'format onnx needs the [export] extra: pip install -e ".[export]"'
    assert list(tmp_path.iterdir()) == []
