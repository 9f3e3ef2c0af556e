"""The public agents, ``ALGOS`` by name, and ``load``: a trained agent back from a run directory or checkpoint.

Each class names an algorithm (``algos.SPECS``) and picks its back end: the envs stepped here
(``backend="local"``), Ray rollout workers (``backend="ray"`` or a ``RayConfig``), and for A3C its worker
processes or Ray actors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from actorcritic.algos import SPECS, A2CConfig, A3CConfig, DDPGConfig, PPOConfig, REINFORCEConfig, SACConfig, TD3Config
from actorcritic.backends.a3c import A3CProcesses
from actorcritic.backends.ray.a3c import RayA3C
from actorcritic.backends.ray.collectors import RayBackend
from actorcritic.backends.ray.config import RayConfig
from actorcritic.core.config import config_from_dict
from actorcritic.errors import UserError
from actorcritic.runtime import checkpoint as ckpt
from actorcritic.runtime.agent import Agent
from actorcritic.runtime.run_dir import CONFIG
from actorcritic.runtime.state import CHECKPOINT_FORMAT

Backend = Literal["local", "ray"] | RayConfig


class _PublicAgent(Agent):
    """An agent whose ``backend`` argument is a name or a ``RayConfig``."""

    def __init__(self, env: str | None = None, config: Any = None, seed: int | Sequence[int] = 0,
                 run_dir: str | Path | Sequence[str | Path] | None = None, checkpoint_interval: int | None = None,
                 device: str = "cpu", compile: bool = False, env_kwargs: dict[str, Any] | None = None,
                 backend: Backend = "local"):  # fmt: skip
        super().__init__(env, config, seed, run_dir, checkpoint_interval, device, compile, env_kwargs,
                         make_backend(self.spec.name, backend))  # fmt: skip


def make_backend(algo: str, backend: Backend) -> Any:
    """The back end object for ``backend``: None (the local trainer) or one that brings its own trainer."""
    if backend not in ("local", "ray") and not isinstance(backend, RayConfig):
        raise UserError(f"backend must be 'local', 'ray' or a RayConfig, got {backend!r}")
    ray = backend == "ray" or isinstance(backend, RayConfig)
    if SPECS[algo].data == "async":
        return RayA3C() if ray else A3CProcesses()
    if ray:
        return RayBackend(backend if isinstance(backend, RayConfig) else RayConfig())
    return None


class DDPG(_PublicAgent):
    """Deep Deterministic Policy Gradient: a deterministic tanh actor and a Q critic (``algos/ddpg.py``)."""

    spec, config_cls = SPECS["ddpg"], DDPGConfig


class TD3(_PublicAgent):
    """Twin Delayed DDPG: clipped double-Q, target policy smoothing, delayed actor updates (``algos/ddpg.py``)."""

    spec, config_cls = SPECS["td3"], TD3Config


class SAC(_PublicAgent):
    """Soft Actor-Critic: maximum entropy, a squashed Gaussian actor, twin critics (``algos/sac.py``)."""

    spec, config_cls = SPECS["sac"], SACConfig


class REINFORCE(_PublicAgent):
    """Monte Carlo policy gradient over whole episodes, with a value baseline (``algos/reinforce.py``)."""

    spec, config_cls, default_env = SPECS["reinforce"], REINFORCEConfig, "CartPole-v1"


class A2C(_PublicAgent):
    """Advantage actor-critic: n-step returns, a value baseline, synchronous envs (``algos/a2c.py``)."""

    spec, config_cls, default_env = SPECS["a2c"], A2CConfig, "CartPole-v1"


class A3C(_PublicAgent):
    """Asynchronous advantage actor-critic: workers' gradients applied as they arrive (``algos/a3c.py``)."""

    spec, config_cls, default_env = SPECS["a3c"], A3CConfig, "CartPole-v1"


