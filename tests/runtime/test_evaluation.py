"""Evaluation runs several episodes at a time; each episode's result depends only on its seed."""

import gymnasium as gym
import numpy as np
import pytest

from actorcritic.runtime.evaluation import evaluate_policies


def lean(obs: np.ndarray) -> np.ndarray:
    """A deterministic CartPole policy, push the way the pole leans: episodes of varied lengths."""
    return (obs[..., 2] > 0).astype(np.int64)


@pytest.mark.parametrize("envs_per_policy", [2, 3, 7])
def test_episodes_on_several_envs_give_what_one_env_gives(envs_per_policy):
    def make(k):
        return [[gym.make("CartPole-v1") for _ in range(k)] for _ in range(2)]  # two policies

    alone = evaluate_policies(make(1), lean, episodes=7, seeds=[3, 4], round_id=5)
    batched = evaluate_policies(make(envs_per_policy), lean, episodes=7, seeds=[3, 4], round_id=5)
    for a, b in zip(alone, batched, strict=True):
        assert a.returns == b.returns and a.lengths == b.lengths  # episode i in place i, whichever env ran it
    assert len(set(alone[0].lengths)) > 1  # the episodes end at different steps, so envs fall out of step
    assert alone[0].returns != alone[1].returns  # each policy's own seeds


def test_the_policy_sees_every_env_at_once():
    shapes = []

    def act(obs):
        shapes.append(obs.shape)
        return lean(obs)

    evaluate_policies([[gym.make("CartPole-v1") for _ in range(3)]], act, episodes=5, seeds=[0])
    assert shapes[0] == (1, 3, 4)  # [policies, envs, obs_dim]; envs that have run out of episodes idle
    assert len(shapes) > max(evaluate_policies([[gym.make("CartPole-v1")]], lean, 5, [0])[0].lengths)
    shapes.clear()
    evaluate_policies([[gym.make("CartPole-v1") for _ in range(3)]], act, episodes=2, seeds=[0])
    assert shapes[0] == (1, 2, 4)  # no more envs than episodes
