"""The recomposed engine: the loop owns time, learners hold no counters, seed streams never collide."""

import gc
import itertools
import weakref

import pytest
import torch

from actorcritic import DDPG, SAC, TD3, DDPGConfig, SACConfig, TD3Config
from actorcritic.cli import main
from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.runtime.metrics import MetricSums


def test_seed_streams_never_collide():
    """Different streams, and the same keys with a trailing zero, give different seeds."""
    seeds = {
        (stream, keys): stream_seed(7, stream, *keys)
        for stream in Stream
        for keys in [(), (0,), (0, 0), (1,), (1, 0), (0, 1)]
    }
    assert len(set(seeds.values())) == len(seeds)
    assert stream_seed(7, Stream.REPLAY) != stream_seed(7, Stream.REPLAY, 0)
    assert stream_seed(7, Stream.ENV_EPISODE, 0, 0) != stream_seed(7, Stream.INIT)
    assert stream_seed(7, Stream.ENV_EPISODE, 3, 5) == stream_seed(7, Stream.ENV_EPISODE, 3, 5)


def test_metric_means_are_over_the_updates_that_reported_them():
    sums = MetricSums(("critic_loss", "actor_loss"), members=2, device=torch.device("cpu"))
    sums.add({"critic_loss": torch.tensor([1.0, 2.0])})
    sums.add({"critic_loss": torch.tensor([3.0, 4.0]), "actor_loss": torch.tensor([-1.0, -3.0])})
    means = sums.take()
    assert means == {"critic_loss": [2.0, 3.0], "actor_loss": [-1.0, -3.0]}
    assert sums.take() == {"critic_loss": [None, None], "actor_loss": [None, None]}


def test_metric_means_over_more_updates_than_are_held_before_summing():
    """Metrics wait in batches of MetricSums.HELD updates before they are summed; the means are the same."""
    sums = MetricSums(("critic_loss", "actor_loss", "q_mean"), members=2, device=torch.device("cpu"))
    n = 2 * MetricSums.HELD + 7
    critic = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    for i in range(n):  # TD3: the actor's loss every second update; a scalar metric for both members
        update = {"critic_loss": critic[i], "q_mean": torch.tensor(float(i))}
        sums.add(update | ({"actor_loss": -critic[i]} if i % 2 else {}))
    means = sums.take()
    torch.testing.assert_close(torch.tensor(means["critic_loss"]), critic.mean(0))
    torch.testing.assert_close(torch.tensor(means["actor_loss"]), -critic[1::2].mean(0))
    assert means["q_mean"] == [(n - 1) / 2] * 2


def _warm(cls, config, seed=0, steps=300):
    agent = cls("Pendulum-v1", config, seed=seed)
    agent.trainer.start()
    for _ in range(steps):
        agent.trainer.gather()
    return agent


@pytest.mark.parametrize(("delay", "period"), [(1, 1), (2, 1), (2, 3), (3, 2)])
def test_the_loop_decides_when_the_actor_and_targets_move(delay, period):
    """Update n moves the actor when n is a multiple of policy_delay, and the targets after every
    target_update_period-th actor update: counted here by brute force, independently of the trainer."""
    agent = _warm(TD3, TD3Config(learning_starts=100, policy_delay=delay, target_update_period=period))
    calls = []
    agent.trainer.update = lambda batch, update_actor, update_targets: (
        calls.append((update_actor, update_targets)) or {}
    )
    agent.trainer.train(24)
    expected, actor_updates = [], 0
    for n in range(1, 25):
        actor = n % delay == 0
        actor_updates += actor
        expected.append((actor, actor and actor_updates % period == 0))
    assert calls == expected
    assert agent.num_updates == 24


def test_a_resumed_run_keeps_the_phase_of_the_delay_and_the_period():
    """The schedule counts from the clock's num_updates, which a checkpoint restores."""
    cfg = TD3Config(learning_starts=100, policy_delay=2, target_update_period=3)
    first = _warm(TD3, cfg)
    first.trainer.train(5)
    resumed = TD3("Pendulum-v1", cfg)
    resumed.load_state_dict(first.state_dict())
    calls = []
    resumed.trainer.update = lambda batch, update_actor, update_targets: (
        calls.append((update_actor, update_targets)) or {}
    )
    resumed.trainer.train(7)  # updates 6..12: actor on even ones, targets after actor updates 3 and 6
    assert calls == [
        (True, True),
        (False, False),
        (True, False),
        (False, False),
        (True, False),
        (False, False),
        (True, True),
    ]


