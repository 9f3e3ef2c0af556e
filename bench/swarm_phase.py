"""Can DDPG learn to flock like the Vicsek rule at every noise (the thesis question of seed 000)?

    python bench/swarm_phase.py [--dims 2 3] [--modes radius knn_radius] [--noise-2d 0.5:4.5:1]
        [--noise-3d 0.1:0.7:0.15] [--train-noise-2d ETA] [--train-noise-3d ETA] [--seeds 5] [--total-steps 300000] [--gamma 0]
        [--episodes 5] [--jobs 2] [--stop-after MINUTES] [--out-dir runs/swarm_phase] [--docs-dir docs]
    python bench/swarm_phase.py --transition [--transition-episodes 20]    # where the rule's order gives way

For each dimension, neighbour mode and noise η of the grid, trains DDPG on Swarm-v0 (small preset, N = 100)
with the swarm's training defaults, except a discount of 0 (--gamma), and an observation that holds what the rule sees (observed()), `actorcritic train ddpg --env Swarm-v0 --env-kwargs ...`, once per seed.
Modes: ``radius`` (everyone within r = 1, Vicsek's rule) and ``knn_radius`` (the k = 6 nearest within r,
itself included: the notebook's FIXEDRADIUS with its k_neighbors = 5 others). Then it evaluates, with what
`actorcritic swarm phase-diagram --policy` runs (the Vicsek rule, random turns and no turns beside the
learned policies, on the same seeded episodes, in the runs' own env with only the noise changed):

- trained at each η: the runs trained at η, evaluated at η;
- trained at one η: the runs trained at --train-noise-2d / --train-noise-3d, evaluated at every η.

and writes, under --docs-dir: data/swarm_phase/orders.csv (mean order parameter, 95% bootstrap CI over the
seeds, ratio to the rule, per dim, mode, policy and η), episodes.csv (every evaluation episode and its seed),
runs.csv (each run's final evaluation, and its wall time as summary.json has it: since its last resume), table.md (learned / rule ratios), and
images/swarm_phase_2d.png, swarm_phase_3d.png (order parameter against η, one panel per mode, CI bands).

Runs in parts: the same command again skips runs whose summary.json exists, resumes interrupted ones
(`actorcritic train --resume`) and starts the rest. Ctrl-C or SIGTERM (exit 130), or --stop-after MINUTES
(exit 3), stops the training runs, each at a checkpoint. The evaluation runs, and its files are (re)written,
once every run has finished. Runs live in --out-dir/steps<N>_gamma<γ>/<dim>d_<mode>_obs<n>[pos]/eta<η>_seed<S>, so
another --total-steps or --gamma never mixes with them; logs in --out-dir/logs/. Each job is one process with one torch thread
(--threads 1) and one numba thread (NUMBA_NUM_THREADS=1): numba's parallel neighbour search with its
default two threads, beside another job and other work on two cores, made a 100k-step run take 550 s
instead of 26 s (at load 7-9 and 4-8), and an evaluation episode 8-25x as long (measured side by side).

Defaults, chosen for about 1 hour on 2 cores: 2 dims x 2 modes x 5 η x 5 seeds = 100 runs of 300,000 steps
(3,000 swarm steps of 100 particles), 2 at a time, then 5 evaluation episodes per policy and η.
- Measured 2026-12-01 on the 2-core development machine, shared with other work (load 3.5-7): two 300k
  runs side by side, 2D radius η = 2.5 and 3D knn_radius η = 0.4, took 46 s and 50 s wall (21 and 25 s of
  CPU); 100k-step pairs 26-28 s, 400k 57-78 s, 600k 160-173 s (at load 6-7). Evaluation: about 0.3 s an
  episode, ~2 min per dim and mode. So 50 pairs x ~48 s = 40 min of training and ~8 min of evaluation
  at that load; on an idle machine about half; a busier one stretches it toward 1.5 hours (--stop-after
  splits it into parts).
- Why 300k steps and 5 seeds: at η = 0.5 DDPG reaches the rule's order by 50k steps; at high η
  (2D radius η = 3.5, 3D radius η = 0.55) the evaluated order was flat from 250k to 600k steps, so steps
  beyond 300k buy little, and the rest of the budget goes to seeds (CIs over 5 seeds, not 3).
- Why this observation: with Swarm-v0's default (the 12 nearest neighbours' headings, no positions) the
  policy cannot tell who is within r, and near the transition that costs it: 2D radius η = 3.5, 300k steps,
  10 evaluation episodes, order 0.273 and 0.296 (seeds 0, 1) against the rule's 0.351; with 20 neighbours
  and their positions 0.337, 0.324, 0.365 (seeds 0-2). 3D radius η = 0.55: 0.250, 0.224 against 0.312;
  with 28 and positions 0.313, 0.288. (More updates, gamma 0, or positions alone did not help.)
- The k modes see less: the K - 1 = 5 nearest headings, no positions. With radius mode's observation, 2D
  knn_radius η = 0.5 ended at 0.66-0.86 over 5 seeds against the rule's 0.962 (12 neighbours with positions:
  0.77, 0.86, 0.60): the policies grew clusters that never merged, or the order fell during an episode
  (0.64 to 0.12), as if the positions taught them to circle. With the 5 headings alone: 0.93, 0.78, 0.96
  (seeds 0-2, final evaluation); 3D η = 0.1: 0.85, 0.85, 0.85 against the rule's 0.82. What remains is
  overshoot: in the ordered phase the learned turn is 1.3-2.3x the rule's (the slope of one against the
  other), where the delta reward's optimum, aligning with the others without itself, is 6/5; the rule
  with its turn doubled orders to 0.921 against 0.964 (knn_radius η = 0.5, 8 episodes), x1.2-1.5 to 0.968.
- Why a discount of 0: the delta reward is the turn's own, immediate effect, and with Swarm-v0's
  default of 0.5 the critic's future term drove that overshoot. 2D knn_radius η = 0.5, 5 headings: the
  slope of learned against rule turns fell from 1.5-2.3 to 1.0-1.14 (RMSE 0.03 rad), and the order rose
  from 0.957 of the rule's (3 seeds, 5 shared episodes) to 0.995 (2 seeds).
- Grids: 2D η 0.5..4.5 (Vicsek's η, a turn in [-η/2, η/2]) and 3D η 0.1..0.7 (the cap of solid angle 4πη),
  5 points each, spanning the ordered phase to the transition of both modes at N = 100 (the model's order
  falls to 0.2-0.3 at 2D η = 4.5 with radius, 3 with knn_radius; 3D 0.7 with radius, 0.45 with knn_radius).
  The trained-at-one η defaults to the middle of the grid (2D 2.5, 3D 0.4): a swarm neither frozen nor
  disordered shows the policy both aligned and misaligned neighbourhoods.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actorcritic.cli.swarm import (
    TrainedRuns,
    noise_values,
    plot_orders,
    policy_orders,
    summarize_orders,
    swarm_env,
    write_csv,
)
from actorcritic.errors import UserError

K = 6  # knn_radius: the particle and its 5 nearest others within r, as the notebook's k_neighbors = 5


def observed(dim: int, mode: str) -> dict:
    """What the policy sees: the information the rule uses. ``radius``: enough nearest neighbours to hold the
    whole radius-1 neighbourhood nearly always (density 4: 12.6 expected within r in 2D, 16.8 in 3D; more
    than 20 / 28 has odds of about 2% / 0.5%), with where each one is (relative_positions), so that it can
    tell which are within r. The k modes: the K - 1 nearest headings alone (at density 4 they are within r
    nearly always); positions there gave the policy something to misuse (see the module docstring)."""
    if mode == "radius":
        return {"neighbours_observed": {2: 20, 3: 28}[dim], "relative_positions": True}
    return {"neighbours_observed": K - 1, "relative_positions": False}


EVAL_SEED = 0
ONE_THREAD = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
POLICIES = {"trained_each": "DDPG trained at each η", "trained_one": "DDPG trained at η = {eta:g}"}
ORDER = ["vicsek", "random", "none", *POLICIES]  # of the figures' legends


@dataclass(frozen=True)
class Job:
    """One training run: a dim, a mode, a noise and a seed."""

    dim: int
    mode: str
    noise: float
    seed: int
    run_dir: Path

    @property
    def name(self) -> str:
        return f"{self.dim}D {self.mode} η={self.noise:g} seed {self.seed}"

    def command(self, total_steps: int, gamma: float) -> list[str]:
        """Resume it if it started (config.json written), else start it."""
        cli = [sys.executable, "-m", "actorcritic", "train"]
        common = ["--threads", "1", "--no-progress"]
        if (self.run_dir / "config.json").exists():
            return [*cli, "--resume", str(self.run_dir), *common]
        kwargs = ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in env_kwargs(self.dim, self.mode, self.noise).items())  # fmt: skip
        return [*cli, "ddpg", "--env", "Swarm-v0", "--env-kwargs", kwargs, "--total-steps", str(total_steps),
                "--seed", str(self.seed), "--gamma", f"{gamma:g}", "--run-dir", str(self.run_dir),
                "--checkpoint-interval", str(max(total_steps // 4, 1_000)), *common]  # fmt: skip


def env_kwargs(dim: int, mode: str, noise: float) -> dict:
    return {"preset": "small", "noise": noise, "dim": dim, "mode": mode, **({"k": K} if mode != "radius" else {}),
            **observed(dim, mode)}  # fmt: skip


def cell(dim: int, mode: str) -> str:
    """A (dim, mode) cell's folder; it names the observation, so that another one never mixes with its runs."""
    seen = observed(dim, mode)
    return f"{dim}d_{mode}_obs{seen['neighbours_observed']}{'pos' if seen['relative_positions'] else ''}"


