"""Sweeps and seed studies: a grid of configurations x seeds as independent runs, compared with CIs.

    sweep_dir/
      sweep.json            the sweep's definition (a rerun must match it)
      configs/<name>.json   each configuration's settings, as a `train --config` file
      runs/<name>/seed<S>/  one ordinary run directory per configuration and seed
      logs/<name>__seed<S>.log   each run's console output
      sweep.csv             one row per run
      summary.md            per configuration: final return (IQM and mean), area under the curve, steps to
                            solve, each with its 95% CI; a ranking with probabilities of improvement
      summary.json          the same numbers for programs
      plots/compare.png     mean eval-return curve per configuration with a 95% CI band
      plots/profile.png     with >= 5 seeds per configuration: each one's performance profile (the fraction
                            of its seeds whose final return exceeds each value) with a 95% CI band

Every run is ``actorcritic train`` in its own process (one torch thread), ``workers`` at a time; with the
Ray back end each is a Ray task on any node of a cluster, and its run directory comes back here. Running
the same sweep again resumes it: finished runs are skipped, interrupted ones continue from their last
checkpoint, and runs that never reached a checkpoint start again.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actorcritic.agents import agent_class
from actorcritic.backends.ray.pool import TMP, init_ray, pack_dir, run_cli_remotely, unpack_dir
from actorcritic.core.config import config_from_dict, parse_key_values, read_literal, split_list
from actorcritic.core.files import atomic_write, atomic_write_json, atomic_write_text, held_lock
from actorcritic.core.stats import CONFIDENCE, Estimate, area_under_curve, bootstrap_ci, iqm, probability_of_improvement
from actorcritic.errors import UserError
from actorcritic.runtime.envs import probe_env
from actorcritic.runtime.logging import eval_points, read_csv
from actorcritic.runtime.plots import plot_compare, plot_profile
from actorcritic.runtime.progress import ProgressBar
from actorcritic.runtime.run_dir import METRICS, check_output_dir

SWEEP_COLUMNS = ["config", "seed", "status", "total_steps", "final_eval_return", "best_eval_return",
                 "solved_at_step", "auc", "wall_seconds", "run_dir"]  # fmt: skip
SWEEP_FILE = "sweep.json"  # the sweep's definition: it marks a directory as a sweep's


@dataclass(frozen=True)
class Sweep:
    """What to run: ``configs`` (each a dict of config fields) x ``seeds``, ``total_steps`` each."""

    algo: str
    env: str
    configs: list[dict[str, Any]]
    seeds: list[int]
    total_steps: int
    settings: dict[str, Any] = field(default_factory=dict)  # fields every run shares
    checkpoint_interval: int = 1_000

    def runs(self) -> list[tuple[str, dict[str, Any], int]]:
        """(configuration name, its settings, seed) for every run, configurations first."""
        return [(config_name(c), c, s) for c in self.configs for s in self.seeds]


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["tau=1,0.01,1e-5", "actor_lr=1e-3,1e-4"]`` -> {"tau": [1, 0.01, 1e-05], "actor_lr": [...]}: each value
    list split at its top-level commas, so ``hidden_sizes=(64,64),(256,256)`` is two values."""
    return parse_key_values(items, "--grid", read=lambda text: [read_literal(v) for v in split_list(text)])


def parse_settings(items: Sequence[str]) -> dict[str, Any]:
    """``["gamma=0.98", "hidden_sizes=(64, 64)"]`` -> {"gamma": 0.98, "hidden_sizes": [64, 64]} (tuples become
    lists, as in a JSON config file)."""
    settings = parse_key_values(items, "--set")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the grid's values, in the order given (last key varies fastest)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def config_name(config: dict[str, Any]) -> str:
    """``{"tau": 0.01, "actor_lr": 0.001}`` -> ``tau=0.01,actor_lr=0.001`` (a directory name)."""
    if not config:
        return "default"
    text = ",".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in config.items())
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", text)


