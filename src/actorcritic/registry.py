"""Algorithms by name, and ``load``: a trained agent back from a run directory or checkpoint."""

from __future__ import annotations

from pathlib import Path

from actorcritic.algos.ddpg_td3 import DDPG, TD3
from actorcritic.algos.sac import SAC
from actorcritic.config import config_from_dict
from actorcritic.errors import UserError
from actorcritic.train import checkpoint as ckpt
from actorcritic.train.off_policy import CHECKPOINT_FORMAT, OffPolicyAgent

ALGOS: dict[str, type[OffPolicyAgent]] = {"ddpg": DDPG, "td3": TD3, "sac": SAC}


def load(path: str | Path, which: str = ckpt.LATEST, device: str = "cpu") -> OffPolicyAgent:
    """The agent saved in a run directory (``checkpoints/<which>``) or a checkpoint file."""
    state = ckpt.load_checkpoint(path, which)
    if state["format"] != CHECKPOINT_FORMAT:
        raise UserError(f"checkpoint format {state['format']} is not supported (expected {CHECKPOINT_FORMAT})")
    if state["algo"] not in ALGOS:
        raise UserError(f"checkpoint is for unknown algorithm '{state['algo']}'")
    cls = ALGOS[state["algo"]]
    config = config_from_dict(cls.config_cls, state["config"], source=f"checkpoint {path}")
    agent = cls(state["env"], config, seed=state["seed"], device=device)
    try:
        agent.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError) as e:
        raise UserError(f"checkpoint '{path}' does not match its config: {e}") from None
    return agent