def grid(args: argparse.Namespace, dim: int) -> tuple[list[float], float]:
    """The noise grid of ``dim`` and the η the trained-at-one runs were trained at (its middle by default)."""
    noises = [round(float(x), 10) for x in noise_values(getattr(args, f"noise_{dim}d"))]
    one = getattr(args, f"train_noise_{dim}d")
    one = noises[len(noises) // 2] if one is None else one
    if not any(np.isclose(one, noises)):
        raise UserError(f"--train-noise-{dim}d {one:g} is not on the grid {noises}")
    return noises, noises[int(np.argmin(np.abs(np.array(noises) - one)))]


def jobs_of(args: argparse.Namespace) -> list[Job]:
    """Every training run; a grid the env refuses (3D η above 1) fails here, before any training."""
    for dim in args.dims:
        for mode in args.modes:
            for eta in grid(args, dim)[0]:
                swarm_env(**env_kwargs(dim, mode, eta)).close()
    base = args.out_dir / f"steps{args.total_steps}_gamma{args.gamma:g}"
    return [
        Job(dim, mode, eta, seed, base / cell(dim, mode) / f"eta{eta:g}_seed{seed}")
        for dim in args.dims
        for mode in args.modes
        for eta in grid(args, dim)[0]
        for seed in range(args.seeds)
    ]


def train_all(args: argparse.Namespace, jobs: list[Job]) -> bool:
    """Run the unfinished jobs, ``args.jobs`` at a time; True when every job has its summary.json."""
    todo = [j for j in jobs if not (j.run_dir / "summary.json").exists()]
    print(f"{len(jobs)} runs, {len(jobs) - len(todo)} done, {len(todo)} to train ({args.jobs} at a time)", flush=True)
    logs = args.out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    running: dict[subprocess.Popen, tuple[Job, float]] = {}
    started, finished, failed, last_note = time.time(), [], [], time.time()
    deadline = started + 60 * args.stop_after if args.stop_after else None
    try:
        while todo or running:
            while todo and len(running) < args.jobs:
                job = todo.pop(0)
                if job.run_dir.exists() and not (job.run_dir / "config.json").exists():
                    shutil.rmtree(job.run_dir)  # killed before it wrote anything worth keeping
                log = open(logs / ("_".join(job.run_dir.parts[-3:]) + ".log"), "a")  # noqa: SIM115
                command = job.command(args.total_steps, args.gamma)
                verb = "resuming" if "--resume" in command else "starting"
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                           env={**os.environ, **ONE_THREAD})  # fmt: skip
                log.close()
                running[process] = (job, time.time())
                print(f"{verb} {job.name}", flush=True)
            time.sleep(1)
            for process in [p for p in running if p.poll() is not None]:
                job, t0 = running.pop(process)
                if process.returncode == 0 and (job.run_dir / "summary.json").exists():
                    finished.append(time.time() - t0)
                    order = _final_order(job.run_dir)
                    print(f"[{len(jobs) - len(todo) - len(running)}/{len(jobs)}] {job.name}: "
                          f"{finished[-1]:.0f} s, final eval order {order:.3f}{_time_left(finished, todo, running, args)}",
                          flush=True)  # fmt: skip
                else:
                    failed.append(job)
                    print(f"FAILED {job.name} (exit {process.returncode}): see {logs}", flush=True)
            if deadline is not None and time.time() > deadline and (todo or running):
                _stop(running)
                left = len(todo) + sum(not (j.run_dir / "summary.json").exists() for j, _ in running.values())
                print(f"stopped after {args.stop_after:g} min: {left} runs left; run the same command again to go on",
                      flush=True)  # fmt: skip
                return False
            if time.time() - last_note > 60 and running:
                last_note = time.time()
                steps = ", ".join(f"{j.name} at step {_last_step(j.run_dir)}" for j, _ in running.values())
                print(f"  {time.time() - started:.0f} s: {steps}", flush=True)
    except KeyboardInterrupt:
        _stop(running)
        print(f"interrupted: the runs were checkpointed; run the same command again to resume ({len(failed)} failed)")
        sys.exit(130)
    if failed:
        print(f"{len(failed)} runs failed; fix them (logs in {logs}) and run again", flush=True)
    return not failed


