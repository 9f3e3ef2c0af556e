"""Hyperparameter tuning with Optuna: TPE sampling, median pruning on the evaluations during training.

    tune_dir/
      tune.json             the study's definition (a rerun must match it)
      study.db              the Optuna study (SQLite): run the same command again to add trials to it
      trials/trial<N>/      one ordinary run directory per trial
      trials.csv            one row per trial: number, state, value, the sampled settings
      best.json             the best trial's settings, a file `actorcritic train --config` accepts

Each trial trains one agent with settings sampled from the algorithm's search space (``SEARCH_SPACES``)
and reports every evaluation's mean return to the pruner; a trial whose evaluation falls below the
median of earlier trials at the same step is stopped there (after ``startup_trials`` complete trials).
The objective is the trial's final evaluation return.

With ``backend="ray"`` up to ``workers`` trials run at a time, each on a Ray actor (on any node of a
cluster) that hands its evaluations to the study here and waits for the verdict; the study stays in this
process, and each trial's run directory is brought back to ``trials/trial<N>`` when it ends.
"""

from __future__ import annotations

import csv
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actorcritic.agents import agent_class
from actorcritic.backends.ray.pool import init_ray, ours, pack_dir, require_ray, unpack_dir
from actorcritic.core.config import config_from_dict
from actorcritic.core.files import atomic_write, atomic_write_json
from actorcritic.errors import Interrupted, TrainingDiverged, UserError
from actorcritic.experiments.sweep import check_claimable, check_env, claimed
from actorcritic.runtime.callbacks import Callback, RunState

STUDY = "actorcritic"
TUNE_FILE = "tune.json"  # the study's definition: it marks a directory as a study's

# What each algorithm's trials sample. ("log", lo, hi): log-uniform float; ("float", lo, hi): uniform;
# ("int", lo, hi): uniform integer; ("choice", [...]): categorical.
_OFF_POLICY = {
    "actor_lr": ("log", 1e-5, 1e-2),
    "critic_lr": ("log", 1e-5, 1e-2),
    "tau": ("log", 1e-3, 0.1),
    "gamma": ("choice", [0.9, 0.95, 0.98, 0.99, 0.995]),
    "batch_size": ("choice", [64, 128, 256]),
    "hidden_sizes": ("choice", [(64, 64), (256, 256), (400, 300)]),
}
_ON_POLICY = {
    "learning_rate": ("log", 1e-5, 1e-2),
    "gamma": ("choice", [0.9, 0.95, 0.98, 0.99, 0.995]),
    "ent_coef": ("log", 1e-5, 0.1),
    "hidden_sizes": ("choice", [(64, 64), (128, 128), (256, 256)]),
}
SEARCH_SPACES: dict[str, dict[str, tuple]] = {
    "ddpg": {**_OFF_POLICY, "noise_sigma": ("float", 0.05, 0.5)},
    "td3": {
        **_OFF_POLICY,
        "noise_sigma": ("float", 0.05, 0.5),
        "policy_delay": ("int", 1, 3),
        "target_noise": ("float", 0.1, 0.3),
    },
    "sac": {**_OFF_POLICY, "alpha_lr": ("log", 1e-5, 1e-2)},
    "reinforce": {**_ON_POLICY, "episodes_per_update": ("choice", [1, 2, 4, 8])},
    "a2c": {
        **_ON_POLICY,
        "num_steps": ("choice", [5, 8, 16, 32]),
        "gae_lambda": ("float", 0.8, 1.0),
        "vf_coef": ("float", 0.25, 1.0),
        "max_grad_norm": ("float", 0.3, 5.0),
    },
    "a3c": {**_ON_POLICY, "num_steps": ("choice", [5, 10, 20, 40])},
    "ppo": {
        **_ON_POLICY,
        "num_steps": ("choice", [64, 128, 256, 512, 1024]),
        "gae_lambda": ("float", 0.8, 1.0),
        "clip_coef": ("float", 0.1, 0.3),
        "update_epochs": ("int", 3, 10),
        "num_minibatches": ("choice", [4, 8, 16, 32]),
    },
}


def _optuna():
    try:
        import optuna
    except ImportError:
        raise UserError('actorcritic tune needs the [tune] extra: pip install -e ".[tune]"') from None
    return optuna


