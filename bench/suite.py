"""Ours against Stable-Baselines3 at equal budgets, over many seeds, reported as papers report them.

Each job trains one algorithm on one env for both sides with the same networks (256-256), batch size
(256), buffer (1e6), learning starts, learning rate, tau (0.005), gamma (0.99), one update per env step,
exploration (Gaussian, sigma 0.1 of the half-range, for DDPG and TD3; SAC's entropy coefficient starts at
0.2 and is tuned to -|A| on both sides) and budget. Both sides are evaluated the same way, by the same
code: every ``eval_interval`` steps, ``eval_episodes`` deterministic episodes on a separate env, episode i
of the evaluation at step t seeded from (seed, t, i), so both sides see the same start states.

Work is split into units: ours trains its seeds in seed groups of at most 5 (``--seeds 5``), SB3 one process
per seed; units run two at a time with one thread each, ours and SB3 interleaved, so both sides share the
machine alike. Each finished unit is saved (``runs/suite/<job>/``); stop with Ctrl-C and run the same
command again to go on (ours resumes from its checkpoints, an unfinished SB3 seed starts over).

    python bench/suite.py run [--jobs pendulum-ddpg ...] [--workers 2] [--runs runs/suite] [--precision auto]
    python bench/suite.py run --jobs pendulum-sac --seeds 2 --steps 2000 --runs /tmp/s --data /tmp/s/data  # a smoke test
    python bench/suite.py report [--data docs/data/suite ...] [--summary PATH] [--figure docs/images/suite.png]

``run`` exports each finished job's curves and wall times to ``docs/data/suite/<job>.json``; ``report``
reads those (from one or more ``--data`` directories, a later one's job replacing an earlier one's) and
writes ``summary.md`` beside the first (or at ``--summary``) and the figures: per job, the IQM of the final evaluation
over seeds with its 95% bootstrap CI, the probability that a seed of ours beats a seed of SB3, steps to
the env's target, IQM learning curves with CI bands, and the CPU time per side (sum over units, one thread
each). Needs the [bench] extra (SB3), [mujoco] for InvertedPendulum and HalfCheetah, [box2d] for
LunarLander.

Budgets, chosen so that the whole suite fits in about 2.5 hours on 2 cores (see JOBS): Pendulum-v1 10k
steps, 10 seeds (DDPG, TD3, SAC); InvertedPendulum-v5 20k, 5 seeds (SAC; 10 would add about 20 minutes);
LunarLanderContinuous-v3 30k, 5 seeds (SAC, TD3) and HalfCheetah-v5 100k, 3 seeds (SAC). SB3's side takes
about two thirds of the time. LunarLander and HalfCheetah stop far short of convergence: they compare the
two libraries at equal steps, not final performance.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()


@dataclass(frozen=True)
class Job:
    env: str
    algo: str
    steps: int
    seeds: int
    eval_interval: int
    eval_episodes: int
    learning_starts: int
    lr: float
    target: float | None
    precision: str = "bf16"  # ours: bf16 autocast on the update's matrix products (float32 weights and Adam)
    compile: bool = True  # ours: the update compiled whole (torch.compile)


JOBS = {
    "pendulum-ddpg": Job("Pendulum-v1", "ddpg", 10_000, 10, 1_000, 10, 1_000, 1e-3, -200.0),
    "pendulum-td3": Job("Pendulum-v1", "td3", 10_000, 10, 1_000, 10, 1_000, 1e-3, -200.0),
    "pendulum-sac": Job("Pendulum-v1", "sac", 10_000, 10, 1_000, 10, 1_000, 1e-3, -200.0),
    "invertedpendulum-sac": Job("InvertedPendulum-v5", "sac", 20_000, 5, 2_000, 10, 1_000, 3e-4, 950.0),
    "lunarlander-sac": Job("LunarLanderContinuous-v3", "sac", 30_000, 5, 5_000, 5, 5_000, 3e-4, 200.0),
    "lunarlander-td3": Job("LunarLanderContinuous-v3", "td3", 30_000, 5, 5_000, 5, 5_000, 3e-4, 200.0),
    "halfcheetah-sac": Job("HalfCheetah-v5", "sac", 100_000, 3, 10_000, 5, 5_000, 3e-4, None),
}


GROUP = 5  # seeds per seed group of ours: 10 seeds run as two groups of 5, 5 or 3 as one


# ------------------------------------------------------------------------------------------ one unit
def member_dirs(run_dir: Path, seeds: list[int]) -> list[Path]:
    """Where ``actorcritic train --seeds K --run-dir DIR`` puts each seed's run (a group of one: DIR)."""
    return [run_dir / f"seed{s}" for s in seeds] if len(seeds) > 1 else [run_dir]