def default_sweep_dir(name: str) -> Path:
    """``sweeps/<name>__<timestamp>`` under the current directory, never an existing one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("sweeps") / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{name}__{stamp}")
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


# ------------------------------------------------------------------------------------------ running
def run_sweep(
    sweep: Sweep, sweep_dir: Path, workers: int, progress: bool = True, backend: str = "local"
) -> list[dict[str, Any]]:
    """Run (or resume) every run of ``sweep`` in ``sweep_dir``, ``workers`` at a time, each a process here
    (backend "local") or a Ray task on any node (backend "ray"); write sweep.csv, summary.md, summary.json
    and the plots."""
    if backend not in ("local", "ray"):
        raise UserError(f"backend must be local or ray, got '{backend}'")
    check_sweep(sweep, sweep_dir)
    with claimed(sweep_dir / SWEEP_FILE, dataclasses.asdict(sweep), "sweep", "--sweep-dir"):
        return _run_claimed(sweep, sweep_dir, workers, progress, backend)


def check_sweep(sweep: Sweep, sweep_dir: Path) -> None:
    """Everything ``run_sweep`` checks before it writes (a caller may check before it prints): every
    configuration, the env, and that ``sweep_dir`` is new, empty or this sweep's."""
    _check_configs(sweep)
    check_env(sweep.algo, sweep.env, sweep.settings)
    check_sweep_dir(sweep_dir)


def check_sweep_dir(sweep_dir: Path) -> None:
    """What ``run_sweep`` checks of ``sweep_dir`` before writing there, for a caller that wants it sooner."""
    check_claimable(sweep_dir / SWEEP_FILE, "sweep", "--sweep-dir")


def _run_claimed(sweep: Sweep, sweep_dir: Path, workers: int, progress: bool, backend: str) -> list[dict[str, Any]]:
    for sub in ("configs", "runs", "logs", "plots"):
        (sweep_dir / sub).mkdir(exist_ok=True)
    for config in sweep.configs:
        atomic_write_json(sweep_dir / "configs" / f"{config_name(config)}.json", {**sweep.settings, **config})

    todo = [r for r in sweep.runs() if not _finished(_run_dir(sweep_dir, r[0], r[2]), sweep.total_steps)]
    done = len(sweep.runs()) - len(todo)
    bar = ProgressBar(len(sweep.runs()), done, description="sweep", unit="runs", disable=not progress)
    failures: list[str] = []
    running: set = set()  # processes (local) or Ray tasks in flight
    run_one = _run_one if backend == "local" else _run_one_on_ray
    if backend == "ray":
        init_ray()
    pool = ThreadPoolExecutor(max(1, workers))
    try:
        futures = [pool.submit(run_one, sweep, sweep_dir, name, seed, running) for name, _, seed in todo]
        for future in futures:
            error = future.result()
            if error:
                failures.append(error)
            bar.advance()
    except BaseException:  # Ctrl-C: no queued run may start, the running ones stop (they resume next time)
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(running):
            _cancel(proc)
        raise
    finally:
        pool.shutdown(wait=True)
        bar.close()
    rows = collect(sweep, sweep_dir)
    write_results(sweep, sweep_dir, rows)
    if failures:
        raise UserError(f"{len(failures)} run(s) failed, e.g. {failures[0]}; rerun the sweep to retry them")
    return rows


def check_env(algo: str, env: str, settings: dict[str, Any]) -> None:
    """Make the env once, as every run will: a bad env or env option fails before any directory exists."""
    probe_env(env, dict(settings.get("env_kwargs") or {}), algo, discrete_ok=not agent_class(algo).spec.off_policy)


@contextlib.contextmanager
def claimed(definition_file: Path, definition: dict[str, Any], what: str, flag: str) -> Iterator[None]:
    """Hold the directory of ``definition_file`` (one process at a time) for this ``definition``: write it
    there, or check that the one already there (an earlier run of the same command, now resumed) is the same."""
    check_claimable(definition_file, what, flag)
    definition_file.parent.mkdir(parents=True, exist_ok=True)
    with held_lock(definition_file.parent, f"{what} directory"):
        _claim(definition_file, definition, what, flag)
        yield


def check_claimable(definition_file: Path, what: str, flag: str) -> None:
    """A UserError unless ``claimed`` may take the directory of ``definition_file``: a new or empty one, or
    one that holds such a file (the same command's, which ``_claim`` resumes or refuses); never a file, a
    run or a folder of the user's."""
    check_output_dir(definition_file.parent, flag, lambda names: definition_file.name in names,
                     f"a {what} directory (it has no {definition_file.name})")  # fmt: skip


