"""Making envs: ids, user classes, and optional extras that fail with a message naming them."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.envs.make import make_env, make_vector_env
from actorcritic.errors import UserError

HAS_MUJOCO = importlib.util.find_spec("mujoco") is not None

BLOCK_EXTRA = """
import sys
sys.modules["{module}"] = None  # as if the extra were not installed
from actorcritic.envs.make import make_env
from actorcritic.errors import UserError
try:
    make_env("{env}")
except UserError as e:
    print(e)
"""


@pytest.mark.parametrize(
    ("env", "module", "extra"),
    [*((env, "mujoco", "mujoco") for env in ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "InvertedPendulum-v5")),
     ("LunarLanderContinuous-v3", "Box2D", "box2d")],
)  # fmt: skip
def test_an_env_without_its_extra_names_the_extra(env, module, extra):
    out = subprocess.run(
        [sys.executable, "-c", BLOCK_EXTRA.format(env=env, module=module)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout.strip()
        == f'env \'{env}\' needs the [{extra}] extra: pip install -e ".[{extra}]" (or pip install "actorcritic[{extra}]")'
    )


@pytest.mark.skipif(not HAS_MUJOCO, reason='needs the [mujoco] extra: pip install -e ".[mujoco]"')
@pytest.mark.parametrize(
    ("env", "obs_dim", "act_dim"),
    [("HalfCheetah-v5", 17, 6), ("Hopper-v5", 11, 3), ("Walker2d-v5", 17, 6), ("InvertedPendulum-v5", 4, 1)],
)
def test_mujoco_envs_work_with_the_extra(env, obs_dim, act_dim):
    from actorcritic import SAC, SACConfig

    agent = SAC(env, SACConfig(hidden_sizes=(16,), learning_starts=20, batch_size=8, eval_interval=0, eval_episodes=1))
    assert (agent.obs_dim, agent.action_dim) == (obs_dim, act_dim)
    agent.learn(40)
    assert agent.num_updates == 21


def test_unknown_env_and_bad_user_class():
    with pytest.raises(UserError, match="unknown environment"):
        make_env("NoSuchEnv-v0")
    with pytest.raises(UserError, match="has no attribute"):
        make_env("toy_envs:NoSuchClass")
    with pytest.raises(UserError, match=r"not a gymnasium\.Env"):
        make_env("collections:OrderedDict")


def test_vector_env_resets_are_ours_and_seeded():
    envs = make_vector_env("Pendulum-v1", 2)
    seeds = [stream_seed(0, Stream.ENV_EPISODE, i, 0) for i in range(2)]
    obs, _ = envs.reset(seed=seeds)
    single = make_env("Pendulum-v1")
    for i in range(2):
        np.testing.assert_array_equal(obs[i], single.reset(seed=seeds[i])[0])
    # Autoreset is disabled: after a truncation the env is not silently reset by the next step.
    assert envs.metadata.get("autoreset_mode", envs.autoreset_mode).name == "DISABLED"
