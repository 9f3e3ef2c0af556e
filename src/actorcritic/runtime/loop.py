"""The loop: it owns time. Turns of the trainer until the step budget is spent, and between them
evaluation, logging and checkpoints when their intervals are crossed; the progress bar; the end of the run.

    while global_step < end:
        trainer.turn()                        collect, then the updates that are due
        on_step, on_update                    callbacks, only if one defines them
        evaluate | log | checkpoint           whichever interval was crossed (workers held meanwhile)
        stop early if the callbacks ask (stop_at_target and patience add theirs)
    final evaluation, checkpoint, plots, summary.json

Each run directory is locked while its run trains (one writer). Ctrl-C or SIGTERM asks the loop to stop
after the current turn: it writes a checkpoint and raises ``Interrupted``, whose message says how to resume.
An evaluation under way is dropped (an env whose episodes never end would hold it forever). A second Ctrl-C,
or SIGTERM twice, stops at once, keeping the last checkpoint.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from actorcritic.core.files import held_lock
from actorcritic.errors import Interrupted, TrainingDiverged, UserError
from actorcritic.runtime import checkpoint as ckpt
from actorcritic.runtime import state
from actorcritic.runtime.callbacks import Callback, Callbacks, config_callbacks
from actorcritic.runtime.denormals import flush_denormals
from actorcritic.runtime.heap import keep_freed_memory
from actorcritic.runtime.logging import RunLogger
from actorcritic.runtime.plots import plot_run
from actorcritic.runtime.progress import ProgressBar
from actorcritic.runtime.run_dir import CONFIG, SUMMARY, create_run_dir, write_json

if TYPE_CHECKING:
    from actorcritic.runtime.agent import Agent


def learn(agent: Agent, steps: int, progress: bool = False, callbacks: Sequence[Callback] = ()) -> None:
    """Train ``agent`` for ``steps`` more env steps, calling ``callbacks`` at the points of the run."""
    if steps < 0:
        raise UserError(f"steps must be >= 0, got {steps}")
    calls = Callbacks(agent, [*callbacks, *config_callbacks(agent.config)])
    clock = agent.clock
    end = clock.global_step + steps
    clock.total_steps = end
    bar = None
    with contextlib.ExitStack() as held, StopSignals() as stop:
        try:
            _start(agent, held)
            calls("on_training_start")
            bar = ProgressBar(end, clock.global_step, unit="steps", fields=PROGRESS_FIELDS) if progress else None
            started = time.perf_counter()
            while clock.global_step < end:
                if stop.requested:
                    agent.trainer.stop()  # a checkpoint of a model no worker is changing
                    _checkpoint(agent, calls)
                    raise Interrupted(_interrupted(agent, stop.requested, saved=True))
                before, updates = clock.global_step, clock.num_updates
                agent.trainer.turn()
                clock.wall_seconds += time.perf_counter() - started
                started = time.perf_counter()
                if calls.on_step:
                    calls("on_step")
                if calls.on_update and clock.num_updates > updates:
                    calls("on_update")
                _periodic(agent, before, calls, stop, bar)
                if bar is not None and bar.due():
                    bar.update(clock.global_step, **_progress_fields(agent))
                if calls.stop:
                    break
            clock.wall_seconds += time.perf_counter() - started
            _finish(agent, calls, stop)
        except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: no checkpoint of a state caught mid-update
            raise Interrupted(_interrupted(agent, stop.last or "SIGINT", saved=False)) from None
        except TrainingDiverged as e:
            raise TrainingDiverged(f"{e} at step {clock.global_step}; training stopped{_kept(agent)}") from None
        finally:
            agent.trainer.stop()
            if bar is not None:
                bar.update(clock.global_step, force=True, **_progress_fields(agent))
                bar.close()
            for m in agent.members:
                if m.logger is not None:
                    m.logger.flush()


class EvaluationStopped(BaseException):
    """A stop signal came during an evaluation, which is dropped: it changes nothing a checkpoint holds.
    Raised wherever the evaluation is, most often inside an env's step: a BaseException, as KeyboardInterrupt
    is, so that no ``except Exception`` on the way (an env's own, or the one naming an env's errors) takes it
    for an error of the env's."""