class PPO(_PublicAgent):
    """Proximal policy optimization: clipped surrogate, minibatch epochs, GAE (``algos/ppo.py``)."""

    spec, config_cls, default_env = SPECS["ppo"], PPOConfig, "CartPole-v1"


ALGOS: dict[str, type[Agent]] = {
    "ddpg": DDPG,
    "td3": TD3,
    "sac": SAC,
    "reinforce": REINFORCE,
    "a2c": A2C,
    "a3c": A3C,
    "ppo": PPO,
}


def agent_class(algo: str) -> type[Agent]:
    """The agent class of ``algo``, or the one error for an unknown name."""
    if algo not in ALGOS:
        raise UserError(f"unknown algorithm '{algo}'; choose one of: {', '.join(ALGOS)}")
    return ALGOS[algo]


def load(
    path: str | Path | Sequence[str | Path], which: str = ckpt.LATEST, device: str = "cpu", compile: bool = False
) -> Agent:
    """The agent saved in a run directory (``checkpoints/<which>``) or a checkpoint file.

    Several paths (the members of a ``--seeds K`` group, or runs of one config with different seeds)
    load as one group that trains on together.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    states = [ckpt.load_checkpoint(p, which) for p in paths]
    for p, state in zip(paths, states, strict=True):
        if state.get("format") != CHECKPOINT_FORMAT:
            raise UserError(
                f"checkpoint '{p}' has format {state.get('format')}, this version reads {CHECKPOINT_FORMAT} "
                "(it was written by another version of actorcritic)"
            )
    agent = _agent_from_run_info(paths, states, "checkpoint", device, compile)
    try:
        agent.load_state_dict(states)
    except (KeyError, RuntimeError, ValueError) as e:
        raise UserError(f"checkpoint '{paths[0]}' does not match its config: {e}") from None
    return agent


def restart(run_dirs: Sequence[str | Path], device: str = "cpu", compile: bool = False) -> Agent:
    """A fresh agent for run directories that were stopped before their first checkpoint, from the
    config.json each one wrote when it started: the same algorithm, env, seed and settings, at step 0."""
    infos = []
    for d in run_dirs:
        try:
            infos.append(json.loads((Path(d) / CONFIG).read_text()))
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read {Path(d) / CONFIG}: {e}") from None
    agent = _agent_from_run_info(list(run_dirs), infos, "config", device, compile)
    agent.clock.total_steps, agent.checkpoint_interval = (
        infos[0].get("total_steps"),
        infos[0].get("checkpoint_interval"),
    )
    return agent


def check_one_group(paths: Sequence[str | Path], infos: Sequence[dict[str, Any]]) -> None:
    """A UserError unless the runs (their checkpoints' or config.json's run info) are seeds of one
    configuration: the same algorithm, env, settings and back end."""
    for p, info in zip(paths, infos, strict=True):
        for key in ("algo", "env", "config", "env_kwargs", "backend", "backend_config"):
            if info.get(key) != infos[0].get(key):
                raise UserError(f"'{p}' and '{paths[0]}' differ in {key}: they cannot train as one group")


def _agent_from_run_info(paths: Sequence[str | Path], infos: list[dict[str, Any]], source: str, device: str,
                         compile: bool) -> Agent:  # fmt: skip
    """The agent (or group) that a checkpoint's or config.json's run info describes, with fresh state."""
    check_one_group(paths, infos)
    first, where = infos[0], f"{source} {paths[0]}"
    cls = agent_class(first["algo"])
    config = config_from_dict(cls.spec.config_cls, first["config"], source=where)
    backend: Backend = "local"
    if first.get("backend") == "ray":
        saved = first.get("backend_config")
        backend = config_from_dict(RayConfig, saved, source=where) if saved else "ray"
    seeds = [info["seed"] for info in infos]
    seed = seeds[0] if len(seeds) == 1 else seeds
    return cls(first["env"], config, seed=seed, device=device, compile=compile, env_kwargs=first["env_kwargs"],
               backend=backend)  # fmt: skip