def _claim(definition_file: Path, definition: dict[str, Any], what: str, flag: str) -> None:
    if definition_file.exists():
        if json.loads(definition_file.read_text()) != json.loads(json.dumps(definition)):
            raise UserError(f"'{definition_file.parent}' holds a different {what} (see its {definition_file.name}); "
                            f"choose another {flag}")  # fmt: skip
    else:
        atomic_write_json(definition_file, definition)


def _check_configs(sweep: Sweep) -> None:
    """Every grid and --set key must be a field of the algorithm's config: fail before any run starts."""

    cls = agent_class(sweep.algo)
    if not sweep.seeds or sweep.total_steps < 1:
        raise UserError("a sweep needs at least one seed and total_steps >= 1")
    names = [config_name(c) for c in sweep.configs]
    if len(set(names)) != len(names):
        raise UserError(
            f"the grid repeats a configuration: {', '.join(sorted({n for n in names if names.count(n) > 1}))}"
        )
    for config in sweep.configs:
        config_from_dict(cls.config_cls, {**sweep.settings, **config}, "the sweep's settings")


def _run_dir(sweep_dir: Path, name: str, seed: int) -> Path:
    return sweep_dir / "runs" / name / f"seed{seed}"


def _finished(run_dir: Path, total_steps: int) -> bool:
    """The run ended (its summary.json) after training toward ``total_steps`` (or stopping at its target)."""
    summary = run_dir / "summary.json"
    if not summary.exists():
        return False
    s = json.loads(summary.read_text())
    return (s.get("planned_total_steps") or s.get("total_steps", 0)) >= total_steps


def train_command(sweep: Sweep, seed: int, run_dir: Path | str, config: Path | str, resume: bool) -> list[str]:
    """The `actorcritic train ...` arguments of one run: new, or resumed from its run directory's checkpoint."""
    cli = ["train"]
    common = ["--total-steps", str(sweep.total_steps), "--no-progress", "--threads", "1"]
    if resume:
        return [*cli, "--resume", str(run_dir), *common]
    return [*cli, sweep.algo, "--env", sweep.env, "--config", str(config), "--seed", str(seed), "--run-dir",
            str(run_dir), "--checkpoint-interval", str(sweep.checkpoint_interval), *common]  # fmt: skip


def _prepare(run_dir: Path) -> bool:
    """Whether the run resumes from its checkpoint; one interrupted before its first starts again."""
    if (run_dir / "checkpoints" / "latest.pt").exists():
        return True
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    return False


def _run_one(sweep: Sweep, sweep_dir: Path, name: str, seed: int, running: set) -> str | None:
    """One run as its own process: new, or resumed from its checkpoint. Returns an error line or None."""
    run_dir = _run_dir(sweep_dir, name, seed)
    config = sweep_dir / "configs" / f"{name}.json"
    cmd = [sys.executable, "-m", "actorcritic", *train_command(sweep, seed, run_dir, config, _prepare(run_dir))]
    log = _log(sweep_dir, name, seed)
    with open(log, "a") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        running.add(proc)
        try:
            code = proc.wait()
        finally:
            running.discard(proc)
    return _outcome(code, name, seed, log)


def _run_one_on_ray(sweep: Sweep, sweep_dir: Path, name: str, seed: int, running: set) -> str | None:
    """One run as a Ray task on any node: its run directory (and checkpoint, to resume) travels there and
    back. Returns an error line or None."""
    import ray

    run_dir = _run_dir(sweep_dir, name, seed)
    resume = _prepare(run_dir)
    config = (sweep_dir / "configs" / f"{name}.json").read_text()
    args = train_command(sweep, seed, f"{TMP}/run", f"{TMP}/config.json", resume)
    ref = run_cli_remotely(args, config, pack_dir(run_dir) if resume else None)
    running.add(ref)
    try:
        code, output, result = ray.get(ref)
    finally:
        running.discard(ref)
    log = _log(sweep_dir, name, seed)
    with open(log, "a") as out:
        out.write(output.replace(f"{TMP}/run", str(run_dir)))
    if result is not None:
        unpack_dir(result, run_dir)
    return _outcome(code, name, seed, log)


