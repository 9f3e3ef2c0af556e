"""``Agent.predict``: Stable-Baselines3's signature, so that code written for an SB3 model runs an agent."""

import gymnasium as gym
import numpy as np
import pytest

from actorcritic import DDPG, PPO, SAC, DDPGConfig, PPOConfig, SACConfig


def observations(env_id: str, n: int) -> np.ndarray:
    env = gym.make(env_id)
    return np.stack([env.reset(seed=i)[0] for i in range(n)])


def test_predict_is_act_with_sb3s_arguments_and_no_state():
    agent = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16, 16)), seed=0)
    obs = observations("Pendulum-v1", 3)
    action, state = agent.predict(obs, state=None, episode_start=np.ones(3, dtype=bool), deterministic=True)
    assert state is None and action.shape == (3, 1)
    np.testing.assert_array_equal(action, agent.act(obs, deterministic=True))
    sampled, _ = agent.predict(obs)  # SB3's default: not deterministic, so SAC samples
    assert sampled.shape == (3, 1) and np.all(np.abs(sampled) <= 2.0)  # in the env's units, within its bounds
    assert not np.array_equal(sampled, action)


def test_ddpg_predicts_its_actor_without_exploration_noise():
    agent = DDPG("Pendulum-v1", DDPGConfig(hidden_sizes=(16, 16)), seed=0)
    obs = observations("Pendulum-v1", 4)
    np.testing.assert_array_equal(agent.predict(obs)[0], agent.act(obs, deterministic=True))


@pytest.mark.parametrize(
    ("cls", "config", "env_id", "length"),
    [
        (DDPG, DDPGConfig(hidden_sizes=(16, 16)), "Pendulum-v1", 200),
        (PPO, PPOConfig(hidden_sizes=(16, 16)), "CartPole-v1", None),
    ],
)
def test_sb3s_evaluate_policy_runs_an_agent(cls, config, env_id, length):
    evaluation = pytest.importorskip("stable_baselines3.common.evaluation", reason="the [bench] extra")
    from stable_baselines3.common.monitor import Monitor

    agent = cls(env_id, config, seed=0)
    calls = []

    def predict(observation, state=None, episode_start=None, deterministic=False):
        calls.append((observation.shape, state, episode_start.tolist(), deterministic))
        return type(agent).predict(agent, observation, state, episode_start, deterministic)

    agent.predict = predict  # SB3 calls it with its keywords, once a step
    env = Monitor(gym.make(env_id))  # as SB3 asks, so that it counts whole episodes
    returns, lengths = evaluation.evaluate_policy(agent, env, n_eval_episodes=3, return_episode_rewards=True)
    assert len(returns) == len(lengths) == 3 and all(np.isfinite(returns))
    assert len(calls) == sum(lengths)
    assert all(shape == (1, env.observation_space.shape[0]) and state is None and deterministic
               for shape, state, _, deterministic in calls)  # fmt: skip
    assert calls[0][2] == [True] and calls[1][2] == [False]  # SB3 marks each episode's first step
    if length is not None:  # Pendulum's episodes are cut at 200 steps
        assert lengths == [length] * 3
    else:  # CartPole rewards 1 a step: an episode's return is its length
        assert returns == [float(n) for n in lengths]
