"""``actorcritic swarm``: run the Vicsek model alone.

    actorcritic swarm simulate [--preset small|medium|large] [--n N --box-size L] [--noise ETA] [--radius r]
                               [--speed v] [--dim 2|3] [--mode radius|knn|knn_radius] [--k K] [--update new|old]
                               [--steps T] [--seed S] [--json] [--animate out.gif|out.mp4]
    actorcritic swarm phase-diagram --noise START:STOP:STEP [model flags] [--steps T] [--repeats R] --output DIR

Order-parameter statistics are taken over the second half of the run (steps T//2+1 .. T), when the swarm
has (mostly) forgotten its random start.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import tyro

from actorcritic.cli.parsing import parse
from actorcritic.core.files import atomic_path, atomic_write, refuse_existing
from actorcritic.envs.swarm.model import DENSITY, PRESETS, VicsekModel
from actorcritic.errors import UserError
from actorcritic.runtime.progress import ProgressBar


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
    """Directory for phase_diagram.png and phase_diagram.csv (created if missing; files never overwritten)."""
    model: Annotated[ModelFlags, tyro.conf.arg(name="")] = ModelFlags()
    steps: int = 500
    """Steps per run."""
    repeats: int = 3
    """Runs (seeds seed, seed+1, ...) per noise value; the error bars are their std."""
    seed: int = 0
    """First seed."""
    progress: bool = True
    """Show a progress bar."""


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


def cmd_phase_diagram(args: list[str]) -> int:
    parsed: PhaseDiagramArgs = parse(PhaseDiagramArgs, args, "actorcritic swarm phase-diagram")
    _check_at_least_one(steps=parsed.steps, repeats=parsed.repeats)
    noises = noise_values(parsed.noise)
    png, table = parsed.output / "phase_diagram.png", parsed.output / "phase_diagram.csv"
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


SUBCOMMANDS = {"simulate": cmd_simulate, "phase-diagram": cmd_phase_diagram}
USAGE = """usage: actorcritic swarm {simulate,phase-diagram,evaluate} ...

  simulate [--preset P | --n N --box-size L] [--noise ETA] [--steps T] [--json] [--animate out.gif]
  phase-diagram --noise START:STOP:STEP --output DIR [--steps T] [--repeats R] [model flags]
  evaluate (RUN_DIR | --policy vicsek|random|none) [--preset P] [--noise ETA] [--episodes N] [--json]
  (--help after a subcommand lists every flag)
"""


def run_swarm_cli(args: list[str]) -> int:
    """Run ``actorcritic swarm ARGS``; returns the exit code. User mistakes raise UserError."""
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    command, rest = args[0], list(args[1:])
    if command not in SUBCOMMANDS:
        raise UserError(f"unknown swarm command '{command}'; choose one of: {', '.join(SUBCOMMANDS)}")
    return SUBCOMMANDS[command](rest)
