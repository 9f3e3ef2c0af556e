"""Vicsek model steps per second: our cell lists (numba) against a straightforward scipy cKDTree step.

    python bench/swarm_speed.py [--n 100000] [--repeats 7] [--steps 3]

Both sides run the same model step (the same noise and move, ``VicsekModel.advance``); only the neighbour
search and mean heading differ. The baseline builds ``cKDTree(positions, boxsize=L)`` every step and uses
``query_ball_point`` (radius modes) or ``query`` (knn modes), with all cores (``workers=-1``). Before timing,
one step from the same state is checked to give the same mean headings on both sides. Reports medians of
``repeats`` timings of ``steps`` steps each, in particle-updates per second, and the ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.spatial import cKDTree

from actorcritic.envs.swarm.model import DENSITY, VicsekModel


def ckdtree_mean_headings(model: VicsekModel) -> np.ndarray:
    """The straightforward way: a periodic k-d tree per step, neighbour lists, their mean heading."""
    tree = cKDTree(model.positions, boxsize=model.box_size)
    if model.mode == "radius":
        lists = tree.query_ball_point(model.positions, model.radius, workers=-1)
        sums = np.array([model.headings[neighbours].sum(axis=0) for neighbours in lists])
    else:
        bound = model.radius * (1 + 1e-12) if model.mode == "knn_radius" else np.inf
        _, idx = tree.query(model.positions, model.k, distance_upper_bound=bound, workers=-1)
        padded = np.concatenate([model.headings, np.zeros((1, model.dim))])  # index n: missing neighbour
        sums = padded[idx].sum(axis=1)
    return sums / np.linalg.norm(sums, axis=1, keepdims=True)


def baseline_step(model: VicsekModel) -> None:
    model.advance(ckdtree_mean_headings(model))


def updates_per_second(runs: list[tuple], steps: int, repeats: int) -> list[float]:
    """Median particle-updates per second of each (step, model), timed in turn so load noise hits all alike."""
    for step, model in runs:
        step(model)  # warm up (and compile)
    times = np.empty((repeats, len(runs)))
    for r in range(repeats):
        for i, (step, model) in enumerate(runs):
            start = time.perf_counter()
            for _ in range(steps):
                step(model)
            times[r, i] = time.perf_counter() - start
    return [model.n * steps / t for (_, model), t in zip(runs, np.median(times, axis=0), strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="particles (density 4, r = 1, v = 0.03)")
    parser.add_argument("--repeats", type=int, default=7, help="timings per case; the median is reported")
    parser.add_argument("--steps", type=int, default=3, help="steps per timing")
    parser.add_argument("--k", type=int, default=7, help="neighbour-set size of the knn modes")
    args = parser.parse_args()

    cases = [("2D radius", 2, "radius"), ("2D knn", 2, "knn"), ("2D knn_radius", 2, "knn_radius"), ("3D radius", 3, "radius")]  # fmt: skip
    print(
        f"N = {args.n}, density {DENSITY:g}, r = 1; particle-updates per second (median of {args.repeats} x {args.steps} steps)"
    )
    print(f"{'case':<16}{'ours':>14}{'cKDTree':>14}{'ratio':>9}")
    for name, dim, mode in cases:
        box_size = (args.n / DENSITY) ** (1.0 / dim)

        def model(dim=dim, mode=mode, box_size=box_size) -> VicsekModel:
            return VicsekModel(args.n, box_size, noise=0.5, dim=dim, mode=mode, k=args.k, seed=0)

        check = model()
        np.testing.assert_allclose(check.mean_headings(), ckdtree_mean_headings(check), atol=1e-9)
        ours, theirs = updates_per_second(
            [(VicsekModel.step, model()), (baseline_step, model())], args.steps, args.repeats
        )
        print(f"{name:<16}{ours:>14,.0f}{theirs:>14,.0f}{ours / theirs:>8.1f}x", flush=True)


if __name__ == "__main__":
    main()