def test_ddpg_is_td3_with_one_critic_no_smoothing_and_no_delay():
    """The same learner and update: TD3 configured as DDPG ends with bit-identical weights."""
    common = {"learning_starts": 100, "hidden_sizes": (32, 32), "batch_size": 32}
    ddpg = _warm(DDPG, DDPGConfig(**common))
    td3 = _warm(TD3, TD3Config(**common, num_critics=1, target_noise=0.0, policy_delay=1))
    ddpg.trainer.train(20)
    td3.trainer.train(20)
    for a, b in itertools.chain(
        zip(ddpg.learner.actor.parameters(), td3.learner.actor.parameters(), strict=True),
        zip(ddpg.learner.critic_target.parameters(), td3.learner.critic_target.parameters(), strict=True),
    ):
        assert torch.equal(a, b)


@pytest.mark.parametrize(("cls", "config"), [(TD3, TD3Config()), (SAC, SACConfig())])
def test_an_update_reads_no_counter(cls, config):
    """Two learners in the same state, given the same batches and decisions, stay identical whatever
    else happened before: the update depends on its inputs only (it can be compiled whole)."""
    cfg = type(config)(learning_starts=100, hidden_sizes=(32, 32), batch_size=32)
    a, b = _warm(cls, cfg), _warm(cls, cfg)
    a.trainer.train(3)  # a has counted 3 updates more; bring b to the same weights and RNG state
    b.load_state_dict(a.state_dict())
    batch = a.buffer.sample(32)
    for update_actor, update_targets in [(True, True), (False, False), (True, False)]:
        ma = a.learner.update(batch, update_actor, update_targets)
        mb = b.learner.update(batch, update_actor, update_targets)
        assert ma.keys() == mb.keys()
        assert all(torch.equal(ma[k], mb[k]) for k in ma)
    assert all(
        torch.equal(p, q) for p, q in zip(a.learner.actor.parameters(), b.learner.actor.parameters(), strict=True)
    )


def test_a_refused_setting_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--total-steps", "-5", "--run-dir", str(run_dir)]) == 2
    assert capsys.readouterr().err.startswith("error: total_steps must be >= 0")
    assert not run_dir.exists()


def test_the_run_directory_is_made_when_training_starts(tmp_path):
    run_dir = tmp_path / "run"
    agent = DDPG("Pendulum-v1", DDPGConfig(learning_starts=50, eval_interval=0, eval_episodes=1), run_dir=run_dir)
    assert not run_dir.exists()
    agent.learn(60)
    agent.close()
    assert (run_dir / "config.json").is_file() and (run_dir / "checkpoints" / "latest.pt").is_file()


@pytest.mark.parametrize("cls", [DDPG, SAC])
def test_a_dropped_agent_is_freed_at_once_with_its_replay_buffer(cls):
    """No reference cycle holds an agent: dropping the last reference frees it and its replay buffer
    without waiting for the cycle collector (loading one policy after another must not pile up buffers)."""
    cls("Pendulum-v1", seed=0).close()  # the first agent of a process may meet torch's one-time imports
    gc.collect()
    gc.disable()
    try:
        agent = cls("Pendulum-v1", cls.config_cls(learning_starts=50), seed=0)
        agent.learn(100)
        agent.close()
        freed_agent, freed_buffer = weakref.ref(agent), weakref.ref(agent.buffer)
        del agent
        assert freed_agent() is None and freed_buffer() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(("cls", "config"), [(TD3, TD3Config), (SAC, SACConfig)])
def test_acting_inside_the_update_is_acting_after_it(cls, config):
    """A turn's last update also computes the next exploration action (``update_and_act_from``); a run
    that calls the policy for every action instead, after each update, is bit for bit the same run."""
    cfg = config(hidden_sizes=(16, 16), learning_starts=50, batch_size=32)
    fused, separate = (cls("Pendulum-v1", cfg, seed=[3, 4]) for _ in range(2))
    for agent in (fused, separate):
        agent.trainer.start()
    for _ in range(150):
        fused.trainer.turn()
        separate.trainer.gather()  # the policy's own call ...
        if separate.global_step >= cfg.learning_starts:
            separate.trainer.train(1)  # ... after an update that computes no action
    assert fused.trainer.collector.next_actions is not None and separate.trainer.collector.next_actions is None
    assert fused.num_updates == separate.num_updates == 101
    assert torch.equal(fused.buffer.actions, separate.buffer.actions)
    for p, q in zip(fused.learner.actor.parameters(), separate.learner.actor.parameters(), strict=True):
        assert torch.equal(p, q)
    fused.close()
    separate.close()
