"""A compiled update saved whole and loaded by the next learner (``actorcritic.core.precompile``): it trains
as the update dynamo traces, each graph has its own file, a file is only loaded for the graph it holds, and
a torn file is compiled again.

The rest of the suite runs with ``ACTORCRITIC_PRECOMPILE=0`` (tests/conftest.py), so that the tests that
count dynamo's graphs see dynamo compile; these tests turn it on, with files in their own folder."""

import pytest
import torch

from actorcritic import DDPG, TD3
from actorcritic.core import precompile
from actorcritic.core.precompile import describe, key

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Precompiled updates on, saved in a folder of the test's own; returns it."""
    monkeypatch.setattr("actorcritic.algos.off_policy.PRECOMPILE", True)
    monkeypatch.setattr(precompile, "folder", lambda: tmp_path)
    return tmp_path


def trained(cls, seed: int = 0, **settings) -> dict[str, torch.Tensor]:
    """A compiled agent's weights after 10 updates (both of TD3's branches, each past its capture)."""
    cfg = cls.config_cls(hidden_sizes=(16, 16), batch_size=16, learning_starts=30, **settings)
    agent = cls("Pendulum-v1", cfg, seed=seed, compile=True)
    agent.trainer.start()
    for _ in range(30):
        agent.trainer.gather()
    for _ in range(10):
        agent.trainer.gather()
        agent.trainer.train(1, act=True)
    update = agent.learner.step_and_act_from
    assert update.graphs and all(update.graphs.values()), update.graphs  # captured, as without the files
    weights = {k: v.clone() for k, v in agent.learner.actor.state_dict().items()}
    agent.close()
    return weights


def test_a_loaded_update_trains_as_the_traced_one(files, monkeypatch):
    saved = trained(TD3)
    names = sorted(p.name for p in files.glob("*.bin"))
    assert len(names) == 2, names  # TD3's two branches: the critic alone; critic, actor and targets
    loads = []
    load = precompile.load
    monkeypatch.setattr(precompile, "load", lambda path: loads.append(path) or load(path))
    loaded = trained(TD3)
    assert len(loads) == 2 and sorted(p.name for p in files.glob("*.bin")) == names  # loaded, nothing new
    for name, tensor in saved.items():
        assert torch.equal(loaded[name], tensor), name
    monkeypatch.setattr("actorcritic.algos.off_policy.PRECOMPILE", False)
    traced = trained(TD3)  # through dynamo, as every run did before
    for name, tensor in saved.items():
        torch.testing.assert_close(traced[name], tensor, **TOLERANCE)


def test_a_torn_file_is_compiled_again(files):
    saved = trained(DDPG)
    (path,) = files.glob("*.bin")
    path.write_bytes(path.read_bytes()[:1000])
    again = trained(DDPG)
    assert path.stat().st_size > 1000  # saved whole again
    for name, tensor in saved.items():
        assert torch.equal(again[name], tensor), name


def test_another_setting_is_another_file(files):
    trained(DDPG)
    trained(DDPG, seed=1)  # the seed is not in the graph: the same file
    assert len(list(files.glob("*.bin"))) == 1
    trained(DDPG, gamma=0.9)  # a constant of the graph
    assert len(list(files.glob("*.bin"))) == 2


def test_the_key_reads_layouts_and_settings_never_values():
    def learner(seed=0, **settings):
        cfg = DDPG.config_cls(**{"hidden_sizes": (16, 16), "batch_size": 16, **settings})
        return DDPG("Pendulum-v1", cfg, seed=seed).learner

    index = (torch.zeros(1, 16, dtype=torch.long),)
    base = key(learner(), index, (True, 1), {})
    assert key(learner(seed=3), index, (True, 1), {}) == base  # other weights, the same graph
    assert key(learner(tau=0.01), index, (True, 1), {}) != base
    assert key(learner(hidden_sizes=(16, 32)), index, (True, 1), {}) != base
    assert key(learner(), (torch.zeros(1, 32, dtype=torch.long),), (True, 1), {}) != base  # another batch size
    assert key(learner(), index, (True, 2), {}) != base  # another thread count, say
    assert "tensor(" not in describe(learner())  # shapes and dtypes, no values
