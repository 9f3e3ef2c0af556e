"""``compile=True`` (``--compile``): the update through torch.compile gives the eager update's result."""

import pytest
import torch
from batches import random_batch
from torch._dynamo.utils import counters

from actorcritic import DDPG, SAC, TD3


@pytest.mark.parametrize("cls", [TD3, SAC])
def test_compiled_update_matches_eager(cls, train_step, learner_modules):
    cfg = cls.config_cls(hidden_sizes=(16, 16), max_grad_norm=1.0)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1])
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True)
    for step in range(4):  # TD3's policy delay 2: both branches of the update run, twice
        batch = random_batch(step, members=2)
        want, got = train_step(eager, batch), train_step(compiled, batch)
        assert want.keys() == got.keys()
        for k in want:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)
    assert_same_networks(learner_modules(eager), learner_modules(compiled), rtol=1e-5, atol=1e-6)


def test_compiled_learners_in_one_process_each_run_their_own_graph(train_step, learner_modules):
    """A compiled update checks no guard on its learner's settings; two learners with other
    learning rates (constants in their graphs), trained in turn, must still each match their eager twin."""
    configs = [TD3.config_cls(hidden_sizes=(16, 16), actor_lr=lr, critic_lr=lr) for lr in (1e-3, 3e-2)]
    eager = [TD3("Pendulum-v1", cfg, seed=0) for cfg in configs]
    compiled = [TD3("Pendulum-v1", cfg, seed=0, compile=True) for cfg in configs]
    for step in range(6):
        batch = random_batch(step, members=1)
        for want_agent, got_agent in zip(eager, compiled, strict=True):
            want, got = train_step(want_agent, batch), train_step(got_agent, batch)
            for k in want:
                torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)
    for want_agent, got_agent in zip(eager, compiled, strict=True):
        # lr 3e-2 grows float differences to about 2e-6; a wrong learning rate would move weights by far more
        assert_same_networks(learner_modules(want_agent), learner_modules(got_agent), rtol=1e-4, atol=1e-5)


def test_a_batch_of_another_size_gets_a_graph_of_its_own(train_step, learner_modules):
    """A compiled update checks only the guards on its own arguments: the batch is one, so a batch of
    another size than the first call's is compiled for, not run through a graph built for the old size."""
    cfg = SAC.config_cls(hidden_sizes=(16, 16))
    eager = SAC("Pendulum-v1", cfg, seed=0)
    compiled = SAC("Pendulum-v1", cfg, seed=0, compile=True)
    for step, n in enumerate((32, 8, 32, 8)):
        batch = random_batch(step, n=n)
        want, got = train_step(eager, batch), train_step(compiled, batch)
        for k in want:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)
    assert_same_networks(learner_modules(eager), learner_modules(compiled), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("cls", "n_step"), [(TD3, 1), (SAC, 3)])
def test_compiled_update_from_the_buffer_matches_eager(cls, n_step, learner_modules):
    """The loop's update gathers its batch inside the compiled graph. The buffer fills between updates,
    so the n-step windows' newest row moves: a graph that had kept it as a constant would cut them wrongly."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=64, n_step=n_step, learning_starts=40)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1])
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True)
    eager.trainer.start()
    replay = eager.buffer  # one buffer for both learners: the same transitions at the same index
    for _ in range(40):
        eager.trainer.gather()
    for step in range(8):  # each branch 4 times: from its third call, the captured graph runs without dynamo
        for _ in range(7):  # 7 new rows: some windows that ran to the newest row now run further
            eager.trainer.gather()
        index = replay.draw(cfg.batch_size).clone()
        for mine, theirs in zip(compiled.learner.generators, eager.learner.generators, strict=True):
            mine.set_state(theirs.get_state())  # the eager agent's exploration drew from its generators
        update_actor = step % 2 == 1
        want = eager.learner.update(replay.gather(index), update_actor, update_actor)
        got = compiled.learner.update_from(replay, index, update_actor, update_actor)
        assert want.keys() == got.keys()
        for k in want:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)
    assert_same_networks(learner_modules(eager), learner_modules(compiled), rtol=1e-5, atol=1e-6)
    assert_captured(compiled.learner.step_from, branches=2)
    eager.close()


@pytest.mark.parametrize("cls", [TD3, SAC])
def test_the_compiled_update_acts_as_the_policy_would_after_it(cls, learner_modules):
    """After an env step the loop's update also gives the policy's next exploration action, in its graph
    (``update_and_act_from``): the eager update followed by the policy's own call, from the same draws."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=64, learning_starts=40)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1])
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True)
    eager.trainer.start()
    replay, collector = eager.buffer, eager.trainer.collector
    for step in range(8):
        for _ in range(5):
            eager.trainer.gather()
        index, obs = replay.draw(cfg.batch_size).clone(), collector.observations()
        for mine, theirs in zip(compiled.learner.generators, eager.learner.generators, strict=True):
            mine.set_state(theirs.get_state())
        update_actor = step % 2 == 1
        eager.learner.update_from(replay, index, update_actor, update_actor)
        want = eager.learner.policy(obs, deterministic=False)  # SAC: drawn after the update's noise
        _, got = compiled.learner.update_and_act_from(replay, index, update_actor, update_actor, obs)
        assert got.shape == (2, 1, 1)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert_same_networks(learner_modules(eager), learner_modules(compiled), rtol=1e-5, atol=1e-6)
    assert_captured(compiled.learner.step_and_act_from, branches=2)
    eager.close()


@pytest.mark.parametrize("cls", [DDPG, SAC])  # the default job's, and one that samples in its graph
def test_a_float32_update_is_kept_in_the_compile_cache(cls):
    """AOTAutograd's cache takes a graph only if every op in it can be saved; one autocast op (turning
    bfloat16 off around acting, where it was never on) made it bypass the cache, and every warm start of
    ``actorcritic train`` traced and compiled the update again, about 3 s of it."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=64, learning_starts=40)
    agent = cls("Pendulum-v1", cfg, seed=0, compile=True)
    agent.trainer.start()
    for _ in range(45):
        agent.trainer.gather()
    counters.clear()
    index, obs = agent.buffer.draw(cfg.batch_size).clone(), agent.trainer.collector.observations()
    agent.learner.update_and_act_from(agent.buffer, index, True, True, obs)
    aot = counters["aot_autograd"]
    assert aot.get("total") == 1 and not aot.get("autograd_cache_bypass"), dict(aot)
    agent.close()


def assert_captured(update, branches: int) -> None:
    """Each branch the loop asked for runs its captured graph (``actorcritic.core.capture``), not dynamo."""
    assert len(update.graphs) == branches and all(update.graphs.values()), update.graphs


def assert_same_networks(want: dict, got: dict, rtol: float, atol: float) -> None:
    for name, module in want.items():
        other = got[name].state_dict()
        for k, t in module.state_dict().items():
            torch.testing.assert_close(other[k], t, rtol=rtol, atol=atol, msg=lambda m, k=f"{name}.{k}": f"{k}: {m}")