def ours_command(job: Job, seeds: list[int], run_dir: Path) -> list[str]:
    if run_dir.exists():  # an interrupted group: go on from its checkpoints
        return [sys.executable, "-m", "actorcritic", "train", "--resume", *map(str, member_dirs(run_dir, seeds)),
                "--no-progress", "--threads", "1"]  # fmt: skip
    lrs = ["--actor-lr", str(job.lr), "--critic-lr", str(job.lr)] + (["--alpha-lr", str(job.lr)] if job.algo == "sac" else [])  # fmt: skip
    return [sys.executable, "-m", "actorcritic", "train", job.algo, "--env", job.env, "--seed", str(seeds[0]),
            "--seeds", str(len(seeds)), "--total-steps", str(job.steps), "--run-dir", str(run_dir),
            "--eval-interval", str(job.eval_interval), "--eval-episodes", str(job.eval_episodes),
            "--learning-starts", str(job.learning_starts), *lrs, "--checkpoint-interval", str(job.eval_interval * 5),
            "--precision", job.precision, "--compile", "on" if job.compile else "off", "--threads", "1", "--no-progress"]  # fmt: skip


def train_sb3(job: Job, seed: int, out: Path) -> None:
    """One SB3 seed of ``job``, evaluated by our evaluation code; its curve goes to ``out``."""
    import gymnasium as gym
    import stable_baselines3 as sb3
    import torch
    from _sb3 import model as sb3_model
    from stable_baselines3.common.callbacks import BaseCallback

    from actorcritic.runtime.evaluation import evaluate_policies

    torch.set_num_threads(1)
    env, eval_env = gym.make(job.env), gym.make(job.env)
    kwargs = {"ent_coef": "auto_0.2"} if job.algo == "sac" else {}
    model = sb3_model(job.algo, env, seed=seed, learning_starts=job.learning_starts, lr=job.lr, **kwargs)
    curve: list[tuple[int, float]] = []

    def act(obs: np.ndarray) -> np.ndarray:  # [1, K, obs_dim] -> [1, K, action_dim]
        return model.predict(obs.reshape(-1, obs.shape[-1]), deterministic=True)[0].reshape(*obs.shape[:-1], -1)

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % job.eval_interval == 0:
                result = evaluate_policies([[eval_env]], act, job.eval_episodes, [seed], round_id=self.num_timesteps)[0]
                curve.append((self.num_timesteps, result.mean_return))
            return True

    started = time.perf_counter()
    model.learn(job.steps, callback=Evaluate())
    data = {
        "curve": curve,
        "wall_seconds": time.perf_counter() - started,
        "library": f"stable-baselines3 {sb3.__version__}",
    }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(out)


def ours_curves(run_dir: Path, seeds: list[int]) -> dict[int, list[tuple[int, float]]]:
    from actorcritic.runtime.logging import eval_points, read_csv

    curves = {}
    for s, d in zip(seeds, member_dirs(run_dir, seeds), strict=True):
        steps, returns, _ = eval_points(read_csv(d / "metrics.csv"))
        curves[s] = [(int(t), float(r)) for t, r in zip(steps, returns, strict=True)]
    return curves


