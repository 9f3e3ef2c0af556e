"""The swarm's PettingZoo view: it passes PettingZoo's own API and seed tests, it is the Gymnasium env seen
through dicts (checked step by step against ``SwarmEnv``), and it copies nothing the env does not."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from pettingzoo import ParallelEnv

from actorcritic.envs.swarm import parallel_env
from actorcritic.envs.swarm.env import SwarmEnv
from actorcritic.errors import UserError

with warnings.catch_warnings():  # pettingzoo.test imports example envs through a deprecated path
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import parallel_api_test, parallel_seed_test

SMALL = {"n": 20, "neighbours_observed": 4, "episode_steps": 5}


@pytest.mark.filterwarnings("error")  # parallel_api_test reports most of its findings as warnings
@pytest.mark.parametrize("kwargs", [SMALL, {**SMALL, "dim": 3, "relative_positions": True, "reward": "local"}])
def test_passes_pettingzoo_api_and_seed_tests(kwargs):
    env = parallel_env(**kwargs)
    assert isinstance(env, ParallelEnv) and env.metadata["name"] == "swarm_v0"
    parallel_api_test(env, num_cycles=3 * kwargs["episode_steps"])  # long enough to reach the truncation
    parallel_seed_test(lambda: parallel_env(**kwargs), num_cycles=3 * kwargs["episode_steps"])


@pytest.mark.parametrize(("reward", "dim"), [("delta", 2), ("local", 3), ("global", 2)])
def test_is_the_gymnasium_env_seen_per_particle(reward, dim):
    kwargs = {**SMALL, "reward": reward, "dim": dim}
    env, reference = parallel_env(**kwargs), SwarmEnv(**kwargs)
    obs, infos = env.reset(seed=3)
    ref_obs, ref_info = reference.reset(seed=3)
    names = [f"particle_{i}" for i in range(20)]
    assert env.agents == env.possible_agents == names
    rng = np.random.default_rng(0)
    for step in range(1, SMALL["episode_steps"] + 1):
        np.testing.assert_array_equal(np.stack([obs[a] for a in names]), ref_obs)
        assert {a: info["order_parameter"] for a, info in infos.items()} == dict.fromkeys(
            names, ref_info["order_parameter"]
        )
        actions = rng.uniform(-1, 1, (20, dim - 1)).astype(np.float32)
        obs, rewards, terminations, truncations, infos = env.step(dict(zip(names, actions, strict=True)))
        ref_obs, ref_rewards, _, ref_truncated, ref_info = reference.step(actions)
        assert rewards == dict(zip(names, ref_rewards.tolist(), strict=True))
        assert terminations == dict.fromkeys(names, False)
        assert (
            truncations
            == dict.fromkeys(names, step == SMALL["episode_steps"])
            == dict(zip(names, ref_truncated, strict=True))
        )
    assert env.agents == []  # the episode ended for every particle at once
    assert infos["particle_0"] is not infos["particle_1"]  # wrappers write into them one by one
    env.reset()
    assert env.agents == names


def test_observations_are_rows_of_one_array_and_actions_are_stacked_once(monkeypatch):
    env = parallel_env(**SMALL)
    obs, _ = env.reset(seed=0)
    base = obs["particle_0"].base
    assert base.shape == (20, 8) and all(o.base is base for o in obs.values())
    sent, turned = [], []
    step, turn = env.vector_env.step, env.vector_env.turn
    monkeypatch.setattr(env.vector_env, "step", lambda actions: sent.append(actions) or step(actions))
    monkeypatch.setattr(env.vector_env, "turn", lambda h, actions: turned.append(actions) or turn(h, actions))
    obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
    base = obs["particle_0"].base
    assert all(o.base is base and np.shares_memory(o, base) for o in obs.values())
    # one float64 array goes to SwarmEnv, which turns the particles with it as it is (no second copy)
    assert sent[0].shape == (20, 1) and sent[0].dtype == np.float64
    assert np.shares_memory(turned[0], sent[0])


def test_spaces_are_one_object_per_agent_and_the_gymnasium_envs():
    env = parallel_env(**SMALL)
    for a in env.possible_agents:
        assert env.observation_space(a) is env.observation_space(a) and env.action_space(a) is env.action_space(a)
        assert env.observation_space(a) == env.vector_env.single_observation_space
        assert env.action_space(a) == env.vector_env.single_action_space
    assert env.action_space("particle_0") is not env.action_space("particle_1")  # seeded one by one


def test_step_needs_every_particles_action_in_an_episode():
    env = parallel_env(**SMALL)
    with pytest.raises(ValueError, match="call reset"):
        env.step({})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="no action for particle_0"):
        env.step({a: np.zeros(1) for a in env.agents[1:]})


def test_render_gives_the_swarms_rgb_frames():
    env = parallel_env(**SMALL, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[-1] == 3 and frame.dtype == np.uint8
    env.close()


def test_without_pettingzoo_names_the_marl_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pettingzoo", None)  # `import pettingzoo` now raises ImportError
    with pytest.raises(UserError, match=r'pip install -e "\.\[marl\]"'):
        parallel_env(**SMALL)


def test_importing_actorcritic_does_not_import_pettingzoo():
    code = "import sys, actorcritic, actorcritic.envs.swarm; assert 'pettingzoo' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
