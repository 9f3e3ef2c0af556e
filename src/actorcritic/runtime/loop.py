"""The loop: it owns time. Turns of the trainer until the step budget is spent, and between them
evaluation, logging and checkpoints when their intervals are crossed; the progress bar; the end of the run.

    while global_step < end:
        trainer.turn()                        collect, then the updates that are due
        evaluate | log | checkpoint           whichever interval was crossed (workers held meanwhile)
        stop early if every member solved the env (stop_at_target)
    final evaluation, checkpoint, plots, summary.json
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.runtime import checkpoint as ckpt
from actorcritic.runtime import state
from actorcritic.runtime.logging import RunLogger
from actorcritic.runtime.plots import plot_run
from actorcritic.runtime.progress import ProgressBar
from actorcritic.runtime.run_dir import CONFIG, SUMMARY, create_run_dir, write_json

if TYPE_CHECKING:
    from actorcritic.runtime.agent import Agent


def learn(agent: Agent, steps: int, progress: bool = False) -> None:
    """Train ``agent`` for ``steps`` more env steps."""
    if steps < 0:
        raise UserError(f"steps must be >= 0, got {steps}")
    clock = agent.clock
    end = clock.global_step + steps
    clock.total_steps = end
    bar = None
    try:
        _start(agent)
        bar = ProgressBar(end, clock.global_step, unit="steps", fields=PROGRESS_FIELDS) if progress else None
        started = time.perf_counter()
        while clock.global_step < end:
            before = clock.global_step
            agent.trainer.turn()
            clock.wall_seconds += time.perf_counter() - started
            started = time.perf_counter()
            _periodic(agent, before)
            if bar is not None and bar.due():
                bar.update(clock.global_step, **_progress_fields(agent))
            if _solved(agent):
                break
        clock.wall_seconds += time.perf_counter() - started
        _finish(agent)
    except TrainingDiverged as e:
        kept = [str(p) for m in agent.members if m.run_dir is not None and (p := m.run_dir / "checkpoints" / ckpt.LATEST).exists()]  # fmt: skip
        where = f"; the last good checkpoint is kept at {', '.join(kept)}" if kept else ""
        raise TrainingDiverged(f"{e} at step {clock.global_step}; training stopped{where}") from None
    finally:
        agent.trainer.stop()
        if bar is not None:
            bar.update(clock.global_step, force=True, **_progress_fields(agent))
            bar.close()
        for m in agent.members:
            if m.logger is not None:
                m.logger.flush()


def _start(agent: Agent) -> None:
    for i, m in enumerate(agent.members):
        if m.run_dir is not None and m.resume_step is None and not (m.run_dir / CONFIG).exists():
            create_run_dir(m.run_dir)  # a new run's directory, made when its training starts
        if m.run_dir is not None and m.logger is None:
            m.logger = RunLogger(m.run_dir, _log_columns(agent), m.resume_step)
        if m.run_dir is not None:
            write_json(m.run_dir / CONFIG, state.run_info(agent, i))  # total_steps may have grown
    agent.trainer.start()


def _due(agent: Agent, before: int) -> tuple[bool, bool, bool]:
    """Whether (evaluate, log, checkpoint) are due: their intervals crossed since step ``before``."""
    step = agent.clock.global_step

    def crossed(interval: int | None) -> bool:
        return bool(interval) and step // interval > before // interval

    evaluate = crossed(agent.config.eval_interval)
    return evaluate, evaluate or crossed(agent.config.log_interval), crossed(agent.checkpoint_interval)


def _periodic(agent: Agent, before: int) -> None:
    evaluate, log, checkpoint = _due(agent, before)
    if not (evaluate or log or checkpoint):
        return
    agent.trainer.pause()  # evaluations and checkpoints see a model no worker is changing
    if evaluate:
        _evaluate(agent)
    if log:
        _log(agent, with_eval=evaluate)
    if checkpoint:
        _checkpoint(agent)
    if not _solved(agent):  # stopping at the target: the evaluated model is the final one
        agent.trainer.resume()


def _solved(agent: Agent) -> bool:
    """Whether training stops here: stop_at_target, and every member reached the target."""
    return agent.config.stop_at_target and all(m.solved_at_step is not None for m in agent.members)


def _evaluate(agent: Agent) -> None:
    results = agent.evaluate_members()
    step = agent.clock.global_step
    agent.clock.last_eval_step = step
    for i, (m, result) in enumerate(zip(agent.members, results, strict=True)):
        if m.record_eval(step, result, agent.target_return) and m.run_dir is not None:
            _check_finite(agent)
            ckpt.save_checkpoint(
                state.state_dict(agent, i, include_buffer=False), m.run_dir / "checkpoints" / ckpt.BEST
            )
    if agent.on_evaluation is not None:
        agent.on_evaluation(step, results[0].mean_return)


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
        if m.logger is not None:
            m.logger.log(row)


def _checkpoint(agent: Agent) -> None:
    if all(m.run_dir is None for m in agent.members):
        return
    _check_finite(agent)
    for i, m in enumerate(agent.members):
        if m.run_dir is not None:
            if m.logger is not None:
                m.logger.flush()
            ckpt.save_checkpoint(state.state_dict(agent, i), m.run_dir / "checkpoints" / ckpt.LATEST)


def _check_finite(agent: Agent) -> None:
    params = [p for name in agent.learner.checkpointed if isinstance(x := getattr(agent.learner, name), torch.nn.Module) for p in x.parameters()]  # fmt: skip
    if not bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
        raise TrainingDiverged("NaN or inf in network parameters")


def _finish(agent: Agent) -> None:
    agent.trainer.stop()  # the final evaluation and checkpoint see a model no worker is changing
    if agent.clock.last_eval_step != agent.clock.global_step:
        _evaluate(agent)
        _log(agent, with_eval=True)
    _checkpoint(agent)
    for i, m in enumerate(agent.members):
        if m.run_dir is not None:
            m.logger.flush()
            plot_run(m.run_dir)
            write_json(m.run_dir / SUMMARY, state.summary(agent, i))


PROGRESS_FIELDS = {"sps": "SPS", "ret": "return", "eval": "eval"}


def _progress_fields(agent: Agent) -> dict[str, str]:
    """What the progress bar shows beside the steps: SPS, the last episodic return, the last eval (means
    over a group)."""
    clock = agent.clock
    returns = [m.recent_returns[-1] for m in agent.members if m.recent_returns]
    evals = [m.last_eval.mean_return for m in agent.members if m.last_eval]
    return {
        "sps": f"{clock.global_step / clock.wall_seconds:.0f}" if clock.wall_seconds else "-",
        "ret": f"{np.mean(returns):.1f}" if returns else "-",
        "eval": f"{np.mean(evals):.1f}" if evals else "-",
    }