def sample(trial: Any, space: dict[str, tuple]) -> dict[str, Any]:
    """One trial's settings from ``space``."""
    params: dict[str, Any] = {}
    for name, (kind, *args) in space.items():
        if kind == "log":
            params[name] = trial.suggest_float(name, args[0], args[1], log=True)
        elif kind == "float":
            params[name] = trial.suggest_float(name, args[0], args[1])
        elif kind == "int":
            params[name] = trial.suggest_int(name, args[0], args[1])
        else:  # categorical: Optuna stores plain values, so tuples go by their index
            choices = args[0]
            index = trial.suggest_categorical(name, list(range(len(choices))))
            params[name] = list(choices[index]) if isinstance(choices[index], tuple) else choices[index]
    return params


def tune(
    algo: str,
    env: str,
    trials: int,
    total_steps: int,
    tune_dir: Path,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    startup_trials: int = 5,
    on_trial: Callable[[str], None] = print,
    workers: int = 1,
    backend: str = "local",
) -> dict[str, Any]:
    """Run ``trials`` more trials of ``algo`` on ``env`` in ``tune_dir``: one at a time in this process
    (backend "local"), or ``workers`` at a time on Ray actors ("ray"). Returns the best trial's settings."""
    cls, settings, space, meta = check_study(algo, env, trials, total_steps, tune_dir, seed, settings,
                                             startup_trials, workers, backend)  # fmt: skip
    with claimed(tune_dir / TUNE_FILE, meta, "study", "--tune-dir"):
        return _tune_claimed(algo, env, trials, total_steps, tune_dir, seed, settings, startup_trials, on_trial,
                             workers, backend, space, meta, cls)  # fmt: skip


def check_study(algo: str, env: str, trials: int, total_steps: int, tune_dir: Path, seed: int = 0,
                settings: dict[str, Any] | None = None, startup_trials: int = 5, workers: int = 1,
                backend: str = "local") -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:  # fmt: skip
    """Everything ``tune`` checks before it writes (a caller may check before it prints): a UserError, or the
    agent class, the fixed settings, the search space left and the study's definition."""
    _optuna()  # the missing extra is named before anything else
    if trials < 1 or total_steps < 1 or startup_trials < 0:
        raise UserError("trials and total_steps must be >= 1, startup_trials >= 0")
    if backend not in ("local", "ray"):
        raise UserError(f"backend must be local or ray, got '{backend}'")
    if workers < 1:
        raise UserError(f"workers must be >= 1, got {workers}")
    cls, settings = agent_class(algo), dict(settings or {})
    config_from_dict(cls.config_cls, settings, "--set")  # a bad fixed setting fails before any trial
    space = {k: v for k, v in SEARCH_SPACES[algo].items() if k not in settings}
    meta = {"algo": algo, "env": env, "total_steps": total_steps, "seed": seed, "settings": settings}
    check_env(algo, env, settings)
    check_tune_dir(tune_dir)
    return cls, settings, space, meta


def check_tune_dir(tune_dir: Path) -> None:
    """What ``tune`` checks of ``tune_dir`` before writing there, for a caller that wants it sooner."""
    check_claimable(tune_dir / TUNE_FILE, "study", "--tune-dir")


def _tune_claimed(algo: str, env: str, trials: int, total_steps: int, tune_dir: Path, seed: int,
                  settings: dict[str, Any], startup_trials: int, on_trial: Callable[[str], None], workers: int,
                  backend: str, space: dict[str, Any], meta: dict[str, Any], cls: Any) -> dict[str, Any]:  # fmt: skip
    optuna = _optuna()
    train, jobs, catch = _train_here, 1, (TrainingDiverged,)  # a diverged trial fails, the others go on
    if backend == "ray":
        ray = init_ray()
        train, jobs, catch = _train_on_ray, workers, (*catch, ray.exceptions.RayActorError)  # so does a lost node

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=STUDY,
        storage=f"sqlite:///{tune_dir / 'study.db'}",
        load_if_exists=True,
        direction="maximize",
        # Trials sampled while others run see those others as already scored (their mean), not as absent.
        sampler=optuna.samplers.TPESampler(
            seed=seed + len(_done(study_trials(optuna, tune_dir))), constant_liar=jobs > 1
        ),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=0),
    )
    for stale in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):  # a run that was killed
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)

    def objective(trial: Any) -> float:
        params = sample(trial, space)
        config = config_from_dict(cls.config_cls, {**settings, **params}, f"trial {trial.number}")

        pruning = Pruning(optuna, trial, config.eval_interval, total_steps)
        return train(algo, env, config, seed, total_steps, tune_dir / "trials" / f"trial{trial.number}", pruning)

    def log(study: Any, trial: Any) -> None:
        value = "" if trial.value is None else f" {trial.value:.1f}"
        on_trial(f"trial {trial.number}: {trial.state.name.lower()}{value}  {decode(trial.params, space)}")

    quiet = _StopsUnlogged()
    handlers = logging.getLogger("optuna").handlers
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        study.optimize(objective, n_trials=trials, n_jobs=jobs, callbacks=[log], catch=catch)
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
    write_results(study, space, settings, meta, tune_dir)
    return best_settings(study, space, settings)


