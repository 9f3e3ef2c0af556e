"""An agent's state as data: its checkpoints, its run info (config.json) and its summary (summary.json).

A member's checkpoint is exactly the checkpoint of a run trained alone: its block of the learner's
stacked networks and optimizer moments (``core/members.py``), its replay data or normalisers, its RNG
streams, noise and statistics, and the run's counters. A group loads from its members' checkpoints.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn
from torch.optim import Optimizer

from actorcritic.core.config import config_to_dict
from actorcritic.core.members import member_state, stack_states
from actorcritic.core.optim import Adam
from actorcritic.runtime import checkpoint as ckpt

if TYPE_CHECKING:
    from actorcritic.runtime.agent import Agent

OPTIMIZERS = (Optimizer, Adam)  # torch's (on-policy) and the off-policy update's own Adam
CHECKPOINT_FORMAT = 3  # 3: the recomposed engine (named seed streams, counters from the loop, Ray settings apart)


def _checkpointed(agent: Agent, kind: type | tuple[type, ...]) -> dict[str, Any]:
    """The learner's modules or optimizers by name, as its ``checkpointed`` lists them."""
    items = {name: getattr(agent.learner, name) for name in agent.learner.checkpointed}
    return {name: x for name, x in items.items() if isinstance(x, kind)}


def run_info(agent: Agent, member: int = 0) -> dict[str, Any]:
    backend = agent.backend
    return {
        "algo": agent.algo,
        "env": agent.env_id,
        "seed": agent.members[member].seed,
        "env_kwargs": agent.env_kwargs,
        "total_steps": agent.clock.total_steps,
        "checkpoint_interval": agent.checkpoint_interval,
        "config": config_to_dict(agent.config),
        "backend": backend.name if backend is not None else "local",
        "backend_config": dataclasses.asdict(backend.config) if getattr(backend, "config", None) else None,
    }


def state_dict(agent: Agent, member: int = 0, include_buffer: bool = True) -> dict[str, Any]:
    n = agent.num_members
    return {
        "format": CHECKPOINT_FORMAT,
        **run_info(agent, member),
        "modules": {k: member_state(m.state_dict(), member, n) for k, m in _checkpointed(agent, nn.Module).items()},
        "optimizers": {k: member_state(o.state_dict(), member, n) for k, o in _checkpointed(agent, OPTIMIZERS).items()},
        "clock": agent.clock.state_dict(),
        "episodes": agent.runner.state_dict(member),
        "member": agent.members[member].state_dict(),
        "trainer": agent.trainer.state_dict(member, include_buffer),
        "logger_step": agent.clock.global_step,  # rows after this are dropped on resume
    }


def load_state_dict(agent: Agent, states: list[dict[str, Any]]) -> None:
    """Restore from one checkpoint per member. The members must share their step counts and config."""
    if len(states) != agent.num_members:
        raise ValueError(f"{len(states)} checkpoints for {agent.num_members} members")
    steps = {(s["clock"]["global_step"], s["clock"]["num_updates"]) for s in states}
    if len(steps) > 1:
        raise ValueError(f"the checkpoints are at different steps/updates {sorted(steps)}")
    for k, module in _checkpointed(agent, nn.Module).items():
        module.load_state_dict(stack_states([s["modules"][k] for s in states]))
    for k, optim in _checkpointed(agent, OPTIMIZERS).items():
        optim.load_state_dict(stack_states([s["optimizers"][k] for s in states]))
    agent.clock.load_state_dict(states[0]["clock"])
    agent.checkpoint_interval = states[0].get("checkpoint_interval")
    for i, (m, s) in enumerate(zip(agent.members, states, strict=True)):
        m.load_state_dict(s["member"])
        agent.runner.load_state_dict(s["episodes"], i)
    agent.trainer.load_state_dict([s["trainer"] for s in states])


def save(agent: Agent, path: str | Path, member: int = 0) -> Path:
    return ckpt.save_checkpoint(state_dict(agent, member), path)


def summary(agent: Agent, member: int = 0) -> dict[str, Any]:
    m, clock = agent.members[member], agent.clock
    ev = m.last_eval
    return {
        "algo": agent.algo,
        "env": agent.env_id,
        "seed": m.seed,
        "total_steps": clock.global_step,
        "planned_total_steps": clock.total_steps,
        "final_eval_mean_return": ev.mean_return if ev else None,
        "final_eval_std_return": ev.std_return if ev else None,
        "final_eval_metrics": ev.metrics if ev else None,
        "best_eval_mean_return": m.best_eval_return if ev else None,
        "target_return": agent.target_return,
        "solved_at_step": m.solved_at_step,
        "wall_seconds": round(clock.wall_seconds, 3),
        "num_updates": clock.num_updates,
        "updates_per_second": round(clock.num_updates / clock.update_seconds, 1) if clock.update_seconds else None,
        "steps_per_second": round(clock.global_step / clock.wall_seconds, 1) if clock.wall_seconds else None,
        "trained_with_seeds": [x.seed for x in agent.members],
        **({"worker_restarts": clock.worker_restarts} if getattr(agent.backend, "name", "") == "ray" else {}),
    }