def _stop(running: dict[subprocess.Popen, tuple[Job, float]]) -> None:
    """SIGTERM each run (it saves a checkpoint and exits) and wait for it."""
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process, (job, _) in running.items():
        try:
            process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
        print(f"stopped {job.name} near step {_last_step(job.run_dir)}", flush=True)


def _time_left(finished: list[float], todo: list[Job], running: dict, args: argparse.Namespace) -> str:
    left = len(todo) + len(running)
    return f"; about {np.mean(finished) * left / args.jobs / 60:.0f} min of training left" if left else ""


def _last_step(run_dir: Path) -> str:
    try:
        return (run_dir / "metrics.csv").read_text().strip().splitlines()[-1].split(",")[0]
    except (OSError, IndexError):
        return "0"


def _final_order(run_dir: Path) -> float:
    summary = json.loads((run_dir / "summary.json").read_text())
    return summary.get("final_eval_metrics", {}).get("order_parameter", float("nan"))


def evaluate(args: argparse.Namespace, jobs: list[Job]) -> None:
    """Both phase diagrams of every dim and mode; the CSVs, the table and the figures."""
    import numba
    import torch

    numba.set_num_threads(1)  # as the training jobs: one thread of each kind
    torch.set_num_threads(1)
    data, images = args.docs_dir / "data" / "swarm_phase", args.docs_dir / "images"
    runs_of = {}
    for job in jobs:
        runs_of.setdefault((job.dim, job.mode, job.noise), []).append(job.run_dir)
    records, rows = [], []
    for dim in args.dims:
        noises, one = grid(args, dim)
        for mode in args.modes:
            started = time.time()
            group = {eta: TrainedRuns.read(runs_of[(dim, mode, eta)]) for eta in noises}
            found = policy_orders(group[one], noises, args.episodes, EVAL_SEED, progress=sys.stdout.isatty())
            found = [{**r, "policy": "trained_one" if r["policy"] == "trained" else r["policy"]} for r in found]
            for eta in noises:
                each = policy_orders(group[eta], [eta], args.episodes, EVAL_SEED, baselines=(), progress=False)
                found += [{**r, "policy": "trained_each"} for r in each]
            records += [{"dim": dim, "mode": mode, "train_noise": one, **r} for r in found]
            rows += [{"dim": dim, "mode": mode, "train_noise": one, **r} for r in summarize_orders(found)]
            print(f"evaluated {dim}D {mode} in {time.time() - started:.0f} s", flush=True)
    write_csv(data / "orders.csv", rows, new=False)
    write_csv(data / "episodes.csv", records, new=False)
    write_csv(data / "runs.csv", [_run_row(job) for job in jobs], new=False)
    (data / "table.md").write_text(table(rows, args))
    for dim in args.dims:
        figure(rows, dim, args, images / f"swarm_phase_{dim}d.png")
    print(table(rows, args))
    print("\n".join(str(p) for p in (data / "orders.csv", data / "episodes.csv", data / "runs.csv",
                                     data / "table.md", *(images / f"swarm_phase_{d}d.png" for d in args.dims))))  # fmt: skip


