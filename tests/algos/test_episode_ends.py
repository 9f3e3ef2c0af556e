"""Truncation and termination under Gymnasium 1.x: checked on envs where the right target is known."""

import contextlib

import numpy as np
import pytest
import torch

from actorcritic import DDPG, DDPGConfig
from actorcritic.runtime import loop

GAMMA = 0.9
H = 5  # episode length of the toy envs


def collect(env_id: str, steps: int, num_envs: int = 1) -> DDPG:
    """Run the real loop with random actions only (no updates) and return the agent."""
    config = DDPGConfig(
        num_envs=num_envs,
        learning_starts=10**9,
        gamma=GAMMA,
        buffer_size=1000,
        batch_size=8,
        eval_interval=0,
    )
    agent = DDPG(env_id, config, seed=0)
    loop._start(agent, contextlib.ExitStack())
    while agent.global_step < steps:
        agent.trainer.gather()  # one vector step into the buffer
    return agent


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("env_id", ["toy_envs:TerminatingEnv", "toy_envs:TruncatingEnv"])
def test_no_transition_crosses_a_reset(env_id, num_envs):
    agent = collect(env_id, 60, num_envs)
    buf = agent.buffer
    obs = buf.obs[: buf.filled_rows, :, 0].flatten()
    next_obs = buf.next_obs[: buf.filled_rows, :, 0].flatten()
    # Every stored transition advances time by exactly one step: none goes from a final state to a reset.
    torch.testing.assert_close(next_obs - obs, torch.full_like(obs, 1 / H))
    assert len(buf) == 60


def test_termination_never_bootstraps():
    buf = collect("toy_envs:TerminatingEnv", 40).buffer
    flat = torch.arange(len(buf))
    terminated = buf.terminated.view(-1)[flat]
    final = buf.next_obs.view(-1)[flat] == 1.0  # the true final observation, t = H
    assert torch.equal(terminated, final)
    assert not buf.truncated.any()
    sampled = buf.sample(4096)
    expected = torch.where(sampled.next_obs[..., 0] == 1.0, 0.0, GAMMA)
    torch.testing.assert_close(sampled.discounts, expected)


def test_truncation_bootstraps_from_the_true_final_observation():
    buf = collect("toy_envs:TruncatingEnv", 40).buffer
    assert not buf.terminated.any()
    truncated = buf.truncated.view(-1)[: len(buf)]
    assert truncated.sum() == 40 // H
    # The stored next_obs at a truncation is the final observation (t = H), not the reset one (t = 0).
    assert torch.all(buf.next_obs.view(-1)[: len(buf)][truncated] == 1.0)
    sampled = buf.sample(4096)
    torch.testing.assert_close(sampled.discounts, torch.full_like(sampled.discounts, GAMMA))


def train_critic(env_id: str, steps: int = 2500) -> DDPG:
    config = DDPGConfig(
        gamma=GAMMA, learning_starts=200, batch_size=64, hidden_sizes=(64, 64), critic_lr=3e-3, actor_lr=1e-4,
        tau=0.05, eval_interval=0, eval_episodes=1,
    )  # fmt: skip
    return DDPG(env_id, config, seed=0).learn(steps)


def test_critic_learns_the_terminating_values():
    """Q*(t) = (1 - gamma^(H - t)) / (1 - gamma) when the episode terminates at t = H."""
    agent = train_critic("toy_envs:TerminatingEnv")
    t = np.arange(H)
    obs = torch.tensor(t / H, dtype=torch.float32).unsqueeze(1)
    with torch.no_grad():
        q = agent.learner.critic(obs, torch.zeros(H, 1))[0].numpy()
    expected = (1 - GAMMA ** (H - t)) / (1 - GAMMA)
    np.testing.assert_allclose(q, expected, rtol=0.05, atol=0.05)


def test_critic_learns_to_bootstrap_through_truncation():
    """With the time limit outside the state, the right value is 1 / (1 - gamma) = 10.

    Treating truncation as termination would give 1 / (1 - gamma (H - 1) / H) = 3.57 instead.
    """
    agent = train_critic("toy_envs:TruncatingConstantEnv")
    with torch.no_grad():
        q = agent.learner.critic(torch.zeros(4, 1), torch.linspace(-1, 1, 4).unsqueeze(1))[0]
    torch.testing.assert_close(q, torch.full_like(q, 1 / (1 - GAMMA)), rtol=0.05, atol=0.0)
