"""``compile=True`` (``--compile``): the update through torch.compile gives the eager update's result."""

import pytest
import torch
from batches import random_batch
from torch._dynamo.utils import counters

from actorcritic import DDPG, SAC, TD3

# On a GPU a captured graph is also recorded into a CUDA graph (from a branch's fourth call): every test
# marked with DEVICES runs there too when one is here (never in CI, which has none).
GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
DEVICES = ["cpu", pytest.param("cuda", marks=GPU)]


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


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("cls", "n_step"), [(TD3, 1), (SAC, 3)])
def test_compiled_update_from_the_buffer_matches_eager(cls, n_step, device, learner_modules):
    """The loop's update gathers its batch inside the compiled graph. The buffer fills between updates,
    so the n-step windows' newest row moves: a graph that had kept it as a constant would cut them wrongly."""
    eager, compiled, metrics = updates_from_the_buffer(cls, n_step, device)
    for want, got in metrics:
        assert want.keys() == got.keys()
        for k in want.keys() - (OFF_ON_CUDA if device == "cuda" else set()):
            torch.testing.assert_close(got[k], want[k], **TOLERANCE[device], msg=lambda m, k=k: f"{k}: {m}")
    assert_same_networks(learner_modules(eager), learner_modules(compiled), **TOLERANCE[device])
    assert_captured(compiled.learner.step_from, branches=2)


# On an H200 with torch 2.11 (2026-12-04), the compiled update's losses and alpha matched eager's, and its
# critic weights were within 1.2e-7 after 12 updates, but q_mean, and SAC's entropy, were off by 1.0e-3 at
# every update, with and without CUDA graphs: about what one Adam step moves a bias at learning rate 1e-3,
# as if inductor's kernel for the metric read an output layer's bias after the step wrote it (a guess). The
# update being right, it is the logged metric alone; this test keeps it in view until a torch fixes it.
OFF_ON_CUDA = {"q_mean", "entropy"}


@GPU
@pytest.mark.xfail(strict=True, reason="torch 2.11 on CUDA: q_mean and entropy off by about one Adam step of a bias")
@pytest.mark.parametrize(("cls", "n_step"), [(TD3, 1), (SAC, 3)])
def test_on_a_gpu_the_compiled_metrics_match_eager_too(cls, n_step):
    _, _, metrics = updates_from_the_buffer(cls, n_step, "cuda")
    for want, got in metrics:
        for k in OFF_ON_CUDA & want.keys():
            torch.testing.assert_close(got[k], want[k], **TOLERANCE["cuda"], msg=lambda m, k=k: f"{k}: {m}")


def updates_from_the_buffer(cls, n_step: int, device: str) -> tuple:
    """An eager and a compiled agent updated from one replay buffer on the same transitions and draws:
    (eager, compiled, [(eager's metrics, compiled's metrics) per update])."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=64, n_step=n_step, learning_starts=40)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1], device=device)
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True, device=device)
    eager.trainer.start()
    replay = eager.buffer  # one buffer for both learners: the same transitions at the same index
    for _ in range(40):
        eager.trainer.gather()
    metrics = []
    for step in range(STEPS[device]):  # each branch 4 times or more: from its third call, no dynamo
        for _ in range(7):  # 7 new rows: some windows that ran to the newest row now run further
            eager.trainer.gather()
        index = replay.draw(cfg.batch_size).clone()
        for mine, theirs in zip(compiled.learner.generators, eager.learner.generators, strict=True):
            mine.set_state(theirs.get_state())  # the eager agent's exploration drew from its generators
        update_actor = step % 2 == 1
        want = eager.learner.update(replay.gather(index), update_actor, update_actor)
        metrics.append((want, compiled.learner.update_from(replay, index, update_actor, update_actor)))
    eager.close()
    return eager, compiled, metrics


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cls", [TD3, SAC])
def test_the_compiled_update_acts_as_the_policy_would_after_it(cls, device, learner_modules):
    """After an env step the loop's update also gives the policy's next exploration action, in its graph
    (``update_and_act_from``): the eager update followed by the policy's own call, from the same draws."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=64, learning_starts=40)
    eager = cls("Pendulum-v1", cfg, seed=[0, 1], device=device)
    compiled = cls("Pendulum-v1", cfg, seed=[0, 1], compile=True, device=device)
    eager.trainer.start()
    replay, collector = eager.buffer, eager.trainer.collector
    for step in range(STEPS[device]):
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
        torch.testing.assert_close(got, want, **TOLERANCE[device])
    assert_same_networks(learner_modules(eager), learner_modules(compiled), **TOLERANCE[device])
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


# A GPU's kernels sum in other orders than the eager ops': float32 rounding, grown by a few Adam steps.
TOLERANCE = {"cpu": {"rtol": 1e-5, "atol": 1e-6}, "cuda": {"rtol": 1e-4, "atol": 1e-5}}
STEPS = {"cpu": 8, "cuda": 12}  # on a GPU, each branch replays its CUDA graph from its fifth call: 2 of those


def assert_captured(update, branches: int) -> None:
    """Each branch the loop asked for runs its captured graph (``actorcritic.core.capture``), not dynamo,
    and on a GPU as a CUDA graph."""
    assert len(update.graphs) == branches and all(update.graphs.values()), update.graphs
    for graph in update.graphs.values():
        assert graph.gpu == (update.device_type == "cuda")
        assert (graph.cuda_graph is not None) == graph.gpu


def assert_same_networks(want: dict, got: dict, rtol: float, atol: float) -> None:
    for name, module in want.items():
        other = got[name].state_dict()
        for k, t in module.state_dict().items():
            torch.testing.assert_close(other[k], t, rtol=rtol, atol=atol, msg=lambda m, k=f"{name}.{k}": f"{k}: {m}")
