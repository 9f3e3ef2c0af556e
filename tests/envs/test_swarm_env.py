"""Swarm-v0: one agent per particle, one shared policy; observations, turns, rewards, episodes, baselines,
and training on it through the ordinary off-policy loop."""

import math

import numpy as np
import pytest

import actorcritic
from actorcritic.envs import make_env
from actorcritic.envs.swarm.env import BASELINES, SwarmEnv
from actorcritic.runtime.evaluation import evaluate_multi_agent


def rotate(headings: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return headings @ np.array([[c, s], [-s, c]])


def test_registered_as_a_vector_env_with_one_agent_per_particle():
    env = make_env("Swarm-v0", preset="small", noise=0.3)
    assert isinstance(env, SwarmEnv) and env.num_envs == 100
    obs, info = env.reset(seed=1)
    assert obs.shape == (100, 24) and obs.dtype == np.float32  # 12 neighbours x (cos, sin)
    assert 0 <= info["order_parameter"] <= 1
    assert env.single_action_space.shape == (1,) and env.single_action_space.high[0] == pytest.approx(math.pi / 4)
    env3 = SwarmEnv(dim=3, noise=0.1, neighbours_observed=4, relative_positions=True)
    assert env3.reset(seed=0)[0].shape == (100, 4 * (3 + 3)) and env3.single_action_space.shape == (2,)


def test_observation_is_relative_headings_and_invariant_to_rotating_every_heading():
    env = SwarmEnv(relative_positions=True)
    obs, _ = env.reset(seed=0)
    headings = env.model.headings.copy()
    idx, disp = env.model.knn(env.k_obs)
    own, theirs = np.arctan2(headings[:, 1], headings[:, 0]), np.arctan2(headings[idx, 1], headings[idx, 0])
    parts = obs.reshape(100, env.k_obs, 4)
    np.testing.assert_allclose(parts[..., 0], np.cos(theirs - own[:, None]), atol=1e-6)
    np.testing.assert_allclose(parts[..., 1], np.sin(theirs - own[:, None]), atol=1e-6)
    # the neighbour's displacement in the particle's frame (along, across its heading), in radii
    np.testing.assert_allclose(np.hypot(parts[..., 2], parts[..., 3]), np.linalg.norm(disp, axis=-1), atol=1e-5)
    env.model.headings = rotate(headings, 1.0)  # the same swarm, every heading turned alike
    np.testing.assert_allclose(env._observe().reshape(100, env.k_obs, 4)[..., :2], parts[..., :2], atol=1e-5)


def test_turning_rotates_each_heading_by_its_action_clipped_at_max_turn():
    env = SwarmEnv(noise=0.0)
    env.reset(seed=0)
    headings = env.model.headings
    actions = np.linspace(-1.5, 1.5, 100)[:, None]  # beyond +-pi/4 on both ends
    turned = env.turn(headings, actions)
    got = np.angle((turned[:, 0] + 1j * turned[:, 1]) / (headings[:, 0] + 1j * headings[:, 1]))
    np.testing.assert_allclose(got, np.clip(actions[:, 0], -math.pi / 4, math.pi / 4), atol=1e-12)
    env3 = SwarmEnv(dim=3, noise=0.0)
    env3.reset(seed=0)
    h3 = env3.model.headings
    t3 = env3.turn(h3, np.random.default_rng(0).normal(size=(100, 2)))
    np.testing.assert_allclose(np.linalg.norm(t3, axis=1), 1.0, atol=1e-12)
    assert np.all(np.arccos(np.clip(np.sum(t3 * h3, 1), -1, 1)) <= math.pi / 4 + 1e-9)


def test_delta_reward_is_the_change_of_the_local_order_caused_by_the_own_turn():
    env = SwarmEnv(noise=0.2)
    env.reset(seed=3)
    model = env.model
    indptr, indices = model.neighbours()
    actions = np.random.default_rng(0).uniform(-0.7, 0.7, (100, 1))
    turned = env.turn(model.headings, actions)
    expected = np.empty(100)
    for i in range(100):
        members = indices[indptr[i] : indptr[i + 1]]
        before = model.headings[members].mean(0)
        with_turn = model.headings[members].copy()
        with_turn[members == i] = turned[i]
        expected[i] = np.linalg.norm(with_turn.mean(0)) - np.linalg.norm(before)
    _, rewards, terminated, truncated, _ = env.step(actions)
    np.testing.assert_allclose(rewards, expected, atol=1e-12)
    assert not terminated.any() and not truncated.any()
    _, rewards, *_ = env.step(np.zeros((100, 1)))
    np.testing.assert_array_equal(rewards, 0.0)  # no turn, no change


def test_other_rewards_and_episode_end_together():
    env = SwarmEnv(reward="global", episode_steps=3)
    env.reset(seed=0)
    for t in range(3):
        _, rewards, _, truncated, info = env.step(np.zeros((100, 1)))
        np.testing.assert_allclose(rewards, info["order_parameter"])
        assert truncated.all() == (t == 2) and truncated.any() == (t == 2)
    local = SwarmEnv(reward="local")
    local.reset(seed=0)
    _, rewards, *_ = local.step(np.zeros((100, 1)))
    np.testing.assert_allclose(rewards, local.model.local_order_parameters())
    with pytest.raises(ValueError, match="together"):
        local.reset(seed=1, options={"reset_mask": np.arange(100) < 50})


def test_reset_is_seeded():
    a, b = SwarmEnv(), SwarmEnv()
    np.testing.assert_array_equal(a.reset(seed=[7] + [None] * 99)[0], b.reset(seed=7)[0])


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"preset": "huge"}, "preset"), ({"reward": "best"}, "reward"), ({"max_turn": 0.0}, "max_turn"),
    ({"neighbours_observed": 100}, "neighbours_observed"), ({"dim": 4}, "dim"),
])  # fmt: skip
def test_bad_options_are_user_errors(kwargs, words):
    with pytest.raises(actorcritic.UserError, match=words):
        SwarmEnv(**kwargs)