def _run_row(job: Job) -> dict:
    summary = json.loads((job.run_dir / "summary.json").read_text())
    return {"dim": job.dim, "mode": job.mode, "noise": job.noise, "seed": job.seed, "run_dir": str(job.run_dir),
            "total_steps": summary["total_steps"], "wall_seconds": summary["wall_seconds"],
            "final_eval_order": summary.get("final_eval_metrics", {}).get("order_parameter")}  # fmt: skip


def table(rows: list[dict], args: argparse.Namespace) -> str:
    """Learned / rule ratio of the mean order parameter at each η, with the CI's bounds over the rule's mean."""
    over = "seeds" if args.seeds > 1 else "episodes"
    lines = [f"DDPG on Swarm-v0 (small preset, N = 100), {args.seeds} seed(s) x {args.total_steps:,} steps, gamma {args.gamma:g}, "
             f"{args.episodes} evaluation episodes per point: learned / Vicsek rule mean order parameter "
             f"[95% bootstrap CI over {over}]. Goal: at least 0.97 at every η below the transition.", ""]  # fmt: skip
    for dim in args.dims:
        for mode in args.modes:
            part = [r for r in rows if r["dim"] == dim and r["mode"] == mode]
            one = part[0]["train_noise"]
            lines += [f"**{dim}D, {mode}**", "",
                      f"| η | Vicsek rule | trained at each η | trained at η = {one:g} |", "| ---: | ---: | ---: | ---: |"]  # fmt: skip
            for eta in sorted({r["noise"] for r in part}):
                at = {r["policy"]: r for r in part if r["noise"] == eta}
                rule = at["vicsek"]["mean_order"]
                cells = [f"{at[p]['vicsek_ratio']:.3f} [{at[p]['ci_low'] / rule:.3f}, {at[p]['ci_high'] / rule:.3f}]"
                         for p in ("trained_each", "trained_one")]  # fmt: skip
                lines.append(f"| {eta:g} | {rule:.3f} | {cells[0]} | {cells[1]} |")
            lines.append("")
    return "\n".join(lines)