# ------------------------------------------------------------------------------------------ running
@dataclass
class Unit:
    job: str
    definition: Job
    side: str  # "ours" or "sb3"
    seeds: list[int]
    path: Path  # ours: the group's run directory; SB3: the seed's result file

    @property
    def name(self) -> str:
        return f"{self.job}/{self.side}/{'-'.join(map(str, self.seeds))}"

    def done(self) -> bool:
        if self.side == "sb3":
            return self.path.exists()
        return all((d / "summary.json").exists() for d in member_dirs(self.path, self.seeds))

    def command(self) -> list[str]:
        if self.side == "ours":
            return ours_command(self.definition, self.seeds, self.path)
        return [sys.executable, str(HERE), "sb3-unit", json.dumps(asdict(self.definition)), str(self.seeds[0]), str(self.path)]  # fmt: skip


def units(name: str, job: Job, runs: Path) -> list[Unit]:
    """Ours' seed groups (as few as hold at most ``GROUP`` seeds each, of equal size) and SB3's seeds, interleaved."""
    root = runs / name
    seeds = list(range(job.seeds))
    size = math.ceil(len(seeds) / math.ceil(len(seeds) / GROUP))
    groups = [seeds[i : i + size] for i in range(0, len(seeds), size)]
    ours = [Unit(name, job, "ours", g, root / f"ours-{g[0]}") for g in groups]
    sb3 = [Unit(name, job, "sb3", [s], root / "sb3" / f"seed{s}.json") for s in seeds]
    out = []
    for i in range(max(len(ours), len(sb3))):
        out += ([ours[i]] if i < len(ours) else []) + ([sb3[i]] if i < len(sb3) else [])
    return out


class Ledger:
    """Seconds spent on each unit (runs/suite/ledger.json): ours over all the attempts it took (a stopped
    group resumes from its checkpoints, so every attempt is part of its work), SB3 its last attempt only (a
    stopped seed starts over, so an earlier attempt is work thrown away, not SB3's cost); wall time, and
    CPU time (user + system of the unit's process and the processes it waited for, such as compile
    workers). With one thread per unit and a quiet machine the two agree; CPU time also holds up when
    something else shares the cores."""

    def __init__(self, path: Path):
        self.path, self.lock = path, threading.Lock()
        loaded = json.loads(path.read_text()) if path.exists() else {}
        # a unit recorded before CPU time was: its wall time only
        self.seconds: dict[str, dict[str, float]] = {
            k: v if isinstance(v, dict) else {"wall": v} for k, v in loaded.items()
        }

    def add(self, unit: Unit, wall: float, cpu: float) -> None:
        with self.lock:
            if unit.side == "sb3":
                self.seconds.pop(unit.name, None)
            entry = self.seconds.setdefault(unit.name, {"wall": 0.0, "cpu": 0.0})
            entry["wall"] += wall
            entry["cpu"] = entry.get("cpu", math.nan) + cpu
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.seconds, indent=1))
            tmp.replace(self.path)