def test_baselines_order_the_swarm_as_expected():
    env = SwarmEnv(noise=0.5, episode_steps=150)
    orders = {
        name: evaluate_multi_agent(env, lambda obs, p=policy: p(env), 1, 0, 0, ("order_parameter",)).metrics
        for name, policy in BASELINES.items()
    }
    assert orders["vicsek"]["order_parameter"] > 0.9
    assert orders["random"]["order_parameter"] < 0.4 and orders["none"]["order_parameter"] < 0.4


def test_render_gives_rgb_frames():
    env = SwarmEnv(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8 and frame.std() > 0


def test_off_policy_agents_train_on_the_swarm_unchanged(tmp_path):
    cfg = actorcritic.TD3Config(hidden_sizes=(16,), learning_starts=1_000, batch_size=64, eval_interval=2_000,
                                eval_episodes=1, log_interval=1_000)  # fmt: skip
    agent = actorcritic.TD3("Swarm-v0", cfg, seed=0, run_dir=tmp_path / "run",
                            env_kwargs={"episode_steps": 20, "noise": 0.3})  # fmt: skip
    assert agent.config.num_envs == 100 and agent.obs_dim == 24 and agent.action_dim == 1
    agent.learn(3_000)  # 30 swarm steps: 3,000 transitions
    assert agent.buffer.filled_rows == 30 and agent.num_updates == 21  # from step 1,000 (the 10th swarm step) on
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "order_parameter" in header and "eval_order_parameter" in header
    assert 0 <= agent.last_eval.metrics["order_parameter"] <= 1
    loaded = actorcritic.load(tmp_path / "run")
    assert loaded.env_kwargs == {"episode_steps": 20, "noise": 0.3} and loaded.config.num_envs == 100
    with pytest.raises(actorcritic.UserError, match="seeds"):
        actorcritic.DDPG("Swarm-v0", seed=[0, 1])