class _StopsUnlogged(logging.Filter):
    """Optuna's warnings about a trial that Ctrl-C or SIGTERM ended (a traceback, then "failed with value
    None"), and any after them: the command says what happened, and what goes on, in one line."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped = False

    def filter(self, record: logging.LogRecord) -> bool:
        kind = record.exc_info[0] if record.exc_info else None
        self.stopped = self.stopped or (kind is not None and issubclass(kind, KeyboardInterrupt | Interrupted))
        return not self.stopped


class Pruning(Callback):
    """Median pruning as a callback: each evaluation is reported to the trial, which may be pruned."""

    def __init__(self, optuna: Any, trial: Any, eval_interval: int, total_steps: int):
        self.optuna, self.trial, self.eval_interval, self.total_steps = optuna, trial, eval_interval, total_steps

    def on_evaluation(self, s: RunState) -> None:
        assert s.evaluation is not None
        self.report(s.step, s.evaluation.mean_return)

    def report(self, step: int, mean_return: float) -> None:
        # Reported at the eval interval crossed, so trials whose rollouts end at different steps compare.
        interval = self.eval_interval
        self.trial.report(mean_return, step // interval * interval if interval else step)
        if step < self.total_steps and self.trial.should_prune():  # never prune a trial at its final evaluation
            raise self.optuna.TrialPruned(f"pruned at step {step} with eval {mean_return:.1f}")


def _train_here(algo: str, env: str, config: Any, seed: int, total_steps: int, run_dir: Path,
                callback: Callback) -> float:  # fmt: skip
    """Train one trial's agent in this process with ``callback`` (it raises to stop training); returns the
    final evaluation's mean return."""

    agent = agent_class(algo)(env, config, seed=seed, run_dir=run_dir)
    try:
        agent.learn(total_steps, callbacks=[callback])
    finally:
        agent.close()
    return agent.last_eval.mean_return


def _train_on_ray(
    algo: str, env: str, config: Any, seed: int, total_steps: int, run_dir: Path, pruning: Pruning
) -> float:
    """``_train_here`` on a Ray actor: its evaluations come here one by one, each answered once
    ``pruning`` has passed it; when that raises (pruned), training raises or the trial ends, the
    actor stops and its run directory is unpacked into ``run_dir``."""

    ray = require_ray()
    runner = ray.remote(TrialRunner).options(num_cpus=1, scheduling_strategy="SPREAD")
    actor = runner.remote(algo, env, config, seed, total_steps)
    try:
        while (evaluation := _get(ray, actor.next_report.remote()))[0] is not None:
            pruning.report(*evaluation)  # raises TrialPruned: `finish` below tells the actor to stop
            actor.answer.remote(False)
        return evaluation[1]
    finally:
        try:
            packed = _get(ray, actor.finish.remote())
            if packed is not None:
                unpack_dir(packed, run_dir)
        finally:
            ray.kill(actor)


def _get(ray: Any, ref: Any) -> Any:
    """``ray.get``, raising what the actor raised when it is ours (a user error, diverged training)."""

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if (cause := ours(e)) is not None:
            raise cause from None
        raise


class _Stop(Exception):
    """The driver's answer to an evaluation was: prune."""


