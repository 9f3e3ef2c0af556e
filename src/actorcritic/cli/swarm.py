"""``actorcritic swarm``: run the Vicsek model alone, or compare trained swarm policies with its rule.

    actorcritic swarm simulate [--preset small|medium|large] [--n N --box-size L] [--noise ETA] [--radius r]
                               [--speed v] [--dim 2|3] [--mode radius|knn|knn_radius] [--k K] [--update new|old]
                               [--steps T] [--seed S] [--json] [--animate out.gif|out.mp4]
    actorcritic swarm phase-diagram --noise START:STOP:STEP [model flags] [--steps T] [--repeats R] --output DIR
    actorcritic swarm phase-diagram --noise START:STOP:STEP --policy RUN_DIR... [--repeats EPISODES] --output DIR

Order-parameter statistics are taken over the second half of the run (steps T//2+1 .. T), when the swarm
has (mostly) forgotten its random start. With ``--policy``, the trained runs (seeds of one configuration),
the Vicsek rule, random turns and no turns all steer Swarm-v0 with the runs' env, only the noise changed,
through the same seeded episodes.
"""

from __future__ import annotations

import csv
import inspect
import json
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tyro

from actorcritic.agents import load
from actorcritic.cli.parsing import parse
from actorcritic.core.files import atomic_path, atomic_write, refuse_existing
from actorcritic.core.stats import bootstrap_ci
from actorcritic.envs import make_env
from actorcritic.envs.swarm.env import BASELINES, SwarmEnv
from actorcritic.envs.swarm.model import DENSITY, PRESETS, VicsekModel
from actorcritic.errors import UserError
from actorcritic.runtime.checkpoint import resolve_checkpoint
from actorcritic.runtime.evaluation import evaluate_multi_agent
from actorcritic.runtime.progress import ProgressBar
from actorcritic.runtime.run_dir import CONFIG, check_output_dir


@dataclass(frozen=True)
class ModelFlags:
    """The Vicsek model's settings (Vicsek et al. 1995) but the noise: N particles in a periodic box of side L."""

    preset: Literal["small", "medium", "large"] | None = None
    """Size at density 4: small N=100, medium N=1000, large N=10000 (sets --n and --box-size unless given)."""
    n: int | None = None
    """Number of particles (default 300, or the preset's)."""
    box_size: float | None = None
    """Side L of the periodic box (default: density 4, i.e. (N / 4)^(1/dim))."""
    speed: float = 0.03
    """Speed v of every particle (distance per step)."""
    radius: float = 1.0
    """Interaction radius r (radius and knn_radius modes)."""
    dim: Literal[2, 3] = 2
    """Space dimension."""
    mode: Literal["radius", "knn", "knn_radius"] = "radius"
    """Neighbours: everyone within r; the k nearest; the k nearest within r (itself always included)."""
    k: int | None = None
    """Neighbour-set size of the knn modes, the particle itself included."""
    update: Literal["new", "old"] = "new"
    """Move with the new heading (usual) or the old one (Vicsek's eq. 1 read literally)."""

    def model(self, noise: float, seed: int) -> VicsekModel:
        n = self.n if self.n is not None else (PRESETS[self.preset]["n"] if self.preset else 300)
        box_size = self.box_size if self.box_size is not None else (n / DENSITY) ** (1.0 / self.dim)
        return VicsekModel(n, box_size, speed=self.speed, noise=noise,
                           radius=self.radius, dim=self.dim, mode=self.mode, k=self.k, seed=seed, update=self.update)  # fmt: skip


@dataclass(frozen=True)
class SimulateArgs:
    """Simulate a Vicsek swarm and report its order parameter over the second half of the run."""

    model: Annotated[ModelFlags, tyro.conf.arg(name="")] = ModelFlags()
    noise: float = 0.5
    """Noise eta. 2D: turn uniform in [-eta/2, eta/2]. 3D: uniform on a cap of solid angle 4 pi eta, in [0, 1]."""
    steps: int = 500
    """Steps to run."""
    seed: int = 0
    """Seed for the initial positions, headings and the noise."""
    json: bool = False
    """Print one JSON object (mean_order, std_order, final_order, steps, n) instead of text."""
    animate: Path | None = None
    """Write an animation of the run: .gif (Pillow) or .mp4 (needs ffmpeg); 2D only. Never overwrites."""
    fps: int = 20
    """Frames per second of --animate."""


