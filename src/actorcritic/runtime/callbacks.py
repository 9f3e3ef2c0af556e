"""Callbacks: user code the loop calls at the points of a run, as ``agent.learn(steps, callbacks=[...])``.

    on_training_start   once, before the first turn
    on_step             after every turn (num_envs env steps)            only if a callback defines it
    on_update           after every turn that ran updates                only if a callback defines it
    on_evaluation       after each evaluation
    on_checkpoint       after each checkpoint is written
    on_training_end     once, after the final evaluation, checkpoint and summary

Each hook is called once per member (seed) with that member's ``RunState``. A hook that returns ``False``
asks to stop; training stops after the event at which every member was asked to (a group trains as one
computation, so it stops together). Raising stops at once, as any exception does (the tuner prunes so).
The loop calls ``on_step`` and ``on_update`` only when some callback overrides them, so callbacks that
do not cost nothing on the hot path: evaluations, logs and checkpoints are thousands of steps apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actorcritic.errors import UserError
from actorcritic.runtime import checkpoint as ckpt
from actorcritic.runtime.evaluation import EvalResult

if TYPE_CHECKING:
    from actorcritic.runtime.agent import Agent

HOOKS = ("on_training_start", "on_step", "on_update", "on_evaluation", "on_checkpoint", "on_training_end")
HOT = ("on_step", "on_update")  # called every turn: only when some callback defines them


@dataclass(frozen=True)
class RunState:
    """What a hook sees: the run at ``step``, from member ``member``'s side (0 for a run alone)."""

    agent: Agent
    step: int
    member: int
    seed: int
    run_dir: Path | None
    metrics: dict[str, Any] = field(default_factory=dict)
    """The member's last row of metrics.csv (losses, returns, sps; empty before the first log)."""
    evaluation: EvalResult | None = None
    """The member's last evaluation (None before the first)."""


class Callback:
    """Override the hooks you need; each returns ``False`` to ask training to stop, anything else goes on."""

    def on_training_start(self, s: RunState) -> bool | None: ...
    def on_step(self, s: RunState) -> bool | None: ...
    def on_update(self, s: RunState) -> bool | None: ...
    def on_evaluation(self, s: RunState) -> bool | None: ...
    def on_checkpoint(self, s: RunState) -> bool | None: ...
    def on_training_end(self, s: RunState) -> bool | None: ...


class Callbacks:
    """The loop's side: the callbacks of one ``learn`` call, each hook bound once, so that an event nobody
    overrides costs one attribute test."""

    def __init__(self, agent: Agent, callbacks: Sequence[Callback]):
        for cb in callbacks:
            if not any(callable(getattr(cb, hook, None)) for hook in HOOKS):
                raise UserError(f"{cb!r} is not a callback: it has none of {', '.join(HOOKS)}")
            if isinstance(cb, StopAtTarget) and cb.target is None and agent.target_return is None:
                raise UserError(f"stopping at the target needs a target return, and {agent.env_id} has none: set target_return")  # fmt: skip
        self.agent = agent
        self.hooks = {
            hook: [f for cb in callbacks if _overrides(cb, hook) and (f := getattr(cb, hook))] for hook in HOOKS
        }
        self.on_step, self.on_update = bool(self.hooks["on_step"]), bool(self.hooks["on_update"])
        self.stop = False

    def __call__(self, hook: str) -> bool:
        """Call ``hook`` for every member; True (and ``stop`` set) when every member asked to stop."""
        fns = self.hooks[hook]
        if not fns:
            return False
        agent, step = self.agent, self.agent.clock.global_step
        votes = []
        for i, m in enumerate(agent.members):
            s = RunState(agent, step, i, m.seed, m.run_dir, m.last_metrics, m.last_eval)
            answers = [f(s) for f in fns]  # every callback hears every member
            votes.append(any(a is False for a in answers))
        self.stop = self.stop or all(votes)
        return self.stop


def _overrides(cb: Any, hook: str) -> bool:
    f = getattr(type(cb), hook, None)
    return callable(getattr(cb, hook, None)) and f is not getattr(Callback, hook)


def config_callbacks(config: Any) -> list[Callback]:
    """The built-ins a config asks for: ``stop_at_target``, ``patience``."""
    out: list[Callback] = [StopAtTarget()] if config.stop_at_target else []
    return out + ([StopOnNoImprovement(config.patience)] if config.patience is not None else [])


# ------------------------------------------------------------------------------------------ built-ins
class StopAtTarget(Callback):
    """Stop once every member's evaluation has reached ``target`` (default: the env's target return, or
    the config's ``target_return``). ``stop_at_target=True`` in a config adds this callback."""

    def __init__(self, target: float | None = None):
        self.target = target
        self.reached: set[int] = set()  # members whose evaluation reached ``target``

    def on_evaluation(self, s: RunState) -> bool | None:
        if self.target is None:  # the agent's own target: its record of solving survives a resume
            return False if s.agent.members[s.member].solved_at_step is not None else None
        if s.evaluation is not None and s.evaluation.mean_return >= self.target:
            self.reached.add(s.member)
        return False if s.member in self.reached else None


class StopOnNoImprovement(Callback):
    """Stop when ``patience`` evaluations in a row have not beaten a member's best return by more than
    ``min_delta`` (early stopping; the best model is in checkpoints/best.pt)."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        if patience < 1:
            raise UserError(f"patience must be >= 1, got {patience}")
        self.patience, self.min_delta = patience, min_delta
        self.best: dict[int, float] = {}
        self.since_best: dict[int, int] = {}

    def on_evaluation(self, s: RunState) -> bool | None:
        assert s.evaluation is not None
        value = s.evaluation.mean_return
        if s.member not in self.best or value > self.best[s.member] + self.min_delta:
            self.best[s.member], self.since_best[s.member] = value, 0
        else:
            self.since_best[s.member] += 1
        return False if self.since_best[s.member] >= self.patience else None


class SaveEvery(Callback):
    """Keep a resumable checkpoint every ``interval`` env steps, as ``checkpoints/step_<N>.pt`` in each
    member's run directory (or ``directory``/seed<S>/), for looking at the policy as it learned."""

    def __init__(self, interval: int, directory: str | Path | None = None, include_buffer: bool = False):
        if interval < 1:
            raise UserError(f"interval must be >= 1, got {interval}")
        self.interval, self.directory, self.include_buffer = interval, directory, include_buffer
        self.saved: dict[int, int] = {}  # member -> the last multiple of interval saved

    def on_training_start(self, s: RunState) -> bool | None:
        self.saved[s.member] = s.step // self.interval  # the run (or its resumption) starts here
        return None

    def on_step(self, s: RunState) -> bool | None:
        if (due := s.step // self.interval) > self.saved[s.member]:
            self.saved[s.member] = due
            self.save(s)
        return None

    def save(self, s: RunState) -> Path:
        where = Path(self.directory) / f"seed{s.seed}" if self.directory is not None else s.run_dir
        if where is None:
            raise UserError("SaveEvery needs a run directory or a directory to save into")
        path = where / "checkpoints" / f"step_{s.step}.pt" if self.directory is None else where / f"step_{s.step}.pt"
        ckpt.save_checkpoint(s.agent.state_dict(s.member, include_buffer=self.include_buffer), path)
        return path