class _Relay(Callback):
    """In a trial's actor: each evaluation goes to the driver, and training waits for its answer."""

    def __init__(self, reports: queue.Queue, answers: queue.Queue):
        self.reports, self.answers = reports, answers

    def on_evaluation(self, s: RunState) -> None:
        assert s.evaluation is not None
        self.reports.put((s.step, s.evaluation.mean_return))
        if self.answers.get():
            raise _Stop


class TrialRunner:
    """A Ray actor that trains one trial in a background thread, in a temporary run directory on its node.

    Each evaluation waits in the training thread until the driver has taken it (``next_report``) and
    answered (``answer``); the two talk through a pair of queues, so that the actor, which runs one
    method at a time, is never blocked by the thread, nor the thread by it.
    """

    def __init__(self, algo: str, env: str, config: Any, seed: int, total_steps: int):
        import torch

        torch.set_num_threads(1)  # one CPU per trial
        self.tmp = Path(tempfile.mkdtemp(prefix="actorcritic-trial-"))
        self.reports: queue.Queue = queue.Queue()  # (step, mean_return), (None, final return) or an exception
        self.answers: queue.Queue = queue.Queue()  # True: prune
        args = (algo, env, config, seed, total_steps, self.tmp / "run", _Relay(self.reports, self.answers))
        self.thread = threading.Thread(target=self._train, args=args, daemon=True)
        self.thread.start()

    def _train(self, *args: Any) -> None:
        try:
            self.reports.put((None, _train_here(*args)))
        except _Stop:
            pass
        except Exception as e:  # raised to the driver by next_report
            self.reports.put(e)

    def next_report(self) -> tuple[int | None, float]:
        """(step, mean return) of the next evaluation, or (None, final return) once training has ended."""
        report = self.reports.get()
        if isinstance(report, Exception):
            raise report
        return report

    def answer(self, prune: bool) -> None:
        """The driver's verdict on the last evaluation."""
        self.answers.put(prune)

    def finish(self) -> bytes | None:
        """Stop training (at its next evaluation, if it still runs) and return the run directory packed."""

        self.answers.put(True)
        self.thread.join()
        run_dir = self.tmp / "run"
        packed = pack_dir(run_dir) if run_dir.exists() else None
        shutil.rmtree(self.tmp, ignore_errors=True)
        return packed


def study_trials(optuna: Any, tune_dir: Path) -> list:
    """The trials already in ``tune_dir``'s study (none for a new study)."""
    if not (tune_dir / "study.db").exists():
        return []
    try:
        return optuna.load_study(study_name=STUDY, storage=f"sqlite:///{tune_dir / 'study.db'}").trials
    except KeyError:
        return []


def _done(trials: list) -> list:
    return [t for t in trials if t.state.is_finished()]


def decode(params: dict[str, Any], space: dict[str, tuple]) -> dict[str, Any]:
    """A trial's stored params as settings: categorical indices mapped back to their values."""
    out = {}
    for name, value in params.items():
        kind, *args = space[name]
        if kind == "choice":
            value = args[0][value]
            value = list(value) if isinstance(value, tuple) else value
        out[name] = value
    return out


def best_settings(study: Any, space: dict[str, tuple], settings: dict[str, Any]) -> dict[str, Any]:
    """The best complete trial's settings, with the fixed ones."""
    try:
        best = study.best_trial
    except ValueError:
        raise UserError("no trial has completed; run more trials or a larger --total-steps") from None
    return {**settings, **decode(best.params, space)}


def write_results(study: Any, space: dict[str, tuple], settings: dict[str, Any], meta: dict, tune_dir: Path) -> None:
    names = list(space)

    def write_csv(f: Any) -> None:
        writer = csv.writer(f)
        writer.writerow(["number", "state", "value", "last_step", *names])
        for t in study.trials:
            last_step = max(t.intermediate_values) if t.intermediate_values else ""
            params = decode(t.params, space)
            writer.writerow([t.number, t.state.name, "" if t.value is None else f"{t.value:.6g}", last_step,
                             *(params.get(n, "") for n in names)])  # fmt: skip

    atomic_write(tune_dir / "trials.csv", write_csv)
    if _done(study.trials) and any(t.value is not None for t in study.trials):
        best = {"algo": meta["algo"], "env": meta["env"], "total_steps": meta["total_steps"],
                **best_settings(study, space, settings)}  # fmt: skip
        atomic_write_json(tune_dir / "best.json", best)