@dataclass(frozen=True)
class PhaseDiagramArgs:
    """Sweep the noise: mean order parameter (second half of each run) against eta, as Vicsek's Fig. 2(a)."""

    noise: str
    """Noise values START:STOP:STEP, both ends included (STOP when on the grid), e.g. 0:5:0.25; or one value."""
    output: Path
    """Directory for phase_diagram.png and phase_diagram.csv: new, empty or an earlier phase diagram's (its
    files are never overwritten)."""
    model: Annotated[ModelFlags, tyro.conf.arg(name="")] = ModelFlags()
    steps: int | None = None
    """Steps per run (default 500). With --policy: steps per evaluation episode (default: the runs' own)."""
    repeats: int = 3
    """Runs (seeds seed, seed+1, ...) per noise value; the error bars are their std. With --policy:
    evaluation episodes per policy and noise value, the same seeded ones for every policy."""
    seed: int = 0
    """First seed; with --policy, the seed of the evaluation episodes."""
    progress: bool = True
    """Show a progress bar."""
    policy: tuple[Path, ...] = ()
    """Trained runs on Swarm-v0, seeds of one configuration: evaluate them beside the Vicsek rule, random
    turns and no turns, in the runs' env (from config.json, only the noise changed), on the same seeded
    episodes; the model flags do not apply. Also writes phase_diagram_episodes.csv (every episode and its
    seed); the CSV's CI is a 95% bootstrap interval over the runs' seeds (over the episodes for a baseline
    or a single run), drawn as bands."""


