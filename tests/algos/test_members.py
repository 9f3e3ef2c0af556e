"""Seed groups: K agents (one per seed) trained in one process as one batched computation.

A group of one is the run trained alone, to the bit. Every member of a larger group follows the run
its seed gives alone, up to floating-point summation order in the batched matrix products (checked
over the first updates, where that difference has not yet been amplified by training), writes its own
run directory, and its checkpoint is a run of its own: it loads, evaluates and resumes alone.
"""

import json

import numpy as np
import pytest
import torch
from batches import random_batch

import actorcritic
from actorcritic import DDPG, SAC, TD3
from actorcritic.core.buffers import ReplayBuffer
from actorcritic.core.members import member_state, stack_states
from actorcritic.core.optim import clip_grad_norm_per_member_

SMALL = {"hidden_sizes": (32, 32), "learning_starts": 100, "batch_size": 32, "eval_episodes": 2, "eval_interval": 0}
ALGOS = [DDPG, TD3, SAC]


def module_states(agent, member=0):
    state = agent.state_dict(member, include_buffer=False)
    return {f"{k}.{n}": t for k, sd in state["modules"].items() for n, t in sd.items()}


@pytest.mark.parametrize("cls", ALGOS)
def test_a_group_of_one_is_the_run_trained_alone_bit_for_bit(cls):
    cfg = cls.config_cls(**SMALL, n_step=2)
    alone = cls("Pendulum-v1", cfg, seed=3).learn(300)
    group = cls("Pendulum-v1", cfg, seed=[3]).learn(300)
    a, b = module_states(alone), module_states(group)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert alone.evaluate(2).returns == group.evaluate(2).returns


@pytest.mark.parametrize("cls", ALGOS)
def test_every_member_follows_the_run_its_seed_gives_alone(cls):
    """Same replay data, same random draws, same updates: after 10 updates the parameters agree to
    float32 rounding (the batched products sum in another order), for every member."""
    cfg = cls.config_cls(**SMALL, n_step=3, max_grad_norm=1.0)
    seeds = [0, 1, 2, 3]
    group = cls("Pendulum-v1", cfg, seed=seeds).learn(110)
    assert group.num_updates == 11
    for m, seed in enumerate(seeds):
        alone = cls("Pendulum-v1", cfg, seed=seed).learn(110)
        member, own = module_states(group, m), module_states(alone)
        for k in own:
            torch.testing.assert_close(member[k], own[k], rtol=0, atol=1e-6, msg=k)
        mine, theirs = group.buffer.state_dict(m), alone.buffer.state_dict()
        for name in ("obs", "actions", "rewards", "next_obs"):  # the same experience
            torch.testing.assert_close(mine[name], theirs[name], rtol=0, atol=1e-5, msg=name)
            assert torch.equal(mine[name][:100], theirs[name][:100]), name  # warm-up: to the bit


def test_members_start_from_different_weights_and_explore_differently():
    group = DDPG("Pendulum-v1", DDPG.config_cls(**SMALL), seed=[0, 1])
    w = group.learner.actor.net.weights[0]
    assert not torch.equal(w[0], w[1])
    group.learn(150)
    obs = group.buffer.obs[:150]
    assert not torch.equal(obs[:, 0], obs[:, 1])


def test_one_members_loss_moves_only_its_own_parameters():
    group = TD3("Pendulum-v1", TD3.config_cls(hidden_sizes=(16,)), seed=[0, 1, 2])
    batch = random_batch(0, members=3)
    q = group.learner.critic(batch.obs, batch.actions)
    q[1].sum().backward()
    for p in group.learner.critic.parameters():
        blocks = p.grad.view(3, -1)
        assert blocks[1].abs().sum() > 0 and torch.all(blocks[0] == 0) and torch.all(blocks[2] == 0)


def test_gradient_clipping_is_per_member():
    """A member with a huge gradient is clipped; the others keep theirs, as they would alone."""
    p = torch.nn.Parameter(torch.zeros(3, 4, 2))
    p.grad = torch.ones(3, 4, 2)
    p.grad[1] *= 100.0
    norms = clip_grad_norm_per_member_([p], max_norm=5.0, members=3)
    torch.testing.assert_close(norms, torch.tensor([8**0.5, 100 * 8**0.5, 8**0.5]))
    torch.testing.assert_close(p.grad[0], torch.ones(4, 2))
    torch.testing.assert_close(torch.linalg.vector_norm(p.grad[1]), torch.tensor(5.0), rtol=1e-5, atol=0)


