"""Algorithms by name, and ``load``: a trained agent back from a run directory or checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from actorcritic.algos.a2c import A2C
from actorcritic.algos.a3c import A3C
from actorcritic.algos.ddpg_td3 import DDPG, TD3
from actorcritic.algos.ppo import PPO
from actorcritic.algos.reinforce import REINFORCE
from actorcritic.algos.sac import SAC
from actorcritic.config import config_from_dict
from actorcritic.errors import UserError
from actorcritic.train import checkpoint as ckpt
from actorcritic.train.agent import CHECKPOINT_FORMAT, Agent

ALGOS: dict[str, type[Agent]] = {
    "ddpg": DDPG,
    "td3": TD3,
    "sac": SAC,
    "reinforce": REINFORCE,
    "a2c": A2C,
    "a3c": A3C,
    "ppo": PPO,
}


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
                f"checkpoint '{p}' has format {state.get('format')}, this version reads {CHECKPOINT_FORMAT}"
            )
        if state["algo"] not in ALGOS:
            raise UserError(f"checkpoint '{p}' is for unknown algorithm '{state['algo']}'")
        for key in ("algo", "env", "config", "env_kwargs"):
            if state[key] != states[0][key]:
                raise UserError(f"'{p}' and '{paths[0]}' differ in {key}: they cannot train as one group")
    first = states[0]
    cls = ALGOS[first["algo"]]
    config = config_from_dict(cls.config_cls, first["config"], source=f"checkpoint {paths[0]}")
    seeds = [s["seed"] for s in states]
    seed = seeds[0] if len(seeds) == 1 else seeds
    agent = cls(first["env"], config, seed=seed, device=device, compile=compile, env_kwargs=first["env_kwargs"])
    try:
        agent.load_state_dict(states)
    except (KeyError, RuntimeError, ValueError) as e:
        raise UserError(f"checkpoint '{paths[0]}' does not match its config: {e}") from None
    return agent