def second_half_orders(model: VicsekModel, steps: int, each_step=None) -> np.ndarray:
    """Run ``steps`` steps; the order parameter after each step of the second half (T//2+1 .. T)."""
    orders = np.empty(steps)
    for t in range(steps):
        model.step()
        orders[t] = model.order_parameter()
        if each_step is not None:
            each_step(t)
    return orders[steps // 2 :]


def noise_values(spec: str) -> np.ndarray:
    """``START:STOP:STEP`` (STOP included when on the grid) or a single value, as an array."""
    try:
        parts = [float(p) for p in spec.split(":")]
    except ValueError:
        raise UserError(f"--noise must be START:STOP:STEP or a number, got '{spec}'") from None
    if len(parts) == 1:
        return np.array(parts)
    if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
        raise UserError(f"--noise must be START:STOP:STEP with STEP > 0 and STOP >= START, got '{spec}'")
    start, stop, step = parts
    count = math.floor((stop - start) / step + 1e-9) + 1
    return start + step * np.arange(count)


def _check_at_least_one(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise UserError(f"{name} must be >= 1, got {value}")


def cmd_simulate(args: list[str]) -> int:
    parsed: SimulateArgs = parse(SimulateArgs, args, "actorcritic swarm simulate")
    _check_at_least_one(steps=parsed.steps, fps=parsed.fps)
    if parsed.animate is not None:
        _check_animation_target(parsed.animate, parsed.model.dim)
    model = parsed.model.model(parsed.noise, parsed.seed)
    if parsed.animate is None:
        orders = second_half_orders(model, parsed.steps)
    else:
        orders = animate(model, parsed.steps, parsed.animate, parsed.fps)
    result = {
        "mean_order": float(orders.mean()),
        "std_order": float(orders.std()),
        "final_order": float(orders[-1]),
        "steps": parsed.steps,
        "n": model.n,
    }
    if parsed.json:
        print(json.dumps(result))
    else:
        print(
            f"Vicsek {model.dim}D, N = {model.n}, L = {model.box_size:.3g}, eta = {model.noise:g}, mode {model.mode}: "
            f"order parameter {result['mean_order']:.4f} ± {result['std_order']:.4f} over steps "
            f"{parsed.steps // 2 + 1}..{parsed.steps}, final {result['final_order']:.4f}"
        )
        if parsed.animate is not None:
            print(f"animation: {parsed.animate}")
    return 0


def _check_animation_target(path: Path, dim: int) -> None:
    if dim != 2:
        raise UserError("--animate draws 2D swarms only; use --dim 2")
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise UserError(f"--animate writes .gif or .mp4, got '{path.name}'")
    if path.suffix.lower() == ".mp4" and shutil.which("ffmpeg") is None:
        raise UserError("--animate .mp4 needs ffmpeg on PATH (e.g. `apt install ffmpeg`); or write a .gif")
    refuse_existing(path)


def animate(model: VicsekModel, steps: int, path: Path, fps: int) -> np.ndarray:
    """Run the model, drawing every step as arrows in the box, into ``path``; returns second_half_orders."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    from matplotlib.animation import FFMpegWriter, PillowWriter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5), dpi=80)
    ax = fig.add_subplot()
    ax.set(xlim=(0, model.box_size), ylim=(0, model.box_size), aspect="equal", xticks=[], yticks=[])
    arrows = ax.quiver(*model.positions.T, *model.headings.T, angles="xy", pivot="middle", color="tab:blue")
    writer = PillowWriter(fps=fps) if path.suffix.lower() == ".gif" else FFMpegWriter(fps=fps)
    # the writers pick the format by the temp file's suffix
    with atomic_path(path, f".tmp{path.suffix}", new=True) as tmp, writer.saving(fig, str(tmp), dpi=80):

        def draw(t: int) -> None:
            arrows.set_offsets(model.positions)
            arrows.set_UVC(*model.headings.T)
            ax.set_title(f"step {t + 1}, order parameter {model.order_parameter():.3f}")
            writer.grab_frame()

        return second_half_orders(model, steps, draw)


# What a phase diagram writes in --output: a directory that holds nothing else is one's
PHASE_PNG, PHASE_CSV, PHASE_EPISODES = "phase_diagram.png", "phase_diagram.csv", "phase_diagram_episodes.csv"
PHASE_FILES = (PHASE_PNG, PHASE_CSV, PHASE_EPISODES)


def cmd_phase_diagram(args: list[str]) -> int:
    parsed: PhaseDiagramArgs = parse(PhaseDiagramArgs, args, "actorcritic swarm phase-diagram")
    # a run or a folder of the user's is refused whole; a phase diagram's own files are refused one by one below
    check_output_dir(parsed.output, "--output", lambda names: names.issubset(PHASE_FILES),
                     f"a phase diagram's directory (it holds files other than {', '.join(PHASE_FILES)})")  # fmt: skip
    if parsed.policy:
        return _policy_phase_diagram(parsed)
    parsed = replace(parsed, steps=500 if parsed.steps is None else parsed.steps)
    _check_at_least_one(steps=parsed.steps, repeats=parsed.repeats)
    noises = noise_values(parsed.noise)
    png, table = parsed.output / PHASE_PNG, parsed.output / PHASE_CSV
    for path in (png, table):
        refuse_existing(path)  # before the long sweep; written without replacing a file after it
    for eta in (noises.min(), noises.max()):
        parsed.model.model(float(eta), parsed.seed)  # invalid settings fail before the long sweep
    results = []
    total = len(noises) * parsed.repeats
    with ProgressBar(total, description="noise sweep", unit="runs", transient=True, disable=not parsed.progress) as bar:
        for eta in noises:
            means = []
            for r in range(parsed.repeats):
                means.append(second_half_orders(parsed.model.model(float(eta), parsed.seed + r), parsed.steps).mean())
                bar.advance()
            results.append((float(eta), float(np.mean(means)), float(np.std(means)), parsed.repeats))
    header = ["noise", "mean_order", "std_order", "repeats"]
    atomic_write(table, lambda f: csv.writer(f).writerows([header, *results]), new=True)
    _plot_phase_diagram(results, parsed.model.model(float(noises[0]), parsed.seed), parsed, png)
    print(f"{png}\n{table}")
    return 0


def _plot_phase_diagram(results: list[tuple], model: VicsekModel, parsed: PhaseDiagramArgs, path: Path) -> None:
    from matplotlib.figure import Figure

    noise, mean, std, _ = zip(*results, strict=True)
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.add_subplot()
    ax.errorbar(noise, mean, yerr=std, marker="o", capsize=3)
    ax.set(xlabel="noise η", ylabel="order parameter $v_a$", ylim=(0, 1.02))
    settings = {k: v for k, v in asdict(parsed.model).items() if k != "preset"}
    settings.update(n=model.n, box_size=round(model.box_size, 3))
    ax.set_title(f"Vicsek phase diagram, {parsed.steps} steps × {parsed.repeats} seeds", fontsize=10)
    fig.text(0.01, 0.01, ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None), fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    with atomic_path(path, new=True) as tmp:
        fig.savefig(tmp, format="png")


# ---------------------------------------------------------------------- trained policies against the rule
def swarm_env(**kwargs: Any) -> SwarmEnv:
    """``Swarm-v0`` with these options; an unknown or invalid option is a UserError."""
    return make_env("Swarm-v0", **kwargs)


def baseline(env: SwarmEnv, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A baseline of ``BASELINES`` as an ``act(obs)``: it reads the swarm's state, not the observation."""
    policy = BASELINES[name]
    return lambda obs: policy(env)


_ENV_DEFAULTS = {name: p.default for name, p in inspect.signature(SwarmEnv).parameters.items()}


@dataclass(frozen=True)
class TrainedRuns:
    """Run directories of one configuration on Swarm-v0, its seeds: their config.json agree in all but the seed."""

    dirs: tuple[Path, ...]
    seeds: tuple[int, ...]
    algo: str
    env_kwargs: dict[str, Any]
    """The env options the runs were trained with (config.json's env_kwargs)."""

    @classmethod
    def read(cls, dirs: Sequence[Path]) -> TrainedRuns:
        """Read and check every config.json (and that a checkpoint exists) before any long work."""
        infos = []
        for d in dirs:
            try:
                info = json.loads((Path(d) / CONFIG).read_text())
            except (OSError, ValueError) as e:
                raise UserError(f"cannot read {Path(d) / CONFIG} (is '{d}' a run directory?): {e}") from None
            if info.get("env") != "Swarm-v0":
                raise UserError(f"'{d}' was trained on {info.get('env')}, not Swarm-v0")
            resolve_checkpoint(d)
            infos.append(info)
        # what the seeds of one configuration share; env options left at their defaults count as given
        shared = [{"algo": i.get("algo"), "env_kwargs": {**_ENV_DEFAULTS, **i.get("env_kwargs", {})},
                   "config": i.get("config")} for i in infos]  # fmt: skip
        for d, info, these in zip(dirs[1:], infos[1:], shared[1:], strict=True):
            for key in (k for k in these if these[k] != shared[0][k]):
                raise UserError(f"--policy takes the seeds of one configuration: '{d}' and '{dirs[0]}' differ in "
                                f"{key} ({_differences(these[key], shared[0][key])})")  # fmt: skip
            if info.get("seed") == infos[0].get("seed"):
                raise UserError(f"'{d}' and '{dirs[0]}' have the same seed {info.get('seed')}: give each seed once")
        return cls(tuple(Path(d) for d in dirs), tuple(i.get("seed") for i in infos), infos[0]["algo"],
                   dict(infos[0].get("env_kwargs", {})))  # fmt: skip


def _differences(a: Any, b: Any) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        return ", ".join(f"{k} {a.get(k)} vs {b.get(k)}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k))
    return f"{a} vs {b}"


def policy_orders(
    runs: TrainedRuns,
    noises: Sequence[float],
    episodes: int,
    seed: int = 0,
    baselines: Sequence[str] = tuple(BASELINES),
    progress: bool = True,
) -> list[dict[str, Any]]:
    """The mean global order parameter over the second half of each episode, for every noise value, of each
    of ``baselines`` and each trained run, in the runs' env with only the noise changed: one record (noise,
    policy, run, run_seed, episode, episode_seed, order) per episode. Episode i of every policy at a noise
    value is reset with the same seed, derived from (``seed``, i), and recorded as ``episode_seed``."""
    records: list[dict[str, Any]] = []
    total = len(noises) * (len(baselines) + len(runs.dirs)) * episodes
    with ProgressBar(total, description="phase diagram", unit="episodes", transient=True, disable=not progress) as bar:

        def measure(policy: str, run: str, run_seed: int | None, make_act: Callable) -> None:
            for eta in noises:
                env = swarm_env(**{**runs.env_kwargs, "noise": float(eta)})
                act = make_act(env)
                for i in range(episodes):  # one at a time, for each episode's own order parameter
                    result = evaluate_multi_agent(env, act, 1, seed, i, ("order_parameter",))
                    records.append({"noise": float(eta), "policy": policy, "run": run, "run_seed": run_seed,
                                    "episode": i, "episode_seed": env.np_random_seed,
                                    "order": result.metrics["order_parameter"]})  # fmt: skip
                    bar.advance()
                env.close()

        for name in baselines:
            measure(name, "", None, lambda env, name=name: baseline(env, name))
        for run_dir, run_seed in zip(runs.dirs, runs.seeds, strict=True):
            agent = load(run_dir)
            measure("trained", str(run_dir), run_seed, lambda env, agent=agent: agent.act)
            agent.close()
            del agent  # its replay buffer (1.4 GB for a 300k-step 3D run) goes now, before the next one loads
    return records


def summarize_orders(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (noise, policy) of ``policy_orders`` records: the mean order parameter and its 95%
    bootstrap CI over the runs' seeds (each run's mean over its episodes), or over the episodes for a
    baseline or a single run (``ci_over``); and its ratio to the Vicsek rule's at that noise, if measured."""
    groups: dict[tuple[float, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["noise"], r["policy"]), []).append(r)
    rows = []
    for (noise, policy), group in groups.items():
        runs = sorted({r["run"] for r in group if r["run"]})
        if len(runs) > 1:
            values, over = [np.mean([r["order"] for r in group if r["run"] == run]) for run in runs], "seeds"
        else:
            values, over = [r["order"] for r in group], "episodes"
        ci = bootstrap_ci(values)
        rows.append({"noise": noise, "policy": policy, "runs": len(runs), "episodes": len(group) // max(len(runs), 1),
                     "mean_order": ci.value, "ci_low": ci.low, "ci_high": ci.high, "ci_over": over})  # fmt: skip
    rule = {row["noise"]: row["mean_order"] for row in rows if row["policy"] == "vicsek"}
    for row in rows:
        row["vicsek_ratio"] = row["mean_order"] / rule[row["noise"]] if row["noise"] in rule else math.nan
    return rows


STYLES = {"vicsek": ("the Vicsek rule", "black", "-"), "random": ("random turns", "tab:gray", "--"),
          "none": ("no turns", "tab:gray", ":")}  # fmt: skip


def plot_orders(ax: Any, rows: Sequence[dict[str, Any]], labels: dict[str, str] | None = None) -> None:
    """Order parameter against noise of each policy in ``summarize_orders`` rows, with its CI as a band."""
    for policy in dict.fromkeys(r["policy"] for r in rows):
        curve = sorted((r for r in rows if r["policy"] == policy), key=lambda r: r["noise"])
        x, mean, low, high = (np.array([r[k] for r in curve]) for k in ("noise", "mean_order", "ci_low", "ci_high"))
        label, color, style = STYLES.get(policy, ((labels or {}).get(policy, policy), None, "-"))
        (line,) = ax.plot(x, mean, style, marker="o", markersize=3, color=color, label=label)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set(xlabel="noise η", ylabel="order parameter $v_a$", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def write_csv(path: Path, rows: Sequence[dict[str, Any]], new: bool = True) -> None:
    atomic_write(path, lambda f: _write_rows(f, rows), new=new)


def _write_rows(f: Any, rows: Sequence[dict[str, Any]]) -> None:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _policy_phase_diagram(parsed: PhaseDiagramArgs) -> int:
    if parsed.model != ModelFlags():
        raise UserError("--policy evaluates in the runs' own env (their config.json): drop the model flags")
    _check_at_least_one(repeats=parsed.repeats, steps=1 if parsed.steps is None else parsed.steps)
    noises = noise_values(parsed.noise)
    out = parsed.output
    png, table, episodes = out / PHASE_PNG, out / PHASE_CSV, out / PHASE_EPISODES
    for path in (png, table, episodes):
        refuse_existing(path)
    runs = TrainedRuns.read(parsed.policy)
    if parsed.steps is not None:
        runs = replace(runs, env_kwargs={**runs.env_kwargs, "episode_steps": parsed.steps})
    for eta in (noises.min(), noises.max()):
        swarm_env(**{**runs.env_kwargs, "noise": float(eta)}).close()  # invalid settings fail before the long sweep
    records = policy_orders(runs, noises.tolist(), parsed.repeats, parsed.seed, progress=parsed.progress)
    rows = summarize_orders(records)
    write_csv(episodes, records)
    write_csv(table, rows)
    _plot_policy_phase_diagram(rows, runs, parsed.repeats, png)
    for row in (r for r in rows if r["policy"] == "trained"):
        print(f"eta {row['noise']:g}: trained {row['mean_order']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}], "
              f"{row['vicsek_ratio']:.3f} of the Vicsek rule's")  # fmt: skip
    print(f"{png}\n{table}\n{episodes}")
    return 0


def _plot_policy_phase_diagram(rows: list[dict], runs: TrainedRuns, episodes: int, path: Path) -> None:
    from matplotlib.figure import Figure

    env = swarm_env(**runs.env_kwargs)
    seeds = f"{len(runs.seeds)} seed{'s' if len(runs.seeds) > 1 else ''}"
    fig = Figure(figsize=(5.5, 4), dpi=100)
    ax = fig.add_subplot()
    plot_orders(ax, rows, {"trained": f"{runs.algo.upper()}, {seeds}"})
    ax.set_title(f"Swarm-v0 {env.dim}D, {env.model.mode} neighbours, N = {env.model.n}: learned vs rule", fontsize=10)
    settings = ", ".join(f"{k}={v}" for k, v in runs.env_kwargs.items() if k != "noise")
    fig.text(0.01, 0.01, f"{episodes} episodes per point, bands: 95% bootstrap CI; {settings}", fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    env.close()
    with atomic_path(path, new=True) as tmp:
        fig.savefig(tmp, format="png")


SUBCOMMANDS = {"simulate": cmd_simulate, "phase-diagram": cmd_phase_diagram}
USAGE = """usage: actorcritic swarm {simulate,phase-diagram,evaluate} ...

  simulate [--preset P | --n N --box-size L] [--noise ETA] [--steps T] [--json] [--animate out.gif]
  phase-diagram --noise START:STOP:STEP --output DIR [--steps T] [--repeats R] [model flags]
  phase-diagram --noise START:STOP:STEP --output DIR --policy RUN_DIR... [--repeats EPISODES]
  evaluate (RUN_DIR | --policy vicsek|random|none) [--preset P] [--noise ETA] [--dim D] [--mode M] [--k K]
           [--env-kwargs key=value,...] [--episodes N] [--json]
  (--help after a subcommand lists every flag)
"""


def run_swarm_cli(args: list[str]) -> int:
    """Run ``actorcritic swarm ARGS``; returns the exit code. User mistakes raise UserError."""
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    command, rest = args[0], list(args[1:])
    if command not in SUBCOMMANDS:
        names = ", ".join([*SUBCOMMANDS, "evaluate"])  # evaluate, which loads agents, is the CLI's own
        raise UserError(f"unknown swarm command '{command}'; choose one of: {names}")
    return SUBCOMMANDS[command](rest)