class StopSignals:
    """While training: SIGINT (Ctrl-C) and SIGTERM set ``requested`` (the signal's name), for the loop to
    stop cleanly after its turn; inside ``dropping()`` they raise EvaluationStopped at once, and a second
    Ctrl-C, or a second SIGTERM, raises KeyboardInterrupt at once. Only in the main thread, and only for
    signals nobody has set to be ignored; the old handlers come back on exit."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self.last: str | None = None  # the latest signal's name
        self.previous: dict[int, Any] = {}
        self._dropping = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) in (signal.default_int_handler, signal.SIG_DFL):
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.last = signal.Signals(signum).name
        # A second Ctrl-C, or the same signal again. Not a SIGTERM after a Ctrl-C: a sweep stops its runs
        # with one just after the terminal's Ctrl-C has reached them, and each should still save.
        if self.requested is not None:
            if signum == signal.SIGINT or self.last == self.requested:
                raise KeyboardInterrupt
            return
        self.requested = self.last
        if self._dropping:
            raise EvaluationStopped

    @contextlib.contextmanager
    def dropping(self) -> Any:
        """A block that a stop signal ends at once (an evaluation), with EvaluationStopped."""
        if self.requested is not None:
            raise EvaluationStopped
        self._dropping = True
        try:
            yield
        finally:
            self._dropping = False

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _run_dirs(agent: Agent) -> list[str]:
    return [str(m.run_dir) for m in agent.members if m.run_dir is not None]


def _kept(agent: Agent) -> str:
    kept = [str(p) for m in agent.members if m.run_dir is not None and (p := m.run_dir / "checkpoints" / ckpt.LATEST).exists()]  # fmt: skip
    return f"; the last good checkpoint is kept at {', '.join(kept)}" if kept else ""


def _interrupted(agent: Agent, signal_name: str, saved: bool) -> str:
    """What an interrupted run tells its user: where it stopped, what it saved, the command that goes on."""
    step, dirs = agent.clock.global_step, _run_dirs(agent)
    if not dirs:
        return f"interrupted by {signal_name} at step {step} (no run directory: nothing was saved)"
    what = f"saved {', '.join(str(m.run_dir / 'checkpoints' / ckpt.LATEST) for m in agent.members)}" if saved else (
        "stopped at once, without saving" + (_kept(agent) or "; no checkpoint yet, so resuming starts it over"))  # fmt: skip
    return f"interrupted by {signal_name} at step {step}; {what}; resume with `actorcritic train --resume {' '.join(dirs)}`"


def _start(agent: Agent, held: contextlib.ExitStack) -> None:
    """Create (a new run) or lock (a resumed one) each run directory before writing anything into it."""
    for i, m in enumerate(agent.members):
        if m.run_dir is None:
            continue
        if m.resume_step is None and not (m.run_dir / CONFIG).exists():
            create_run_dir(m.run_dir)  # a new run's directory, made when its training starts
        held.enter_context(held_lock(m.run_dir, "run directory"))
        # config.json first: from the moment a run has any file, `--resume` knows what it is (total_steps may grow)
        write_json(m.run_dir / CONFIG, state.run_info(agent, i))
        if m.logger is None:
            m.logger = RunLogger(m.run_dir, _log_columns(agent), m.resume_step, agent.env.env_metric_names)
    flush_denormals()  # Adam's moments of dead units sink into denormals, each a slow microcode assist
    keep_freed_memory()  # an update's buffers, freed and allocated again each call, are not page-faulted in anew
    agent.trainer.start()


def _due(agent: Agent, before: int) -> tuple[bool, bool, bool]:
    """Whether (evaluate, log, checkpoint) are due: their intervals crossed since step ``before``."""
    step = agent.clock.global_step

    def crossed(interval: int | None) -> bool:
        return bool(interval) and step // interval > before // interval

    evaluate = crossed(agent.config.eval_interval)
    return evaluate, evaluate or crossed(agent.config.log_interval), crossed(agent.checkpoint_interval)


def _periodic(agent: Agent, before: int, calls: Callbacks, stop: StopSignals, bar: ProgressBar | None) -> None:
    evaluate, log, checkpoint = _due(agent, before)
    if not (evaluate or log or checkpoint):
        return
    agent.trainer.pause()  # evaluations and checkpoints see a model no worker is changing
    if evaluate:
        if bar is not None:  # an evaluation can take a while: say so, rather than a bar standing still
            bar.update(agent.clock.global_step, force=True, **{**_progress_fields(agent), "eval": "evaluating"})
        if not _evaluate(agent, calls, stop):
            return  # stopped: the loop checkpoints and ends at its next check
    if log:
        _log(agent, with_eval=evaluate)
    if checkpoint:
        _checkpoint(agent, calls)
    if not calls.stop:  # stopping (at the target, say): the evaluated model is the final one
        agent.trainer.resume()


def _evaluate(agent: Agent, calls: Callbacks, stop: StopSignals) -> bool:
    """Evaluate every member and record it; False, with nothing recorded, if a stop signal cut it short."""
    try:
        with stop.dropping():
            results = agent.evaluate_members()
    except EvaluationStopped:
        return False
    step = agent.clock.global_step
    agent.clock.last_eval_step = step
    for i, (m, result) in enumerate(zip(agent.members, results, strict=True)):
        if m.record_eval(step, result, agent.target_return) and m.run_dir is not None:
            _check_finite(agent)
            ckpt.save_checkpoint(
                state.state_dict(agent, i, include_buffer=False), m.run_dir / "checkpoints" / ckpt.BEST
            )
    calls("on_evaluation")
    return True


def _log_columns(agent: Agent) -> list[str]:
    """The metrics.csv columns between the loop's own and the evaluation's."""
    env_columns = [c for name in agent.env.env_metric_names for c in (name, f"eval_{name}")]
    return list(agent.learner.metric_names) + env_columns


def _log(agent: Agent, with_eval: bool) -> None:
    clock = agent.clock
    metrics = agent.metrics.take()  # the one host sync per log row
    if not all(math.isfinite(v) for values in metrics.values() for v in values if v is not None):
        raise TrainingDiverged("NaN or inf in loss")
    env_means = agent.runner.take_env_metrics()
    for i, m in enumerate(agent.members):
        ev = m.last_eval if with_eval else None
        row: dict[str, Any] = {
            "step": clock.global_step,
            "wall_time": round(clock.wall_seconds, 3),
            "sps": round(clock.global_step / clock.wall_seconds, 1) if clock.wall_seconds else 0.0,
            "updates": clock.num_updates,
            "episodes": m.episodes_done,
            "episodic_return": float(np.mean(m.recent_returns)) if m.recent_returns else None,
            "episodic_length": float(np.mean(m.recent_lengths)) if m.recent_lengths else None,
            **{name: values[i] for name, values in metrics.items()},
            "eval_return_mean": ev.mean_return if ev else None,
            "eval_return_std": ev.std_return if ev else None,
            "eval_length_mean": ev.mean_length if ev else None,
            "eval_length_std": ev.std_length if ev else None,
        }
        for k, name in enumerate(agent.env.env_metric_names):
            row[name] = float(env_means[k]) if env_means is not None else None
            row[f"eval_{name}"] = ev.metrics.get(name) if ev else None
        m.last_metrics = row
        if m.logger is not None:
            m.logger.log(row)


def _checkpoint(agent: Agent, calls: Callbacks) -> None:
    if all(m.run_dir is None for m in agent.members):
        return
    _check_finite(agent)
    for i, m in enumerate(agent.members):
        if m.run_dir is not None:
            if m.logger is not None:
                m.logger.flush()
            path = m.run_dir / "checkpoints" / ckpt.LATEST
            try:
                ckpt.save_checkpoint(state.state_dict(agent, i), path)
            except OSError as e:  # a full disk, a quota: the write is atomic, so the old checkpoint is whole
                kept = "the previous checkpoint is kept" if path.exists() else "there is no earlier checkpoint"
                raise UserError(f"could not write checkpoint {path}: {e.strerror or e}; {kept}") from None
    calls("on_checkpoint")


def _check_finite(agent: Agent) -> None:
    params = [p for name in agent.learner.checkpointed if isinstance(x := getattr(agent.learner, name), torch.nn.Module) for p in x.parameters()]  # fmt: skip
    if not bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
        raise TrainingDiverged("NaN or inf in network parameters")


def _finish(agent: Agent, calls: Callbacks, stop: StopSignals) -> None:
    agent.trainer.stop()  # the final evaluation and checkpoint see a model no worker is changing
    if agent.clock.last_eval_step != agent.clock.global_step:
        if not _evaluate(agent, calls, stop):  # resuming the run finishes it
            _checkpoint(agent, calls)
            raise Interrupted(_interrupted(agent, stop.requested or "SIGINT", saved=True))
        _log(agent, with_eval=True)
    _checkpoint(agent, calls)
    for i, m in enumerate(agent.members):
        if m.run_dir is not None:
            m.logger.flush()
            write_json(m.run_dir / SUMMARY, state.summary(agent, i))
            plot_run(m.run_dir)  # after summary.json: the plots draw its target return
    calls("on_training_end")


PROGRESS_FIELDS = {"sps": "SPS", "ret": "return (last 20 episodes)", "eval": "eval"}


def _progress_fields(agent: Agent) -> dict[str, str]:
    """What the progress bar shows beside the steps: SPS, the mean return of the recent episodes (as
    metrics.csv's episodic_return), the last eval (means over a group)."""
    clock = agent.clock
    returns = [np.mean(m.recent_returns) for m in agent.members if m.recent_returns]
    evals = [m.last_eval.mean_return for m in agent.members if m.last_eval]
    return {
        "sps": f"{clock.global_step / clock.wall_seconds:.0f}" if clock.wall_seconds else "-",
        "ret": f"{np.mean(returns):.1f}" if returns else "-",
        "eval": f"{np.mean(evals):.1f}" if evals else "-",
    }