def test_member_state_and_stack_states_are_inverse():
    state = {"w": torch.arange(24.0).view(6, 2, 2), "step": torch.tensor(3.0), "lr": 1e-3, "ids": [0, 1]}
    members = [member_state(state, m, 3) for m in range(3)]
    assert members[1]["w"].shape == (2, 2, 2) and members[1]["step"] == 3.0 and members[1]["lr"] == 1e-3
    back = stack_states(members)
    assert torch.equal(back["w"], state["w"]) and back["ids"] == [0, 1]


def test_buffer_members_sample_what_they_would_sample_alone():
    rng = np.random.default_rng(0)
    group = ReplayBuffer(50, 3, 1, num_envs=2, n_step=3, seed=[10, 11])
    alone = [ReplayBuffer(50, 3, 1, num_envs=2, n_step=3, seed=s) for s in (10, 11)]
    for _ in range(40):
        obs, next_obs = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
        act, rew = rng.uniform(-1, 1, size=(4, 1)), rng.normal(size=4)
        term, trunc = rng.random(4) < 0.1, rng.random(4) < 0.1
        group.add(obs, act, rew, next_obs, term, trunc)
        for m, buf in enumerate(alone):
            k = slice(2 * m, 2 * m + 2)
            buf.add(obs[k], act[k], rew[k], next_obs[k], term[k], trunc[k])
    batch = group.sample(64)
    for m, buf in enumerate(alone):
        own = buf.sample(64)
        for name, a, b in zip(batch._fields, batch, own, strict=True):
            assert torch.equal(a[m], b[0]), name


def test_member_run_directories_are_runs_of_their_own(tmp_path):
    cfg = SAC.config_cls(**{**SMALL, "eval_interval": 100})
    group = SAC("Pendulum-v1", cfg, seed=[5, 6], run_dir=tmp_path / "g", checkpoint_interval=100).learn(200)
    for m, seed in enumerate([5, 6]):
        run = tmp_path / "g" / f"seed{seed}"
        assert json.loads((run / "config.json").read_text())["seed"] == seed
        summary = json.loads((run / "summary.json").read_text())
        assert summary["seed"] == seed and summary["final_eval_mean_return"] == group.members[m].last_eval.mean_return
        assert (run / "plots" / "returns.png").is_file() and (run / "metrics.csv").is_file()
        alone = actorcritic.load(run)  # a checkpoint of one agent, like any run trained alone
        assert alone.num_members == 1 and alone.seed == seed and alone.global_step == 200
        own = module_states(alone)
        for k, t in module_states(group, m).items():
            assert torch.equal(t, own[k]), k
        assert alone.evaluate(2, round_id=7).returns == group.evaluate_members(2, round_id=7)[m].returns


def test_a_resumed_group_continues_exactly(tmp_path):
    """Checkpoint at an episode boundary, load all members as one group, train on: the same as never stopping."""
    cfg = TD3.config_cls(**SMALL, noise="ou")
    straight = TD3("Pendulum-v1", cfg, seed=[1, 2], run_dir=tmp_path / "straight").learn(400)
    first = TD3("Pendulum-v1", cfg, seed=[1, 2], run_dir=tmp_path / "resumed", checkpoint_interval=200)
    first.learn(200)
    first.close()
    dirs = [tmp_path / "resumed" / "seed1", tmp_path / "resumed" / "seed2"]
    resumed = actorcritic.load(dirs)
    assert resumed.num_members == 2 and [m.seed for m in resumed.members] == [1, 2]
    resumed.resume_in(dirs)
    resumed.learn(200)
    for m in range(2):
        a, b = module_states(straight, m), module_states(resumed, m)
        for k in a:
            assert torch.equal(a[k], b[k]), k


def test_mismatched_checkpoints_do_not_form_a_group(tmp_path):
    DDPG("Pendulum-v1", DDPG.config_cls(**SMALL), seed=0, run_dir=tmp_path / "a").learn(100)
    DDPG("Pendulum-v1", DDPG.config_cls(**{**SMALL, "tau": 0.01}), seed=1, run_dir=tmp_path / "b").learn(100)
    with pytest.raises(actorcritic.UserError, match="config"):
        actorcritic.load([tmp_path / "a", tmp_path / "b"])


def test_group_acting_needs_the_members_axis():
    group = DDPG("Pendulum-v1", DDPG.config_cls(**SMALL), seed=[0, 1])
    assert group.act(np.zeros((2, 3))).shape == (2, 1)
    assert group.act(np.zeros((2, 5, 3))).shape == (2, 5, 1)
    with pytest.raises(actorcritic.UserError, match="members"):
        group.act(np.zeros(3))