def figure(rows: list[dict], dim: int, args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(args.modes), 4), dpi=110)
    for i, mode in enumerate(args.modes):
        ax = fig.add_subplot(1, len(args.modes), i + 1)
        part = sorted(
            (r for r in rows if r["dim"] == dim and r["mode"] == mode), key=lambda r: ORDER.index(r["policy"])
        )
        labels = {k: v.format(eta=part[0]["train_noise"]) for k, v in POLICIES.items()}
        plot_orders(ax, part, labels)
        ax.set_title(f"{dim}D, {mode} neighbours" + (f" (k = {K})" if mode != "radius" else ""), fontsize=10)
    seeds = f"{args.seeds} seed{'s' if args.seeds > 1 else ''}"
    fig.suptitle(f"DDPG vs the Vicsek rule on Swarm-v0 (N = 100)\n{seeds} x {args.total_steps:,} steps, gamma {args.gamma:g}; "
                 f"{args.episodes} episodes per point; bands: 95% CI", fontsize=9)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def transition(args: argparse.Namespace) -> None:
    """Where the rule's order gives way, for each dim and mode: its susceptibility chi = N var(phi) on a
    grid 4x as fine as the diagram's, the rule run as the diagram runs it (in the env, its turns capped at
    max_turn), with phi the order parameter at each step of the diagram's window
    (the second half of each episode), pooled over --transition-episodes episodes. Its peak is the
    transition this finite swarm shows under the diagram's own protocol; "below the transition" is below
    that η. Writes data/swarm_phase/transition.csv (every η) and prints the peaks."""
    from actorcritic.envs.swarm.env import vicsek_policy

    rows = []
    for dim in args.dims:
        noises = grid(args, dim)[0]
        fine = np.linspace(noises[0], noises[-1], 4 * (len(noises) - 1) + 1)
        for mode in args.modes:
            part = []
            for eta in fine:
                env, phis = swarm_env(**env_kwargs(dim, mode, float(eta))), []
                for episode in range(args.transition_episodes):  # the rule as the diagram runs it (turns capped)
                    env.reset(seed=episode)
                    for t in range(env.episode_steps):
                        info = env.step(vicsek_policy(env))[-1]
                        if t >= env.episode_steps // 2:
                            phis.append(info["order_parameter"])
                phi = np.array(phis)
                part.append({"dim": dim, "mode": mode, "noise": round(float(eta), 10), "mean_order": phi.mean(),
                             "susceptibility": env.num_envs * phi.var(), "episodes": args.transition_episodes})  # fmt: skip
                env.close()
            rows += part
            peak = max(part, key=lambda r: r["susceptibility"])
            print(f"{dim}D {mode}: susceptibility peaks at η = {peak['noise']:g} (order {peak['mean_order']:.3f})",
                  flush=True)  # fmt: skip
    write_csv(args.docs_dir / "data" / "swarm_phase" / "transition.csv", rows, new=False)
    print(args.docs_dir / "data" / "swarm_phase" / "transition.csv")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3], choices=[2, 3])
    parser.add_argument("--modes", nargs="+", default=["radius", "knn_radius"], choices=["radius", "knn", "knn_radius"])
    parser.add_argument("--noise-2d", default="0.5:4.5:1", help="2D η grid, START:STOP:STEP (η in [0, 2π])")
    parser.add_argument("--noise-3d", default="0.1:0.7:0.15", help="3D η grid, START:STOP:STEP (η in [0, 1])")
    parser.add_argument("--train-noise-2d", type=float, default=None, help="the trained-at-one η (default: mid-grid)")
    parser.add_argument("--train-noise-3d", type=float, default=None, help="the trained-at-one η (default: mid-grid)")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds 0..S-1 per dim, mode and η")
    parser.add_argument("--total-steps", type=int, default=300_000, help="env steps per run (100 per swarm step)")
    parser.add_argument("--gamma", type=float, default=0.0, help="DDPG's discount (Swarm-v0 trains at 0.5 by default)")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per policy and η")
    parser.add_argument("--jobs", type=int, default=2, help="training runs at a time, one thread each")
    parser.add_argument("--stop-after", type=float, default=None, help="minutes; then checkpoint and stop")
    parser.add_argument("--out-dir", type=Path, default=Path("runs/swarm_phase"), help="where the runs live")
    parser.add_argument("--docs-dir", type=Path, default=Path("docs"), help="data/swarm_phase/ and images/ go here")
    parser.add_argument("--transition", action="store_true", help="only the rule's susceptibility (see transition())")
    parser.add_argument("--transition-episodes", type=int, default=20, help="episodes per η for --transition")
    args = parser.parse_args()
    if args.transition:
        if args.transition_episodes < 1:
            parser.error("--transition-episodes must be >= 1")
        transition(args)
        return
    if min(args.seeds, args.total_steps, args.episodes, args.jobs) < 1:
        parser.error("--seeds, --total-steps, --episodes and --jobs must be >= 1")
    try:
        jobs = jobs_of(args)
    except UserError as e:
        parser.error(str(e))
    signal.signal(signal.SIGTERM, _interrupt)  # as Ctrl-C: checkpoint the runs and stop
    started = time.time()
    if not train_all(args, jobs):
        sys.exit(3)  # stopped by --stop-after, or runs failed: the last line says which
    print(f"training done in {time.time() - started:.0f} s; evaluating", flush=True)
    try:
        evaluate(args, jobs)
    except KeyboardInterrupt:
        print("interrupted during the evaluation: run the same command again to evaluate")
        sys.exit(130)
    print(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