def run(jobs: dict[str, Job], runs: Path, workers: int, data: Path) -> None:
    runs.mkdir(parents=True, exist_ok=True)
    defined = runs / "jobs.json"  # what the runs here were started with: a resumed suite must not change it
    known = json.loads(defined.read_text()) if defined.exists() else {}
    for name, job in jobs.items():
        if name in known and known[name] != asdict(job):
            raise SystemExit(f"{runs} ran {name} as {known[name]}, not {asdict(job)}: use another --runs")
        known[name] = asdict(job)
    defined.write_text(json.dumps(known, indent=1))
    ledger = Ledger(runs / "ledger.json")
    todo = [u for name, job in jobs.items() for u in units(name, job, runs) if not u.done()]
    print(f"{len(todo)} units to run, {workers} at a time, one thread each", flush=True)
    pending: queue.Queue[Unit] = queue.Queue()
    for u in todo:
        u.path.parent.mkdir(parents=True, exist_ok=True)
        pending.put(u)
    running: dict[str, subprocess.Popen] = {}
    stop = threading.Event()
    started_all = time.perf_counter()

    def worker() -> None:
        while not stop.is_set():
            try:
                u = pending.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            proc = subprocess.Popen(u.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
            running[u.name] = proc
            assert proc.stderr is not None
            err = proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)  # reaps it: Popen's own wait would lose the rusage
            proc.returncode = os.waitstatus_to_exitcode(status)
            running.pop(u.name, None)
            ledger.add(u, time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
            status = "done" if proc.returncode == 0 else f"exit {proc.returncode}: {err.strip().splitlines()[-1:]}"
            print(f"[{time.perf_counter() - started_all:7.0f}s] {u.name}: {status} in {time.perf_counter() - started:.0f}s "
                  f"({pending.qsize()} queued)", flush=True)  # fmt: skip

    # Ctrl-C and SIGTERM stop the suite, however it was started (a background job may have SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    try:
        # sleep, not join: a Ctrl-C that lands inside Thread.join can leave a running thread marked stopped
        # (CPython before 3.13), and the interpreter would then exit without waiting for its unit
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop.set()
        print("stopping the running units", file=sys.stderr, flush=True)
        for proc in list(running.values()):
            os.kill(proc.pid, signal.SIGTERM)  # ours checkpoints and stops; SB3's seed will start over
        for t in threads:
            t.join()
        print("stopped; run the same command again to go on", file=sys.stderr)
        sys.exit(130)
    for name, job in jobs.items():
        export(name, job, runs, ledger, data)


def export(name: str, job: Job, runs: Path, ledger: Ledger, data: Path) -> None:
    """A finished job's curves per seed and side, and each side's CPU seconds, to ``data/<job>.json``."""
    us = units(name, job, runs)
    if not all(u.done() for u in us):
        print(f"{name}: not finished; run again to go on")
        return
    sides: dict[str, dict] = {side: {"curves": {}, "wall_seconds": 0.0, "cpu_seconds": 0.0} for side in ("ours", "sb3")}
    for u in us:
        side, spent = sides[u.side], ledger.seconds.get(u.name, {})
        side["wall_seconds"] += spent.get("wall", math.nan)
        side["cpu_seconds"] += spent.get("cpu", math.nan)
        if u.side == "ours":
            side["curves"].update(ours_curves(u.path, u.seeds))
        else:
            result = json.loads(u.path.read_text())
            side["curves"][u.seeds[0]] = result["curve"]
            side["library"] = result["library"]
    import actorcritic

    sides["ours"]["library"] = f"actorcritic {actorcritic.__version__}"
    data.mkdir(parents=True, exist_ok=True)
    (data / f"{name}.json").write_text(json.dumps({"name": name, "job": asdict(job), **sides}, indent=1))
    print(f"{name}: exported to {data / f'{name}.json'}")


# ------------------------------------------------------------------------------------------ report
def final_returns(side: dict) -> np.ndarray:
    return np.array([curve[-1][1] for curve in side["curves"].values()])


def steps_to_target(side: dict, target: float | None) -> tuple[float | None, int]:
    """Median over seeds of the first evaluation step at or above ``target`` (unsolved seeds count as
    never: the median is None when half or more never got there), and how many seeds got there."""
    if target is None:
        return None, 0
    firsts = [next((t for t, r in curve if r >= target), math.inf) for curve in side["curves"].values()]
    median = float(np.median(firsts))
    return (median if math.isfinite(median) else None), sum(math.isfinite(f) for f in firsts)


def spent(ours: dict, sb3: dict) -> tuple[str, float, float]:
    """Each side's time on a job: CPU time where every unit of both sides has it, else wall time."""
    cpu = ours.get("cpu_seconds", math.nan), sb3.get("cpu_seconds", math.nan)
    if all(math.isfinite(c) for c in cpu):
        return "CPU", *cpu
    return "wall", ours["wall_seconds"], sb3["wall_seconds"]


def ours_settings(job: dict) -> str:
    return f"{job.get('precision', 'float32')}{', compiled' if job.get('compile') else ''}"


def report(data: list[Path], figure: Path, improvement: Path, summary: Path | None = None) -> None:
    """The table, ``summary`` (default: ``data[0]/summary.md``) and the figures for the jobs in ``data``; with
    several directories, a job found in a later one replaces the same job from an earlier one (e.g. a run of
    the Pendulum jobs with more seeds over the suite's own)."""
    from actorcritic.core.stats import (
        average_probability_of_improvement,
        bootstrap_ci,
        iqm,
        probability_of_improvement,
    )

    by_name = {r["name"]: r for d in data for r in (json.loads(p.read_text()) for p in sorted(d.glob("*.json")))}
    results = sorted(by_name.values(), key=lambda r: list(JOBS).index(r["name"]))
    if not results:
        raise SystemExit(f"no finished jobs in {' '.join(map(str, data))}; run `python bench/suite.py run` first")
    rows = ["| job | seeds | steps | ours IQM [95% CI] | SB3 IQM [95% CI] | P(ours > SB3) | steps to target, ours / SB3 "
            "| time, ours / SB3 | ours ran |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    finals = [(final_returns(r["ours"]), final_returns(r["sb3"])) for r in results]
    improvements = [probability_of_improvement(x, y) for x, y in finals]
    for r, (x, y), p in zip(results, finals, improvements, strict=True):
        job, ours, sb3 = r["job"], r["ours"], r["sb3"]
        a, b = bootstrap_ci(x, iqm), bootstrap_ci(y, iqm)
        targets = [steps_to_target(side, job["target"]) for side in (ours, sb3)]
        solve = " / ".join(f"{m / 1000:g}k ({n}/{len(x)})" if m is not None else f"not reached ({n}/{len(x)})"
                           for m, n in targets)  # fmt: skip
        if job["target"] is None:
            solve = "no target"
        kind, t_ours, t_sb3 = spent(ours, sb3)
        rows.append(f"| {job['env']} {job['algo'].upper()} | {len(x)} | {job['steps'] / 1000:g}k | {a} | {b} | {p:.2f} "
                    f"| {solve} | {t_ours / 60:.1f} / {t_sb3 / 60:.1f} {kind} min ({t_sb3 / t_ours:.2f}x) | {ours_settings(job)} |")  # fmt: skip
    average = average_probability_of_improvement([x for x, _ in finals], [y for _, y in finals])
    table = "\n".join(rows) + f"\n\nAverage over the {len(results)} jobs of P(ours > SB3): {average:.2f}\n"
    summary = summary or data[0] / "summary.md"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(
        "Final evaluation return: interquartile mean over seeds with its 95% percentile-bootstrap CI; "
        "P(ours > SB3): the probability that a seed of ours ends above a seed of SB3, with its 95% CI; steps to target: median first evaluation at the env's target (seeds that got there); time: "
        "the sum over units, one thread each (ours: seed groups of at most 5; SB3: one process per seed), CPU time (user + system) "
        "where it was recorded for every unit, else wall time; ours ran: the precision of ours' update and whether it was "
        "compiled (SB3 runs float32, eager).\n\n" + table + "\n"
    )
    print(table)
    plot(results, figure)
    plot_improvement(results, improvements, average, improvement)


def plot(results: list[dict], figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from actorcritic.core.stats import bootstrap_ci, iqm

    cols = min(4, len(results))
    rows = math.ceil(len(results) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for ax, r in zip(axes.flat, results, strict=False):
        for side, color in (("ours", "C0"), ("sb3", "C1")):
            curves = list(r[side]["curves"].values())
            steps = [t for t, _ in curves[0]]
            values = np.array([[v for _, v in c[: len(steps)]] for c in curves])
            cis = [bootstrap_ci(values[:, j], iqm, resamples=2_000) for j in range(len(steps))]
            ax.plot(steps, [c.value for c in cis], color=color, label=r[side]["library"])
            ax.fill_between(steps, [c.low for c in cis], [c.high for c in cis], color=color, alpha=0.2)
        job = r["job"]
        if job["target"] is not None:
            ax.axhline(job["target"], color="grey", lw=0.8, ls="--")
        ax.set(title=f"{job['env']} {job['algo'].upper()} ({len(curves)} seeds)", xlabel="env steps")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(results) :]:
        ax.axis("off")
    axes[0][0].set_ylabel("eval return, IQM over seeds")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    print(figure)


def plot_improvement(results: list[dict], each: list, average: Any, figure: Path) -> None:
    """The aggregate figure: P(ours > SB3) per job and over all jobs, with 95% CIs, beside the 0.5 of a tie."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['job']['env']} {r['job']['algo'].upper()} ({len(r['ours']['curves'])} seeds)" for r in results]
    labels.append(f"average over {len(results)} jobs")
    estimates = [*each, average]
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(estimates) + 1.2))
    y = np.arange(len(estimates))[::-1]
    values = np.array([e.value for e in estimates])
    errors = np.array([[e.value - e.low for e in estimates], [e.high - e.value for e in estimates]])
    for i, color in enumerate(["C0"] * len(each) + ["black"]):
        ax.errorbar(values[i], y[i], xerr=errors[:, i : i + 1], fmt="o", color=color, capsize=3)
    ax.axvline(0.5, color="grey", lw=0.8, ls="--")
    ax.set(yticks=y, yticklabels=labels, xlim=(0, 1), xlabel="P(a seed of ours ends above a seed of SB3), 95% CI")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    print(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--jobs", nargs="+", default=list(JOBS), choices=list(JOBS))
    p_run.add_argument("--workers", type=int, default=2)
    p_run.add_argument("--seeds", type=int, help="override every job's seeds (a smoke test)")
    p_run.add_argument("--steps", type=int, help="override every job's budget, eval interval steps/5 (a smoke test)")
    p_run.add_argument("--runs", type=Path, default=Path("runs/suite"))
    p_run.add_argument("--data", type=Path, default=Path("docs/data/suite"))
    p_run.add_argument("--precision", choices=["auto", "bf16", "float32"], default="auto",
                       help="ours' update: auto is bf16 where the CPU has it (AVX-512 BF16 or AMX), else float32")  # fmt: skip
    p_report = sub.add_parser("report")
    p_report.add_argument("--data", type=Path, nargs="+", default=[Path("docs/data/suite")],
                          help="directories of exported jobs; a job in a later one replaces the same job in an earlier one")  # fmt: skip
    p_report.add_argument("--summary", type=Path, help="where the table goes (default: the first --data's summary.md)")
    p_report.add_argument("--figure", type=Path, default=Path("docs/images/suite.png"))
    p_report.add_argument("--improvement", type=Path, default=Path("docs/images/suite-improvement.png"))
    p_unit = sub.add_parser("sb3-unit")  # one SB3 seed, in its own process (run starts these)
    p_unit.add_argument("job", type=lambda text: Job(**json.loads(text)))
    p_unit.add_argument("seed", type=int)
    p_unit.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        from actorcritic.algos.off_policy import bf16_supported

        if args.precision == "bf16" and not bf16_supported("cpu"):
            print("error: --precision bf16: this CPU has no native bfloat16 (AVX-512 BF16 or AMX); use float32",
                  file=sys.stderr)  # fmt: skip
            sys.exit(2)
        precision = args.precision if args.precision != "auto" else "bf16" if bf16_supported("cpu") else "float32"
        print(f"ours' update runs in {precision}")
        jobs = {name: replace(JOBS[name], precision=precision) for name in args.jobs}
        if args.seeds:
            jobs = {name: replace(job, seeds=args.seeds) for name, job in jobs.items()}
        if args.steps:
            jobs = {name: replace(job, steps=args.steps, eval_interval=args.steps // 5,
                                  learning_starts=min(job.learning_starts, args.steps // 5)) for name, job in jobs.items()}  # fmt: skip
        run(jobs, args.runs, args.workers, args.data)
    elif args.command == "report":
        report(args.data, args.figure, args.improvement, args.summary)
    else:
        train_sb3(args.job, args.seed, args.out)


if __name__ == "__main__":
    main()