def _cancel(run: Any) -> None:
    if isinstance(run, subprocess.Popen):
        run.terminate()
    else:
        import ray

        ray.cancel(run, force=True)


def _log(sweep_dir: Path, name: str, seed: int) -> Path:
    return sweep_dir / "logs" / f"{name}__seed{seed}.log"


def _outcome(code: int, name: str, seed: int, log: Path) -> str | None:
    if code == 0:
        return None
    lines = log.read_text().strip().splitlines()
    return f"{name} seed {seed}: exit code {code}: {lines[-1] if lines else ''} (log: {log})"


# ------------------------------------------------------------------------------------------ results
def collect(sweep: Sweep, sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per run (finished or not), in the sweep's order."""
    rows = []
    for name, _, seed in sweep.runs():
        run_dir = _run_dir(sweep_dir, name, seed)
        row: dict[str, Any] = {"config": name, "seed": seed, "run_dir": str(run_dir.relative_to(sweep_dir))}
        if _finished(run_dir, sweep.total_steps):
            s = json.loads((run_dir / "summary.json").read_text())
            steps, returns, _ = eval_points(read_csv(run_dir / METRICS))
            row.update(status="finished", total_steps=s["total_steps"], final_eval_return=s["final_eval_mean_return"],
                       best_eval_return=s["best_eval_mean_return"], solved_at_step=s["solved_at_step"],
                       auc=area_under_curve(steps, returns), wall_seconds=s["wall_seconds"])  # fmt: skip
        else:
            row["status"] = "failed" if run_dir.exists() else "missing"
        rows.append(row)
    return rows


def write_results(sweep: Sweep, sweep_dir: Path, rows: list[dict[str, Any]]) -> None:
    """sweep.csv, summary.md, summary.json and the plots that ``_plots`` names."""

    def write_csv(f: Any) -> None:
        writer = csv.DictWriter(f, SWEEP_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _cell(row.get(k)) for k in SWEEP_COLUMNS} for row in rows)

    atomic_write(sweep_dir / "sweep.csv", write_csv)
    stats = config_stats(sweep, rows)
    ranks = ranking(stats)  # bootstraps of the probability of improvement: once, for both summaries
    atomic_write_text(sweep_dir / "summary.md", summary_markdown(sweep, stats, ranks))
    atomic_write_json(sweep_dir / "summary.json", summary_json(sweep, stats, ranks))
    title, plots = f"{sweep.algo.upper()} on {sweep.env}", _plots(stats)
    if COMPARE in plots:  # each configuration's finished seeds: a mean curve with a 95% CI band
        groups: dict[str, list[Path]] = {s["config"]: [] for s in stats}
        for row in rows:
            if row["status"] == "finished":
                groups[row["config"]].append(sweep_dir / row["run_dir"])
        plot_compare(groups, sweep_dir / COMPARE, title=title)
    if PROFILE in plots:
        plot_profile({s["config"]: s["values"]["final"] for s in stats}, sweep_dir / PROFILE, title=title)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def config_stats(sweep: Sweep, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration: its finished seeds' final returns and AUCs ("values"), and estimates over them:
    the final return's IQM and mean, the AUC's mean and the mean steps to solve, each with its 95% CI.

    A seed that never reached the target counts as solving at total_steps (censored at the budget), so
    the steps-to-solve estimate is a lower bound when some seeds did not solve."""
    out = []
    for config in sweep.configs:
        name = config_name(config)
        done = [r for r in rows if r["config"] == name and r["status"] == "finished"]
        solved = [r["solved_at_step"] for r in done]
        finals, aucs = [r["final_eval_return"] for r in done], [r["auc"] for r in done]
        out.append({
            "config": name,
            "settings": config,
            "runs": len(done),
            "solved": sum(s is not None for s in solved),
            "values": {"final": finals, "auc": aucs},
            "final": bootstrap_ci(finals) if done else None,
            "final_iqm": bootstrap_ci(finals, iqm) if done else None,
            "auc": bootstrap_ci(aucs) if done else None,
            "steps": bootstrap_ci([s if s is not None else sweep.total_steps for s in solved]) if done else None,
        })  # fmt: skip
    return out


def summary_markdown(sweep: Sweep, stats: list[dict[str, Any]], ranks: Ranks) -> str:
    lines = [
        f"# Sweep: {sweep.algo.upper()} on {sweep.env}",
        "",
        f"{len(sweep.configs)} configuration(s) x {len(sweep.seeds)} seed(s) ({', '.join(map(str, sweep.seeds))}), "
        f"{sweep.total_steps} env steps per run"
        + (f"; shared settings: {_settings_text(sweep.settings)}" if sweep.settings else "")
        + ".",
        "",
        "Each cell: estimate over seeds [95% percentile-bootstrap confidence interval]. Final return: the last "
        "evaluation (deterministic policy), as the IQM (interquartile mean: the mean of the middle half of the "
        "seeds, little moved by one outlying seed) and the mean. AUC: the mean evaluation return over training "
        "(area under the curve / steps). Steps to solve: the first evaluation at or above the target; a seed "
        f"that never solved counts as {sweep.total_steps}.",
        "",
        "| configuration | runs | final return IQM | final return mean | AUC | steps to solve | solved |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in stats:
        if s["final"] is None:
            lines.append(f"| {s['config']} | 0 | - | - | - | - | - |")
            continue
        lines.append(f"| {s['config']} | {s['runs']} | {s['final_iqm']} | {s['final']} | {s['auc']} | "
                     f"{s['steps']:.0f} | {s['solved']}/{s['runs']} |")  # fmt: skip
    lines += ["", "## Conclusion", "", *conclusion(stats, ranks), ""]
    if plots := _plots(stats):
        lines += ["## Plots", "", *(f"- {path}: {what}" for path, what in plots.items()), ""]
    return "\n".join(lines)


def summary_json(sweep: Sweep, stats: list[dict[str, Any]], ranks: Ranks) -> dict[str, Any]:
    """summary.md's numbers for programs: per configuration each estimate as {value, low, high} (null
    before a seed has finished), and the ranking (null while it would rest on too few seeds)."""

    def estimate(e: Estimate | None) -> dict[str, float] | None:
        return dataclasses.asdict(e) if e is not None else None

    return {
        "algo": sweep.algo,
        "env": sweep.env,
        "seeds": sweep.seeds,
        "total_steps": sweep.total_steps,
        "confidence": CONFIDENCE,
        "configs": [{
            "config": s["config"],
            "settings": s["settings"],
            "runs": s["runs"],
            "solved": s["solved"],
            "final_return": {"iqm": estimate(s["final_iqm"]), "mean": estimate(s["final"])},
            "auc": {"mean": estimate(s["auc"])},
            "steps_to_solve": {"mean": estimate(s["steps"])},
        } for s in stats],
        "ranking": None if ranks is None else {
            field: {
                "best": order[0][0]["config"],
                "others": [{"config": s["config"], "ci_below_best": s[key].high < order[0][0][key].low,
                            "probability_of_improvement": estimate(poi)} for s, poi in order[1:]],
            }
            for (key, field, _), order in zip(RANKED, ranks, strict=True)
        },
        "plots": list(_plots(stats)),
    }  # fmt: skip


MIN_SEEDS_TO_RANK = 5  # below this, a 95% bootstrap interval over seeds is too unreliable to rank
RANKED = (("final", "final_return", "final return"), ("auc", "auc", "area under the learning curve"))


COMPARE, PROFILE = "plots/compare.png", "plots/profile.png"


def _plots(stats: list[dict[str, Any]]) -> dict[str, str]:
    """The plots of the sweep's results so far, by path in the sweep directory, with what each shows: the
    performance profile only once every configuration has MIN_SEEDS_TO_RANK finished seeds, as fewer draw
    a staircase of a few steps with a band as wide as the plot."""
    plots = {}
    if any(s["final"] for s in stats):
        plots[COMPARE] = "each configuration's mean eval-return curve with its 95% CI band"
    if all(s["runs"] >= MIN_SEEDS_TO_RANK for s in stats):
        plots[PROFILE] = ("each configuration's performance profile: the fraction of its seeds whose final "
                          "return exceeds each value, with a 95% CI band")  # fmt: skip
    return plots


Ranks = list[list[tuple[dict[str, Any], Estimate | None]]] | None


def ranking(stats: list[dict[str, Any]]) -> Ranks:
    """For each of RANKED, the configurations with a finished seed, best mean first, each paired with the
    probability that a seed of the best beats a seed of it (None for the best itself). None when no seed
    has finished, or when several configurations would be ranked on fewer than MIN_SEEDS_TO_RANK seeds."""
    ranked = [s for s in stats if s["final"] is not None]
    if not ranked or (len(ranked) > 1 and min(s["runs"] for s in ranked) < MIN_SEEDS_TO_RANK):
        return None
    out = []
    for key, _, _ in RANKED:
        best, *others = sorted(ranked, key=lambda s: s[key].value, reverse=True)
        out.append([(best, None)] + [
            (s, probability_of_improvement(best["values"][key], s["values"][key])) for s in others
        ])  # fmt: skip
    return out


def conclusion(stats: list[dict[str, Any]], ranks: Ranks) -> list[str]:
    """Plain sentences: which configuration is best by final return and by AUC, which differences the
    confidence intervals support (intervals that do not overlap), and how likely a seed of the best is to
    beat a seed of each other configuration."""
    ranked = [s for s in stats if s["final"] is not None]
    if not ranked:
        return ["No run has finished yet."]
    if ranks is None:
        fewest = min(s["runs"] for s in ranked)
        order = sorted(ranked, key=lambda s: s["final"].value, reverse=True)
        return [f"- {fewest} seed(s) per configuration: a bootstrap interval over fewer than {MIN_SEEDS_TO_RANK} "
                "seeds is too wide to rank configurations, so none is called better or worse. Run "
                f"--seeds {MIN_SEEDS_TO_RANK} or more. Highest mean final return so far: {order[0]['config']}."]  # fmt: skip
    out = []
    for (key, _, what), order in zip(RANKED, ranks, strict=True):
        best = order[0][0]
        if len(order) == 1:
            out.append(f"- Only one configuration: {best['config']}, {what} {best[key]}.")
            continue
        worse = [s["config"] for s, _ in order[1:] if s[key].high < best[key].low]
        tied = [s["config"] for s, _ in order[1:] if s[key].high >= best[key].low]
        sentence = f"- Best mean {what}: **{best['config']}** ({best[key]})."
        if worse:
            sentence += f" Clearly worse (CI entirely below the best's): {', '.join(worse)}."
        if tied:
            sentence += f" Not distinguishable from it with these seeds (CIs overlap): {', '.join(tied)}."
        chances = ", ".join(f"{s['config']} {poi:.2f}" for s, poi in order[1:])
        sentence += f" Probability of improvement (a seed of the best beating a seed of the other) [95% CI]: {chances}."
        out.append(sentence)
    never = [s["config"] for s in ranked if s["solved"] == 0]
    if never:
        out.append(f"- Never reached the target in any seed: {', '.join(never)}.")
    return out


def _settings_text(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items())


# ------------------------------------------------------------------------------------------ presets
PRESETS: dict[str, dict[str, Any]] = {
    # Seed 001's study of the soft target update rate: a hard copy every update, the usual 0.01, and
    # targets that barely move.
    "tau-study": {
        "algo": "ddpg",
        "env": "Pendulum-v1",
        "configs": [{"tau": 1.0}, {"tau": 0.01}, {"tau": 1e-5}],
        "seeds": [0, 1, 2],
        "total_steps": 6_000,
        "settings": {"eval_interval": 1_000, "eval_episodes": 5},
    },
    # Seed 001's learning-rate study: the critic faster than the actor (the tutorial's default), the
    # two swapped, and both equal.
    "lr-study": {
        "algo": "ddpg",
        "env": "Pendulum-v1",
        "configs": [
            {"actor_lr": 1e-4, "critic_lr": 1e-3},
            {"actor_lr": 1e-3, "critic_lr": 1e-4},
            {"actor_lr": 1e-3, "critic_lr": 1e-3},
        ],
        "seeds": [0, 1, 2],
        "total_steps": 6_000,
        "settings": {"eval_interval": 1_000, "eval_episodes": 5},
    },
}
