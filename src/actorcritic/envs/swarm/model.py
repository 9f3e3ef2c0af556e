"""The Vicsek model of self-driven particles (Vicsek et al., PRL 75, 1226 (1995)).

N particles move at constant speed v in a periodic box of side L (2D or 3D). At each step every
particle takes the mean heading of its neighbours (itself included), perturbed by noise, then moves:

    theta_i(t+1) = <theta(t)>_r + noise                  (eq. 2)
    x_i(t+1)     = x_i(t) + v_i(t) dt,  dt = 1           (eq. 1)

Eq. 1 read literally moves a particle with its *old* velocity (``update="old"``); most later work, and
the default here (``update="new"``), moves it with the new one. Headings are unit vectors in 2D too.

Neighbours (``mode``): ``"radius"`` everyone within distance r (Vicsek's rule); ``"knn"`` the k nearest
(topological, as in starling flocks); ``"knn_radius"`` the k nearest that are also within r. The particle
itself always counts, and k counts it: ``k=7`` means itself and its 6 nearest others.

Noise (``noise`` = eta):
- 2D: the heading is rotated by an angle uniform in [-eta/2, eta/2] (Vicsek's eta; eta = 2 pi is fully
  random).
- 3D: the new heading is uniform on the spherical cap of solid angle 4 pi eta around the given one
  (eta in [0, 1]; eta = 1 is uniform on the sphere): cos(theta) uniform in [1 - 2 eta, 1], the azimuth
  uniform. Hence E[cos theta] = 1 - eta.

Order parameter: v_a = |sum_i v_i| / (N v), 1 for a perfectly aligned swarm, about sqrt(pi / (4N)) for
random 2D headings. In the mean-field limit (everyone sees everyone) its stationary value is
sin(eta/2) / (eta/2) in 2D and 1 - eta in 3D, up to O(1/sqrt(N)) fluctuations.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from actorcritic.envs.swarm.neighbours import (
    knn_search,
    minimal_image,
    move_and_wrap,
    neighbours_brute_force,
    padded_heading_sums,
    padded_to_csr,
    radius_heading_sums,
    radius_neighbours,
)
from actorcritic.errors import UserError

__all__ = ["DENSITY", "MODES", "PRESETS", "UPDATES", "VicsekModel", "neighbours_brute_force", "order_parameter"]

MODES = ("radius", "knn", "knn_radius")
UPDATES = ("new", "old")
DENSITY = 4.0
"""Particles per unit area (2D) or volume (3D) of the presets: Vicsek's Fig. 1(d) regime."""
PRESETS: dict[str, dict[str, Any]] = {
    name: {"n": n, "box_size": math.sqrt(n / DENSITY)}
    for name, n in (("small", 100), ("medium", 1_000), ("large", 10_000))
}
"""Preset sizes at density 4 with r = 1, v = 0.03: ``n`` and the 2D ``box_size`` (3D: L = (n / 4)^(1/3))."""


def order_parameter(headings: np.ndarray) -> float:
    """|sum_i v_i| / (N v): the norm of the mean of unit headings [N, dim]."""
    return float(np.linalg.norm(np.asarray(headings).mean(axis=0)))


def random_unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """[n, dim] unit vectors uniform on the circle (2D) or the sphere (3D)."""
    if dim == 2:
        angle = rng.uniform(-math.pi, math.pi, n)
        return np.stack([np.cos(angle), np.sin(angle)], axis=1)
    v = rng.standard_normal((n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def tangent_frame(headings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors [N, 3] orthogonal to each unit heading [N, 3] and to each other."""
    helper = np.zeros_like(headings)
    helper[np.arange(len(headings)), np.argmin(np.abs(headings), axis=1)] = 1.0  # the axis least aligned
    e1 = np.cross(headings, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(headings, e1)


def perturb(headings: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Unit headings [N, dim] with the model's noise applied (see the module docstring)."""
    n, dim = headings.shape
    if dim == 2:
        angle = rng.uniform(-0.5 * noise, 0.5 * noise, n)
        cos, sin = np.cos(angle), np.sin(angle)
        x, y = headings[:, 0], headings[:, 1]
        return np.stack([cos * x - sin * y, sin * x + cos * y], axis=1)
    cos_theta = 1.0 - 2.0 * noise * rng.uniform(0.0, 1.0, n)  # uniform in (1 - 2 eta, 1]
    sin_theta = np.sqrt(np.maximum(0.0, 1.0 - cos_theta**2))
    azimuth = rng.uniform(0.0, 2.0 * math.pi, n)
    e1, e2 = tangent_frame(headings)
    across = np.cos(azimuth)[:, None] * e1 + np.sin(azimuth)[:, None] * e2
    return cos_theta[:, None] * headings + sin_theta[:, None] * across


class VicsekModel:
    """N self-driven particles in a periodic box; see the module docstring for the rules.

    ``positions`` [N, dim] in [0, L) and ``headings`` [N, dim] (unit vectors) are plain arrays that may be
    read and replaced; every query works on their current values.
    """

    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS

    def __init__(
        self,
        n: int,
        box_size: float,
        speed: float = 0.03,
        noise: float = 0.5,
        radius: float = 1.0,
        dim: int = 2,
        mode: str = "radius",
        k: int | None = None,
        seed: int | None = None,
        update: str = "new",
    ):
        """``k`` is needed by the knn modes (their neighbour-set size, the particle itself included) and
        ignored in radius mode; ``radius`` is ignored in knn mode."""
        _check(isinstance(n, int | np.integer) and n >= 1, f"n must be an integer >= 1, got {n!r}")
        _check(dim in (2, 3), f"dim must be 2 or 3, got {dim!r}")
        _check(math.isfinite(box_size) and box_size > 0, f"box_size must be > 0, got {box_size!r}")
        _check(math.isfinite(speed) and speed >= 0, f"speed must be >= 0, got {speed!r}")
        _check(math.isfinite(radius) and radius > 0, f"radius must be > 0, got {radius!r}")
        _check(math.isfinite(noise) and noise >= 0, f"noise must be >= 0, got {noise!r}")
        _check(dim == 2 or noise <= 1, f"3D noise is the cap's share of the sphere, in [0, 1]; got {noise!r}")
        _check(mode in MODES, f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        _check(update in UPDATES, f"unknown update {update!r}; choose one of {', '.join(UPDATES)}")
        if mode != "radius":
            _check(k is not None, f"mode {mode!r} needs k (the neighbour-set size, itself included)")
        if k is not None:
            _check(isinstance(k, int | np.integer) and 1 <= k <= n, f"k must be an integer in [1, n={n}], got {k!r}")
        self.n, self.dim, self.mode, self.update = int(n), int(dim), mode, update
        self.box_size, self.speed, self.noise, self.radius = float(box_size), float(speed), float(noise), float(radius)
        self.k = None if k is None else int(k)
        self.rng = np.random.default_rng(seed)
        self.positions = self.rng.uniform(0.0, self.box_size, (self.n, self.dim))
        self.headings = random_unit_vectors(self.rng, self.n, self.dim)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> VicsekModel:
        """A preset size (``small`` N=100, ``medium`` N=1000, ``large`` N=10000) at density 4, r = 1,
        v = 0.03; any constructor argument may be overridden. With ``dim=3`` the box is (N / 4)^(1/3)."""
        if name not in PRESETS:
            raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        n = int(overrides.pop("n", PRESETS[name]["n"]))
        dim = int(overrides.pop("dim", 2))
        box_size = overrides.pop("box_size", (n / DENSITY) ** (1.0 / dim))
        return cls(n=n, box_size=box_size, dim=dim, **{"speed": 0.03, "radius": 1.0, **overrides})

    @property
    def angles(self) -> np.ndarray:
        """Heading angles [N] in (-pi, pi] (2D only)."""
        if self.dim != 2:
            raise UserError("angles are defined in 2D only; use headings in 3D")
        return np.arctan2(self.headings[:, 1], self.headings[:, 0])

    @property
    def _sees_everyone(self) -> bool:
        """Radius mode with r >= the half diagonal: every particle sees every other (the mean-field path)."""
        return self.mode == "radius" and self.radius**2 >= self.dim * (0.5 * self.box_size) ** 2

    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR (indptr [N+1], indices) of each particle's neighbour set, itself included.

        Radius mode: rows in no particular order. Knn modes: itself first, then by distance.
        """
        if self.mode == "radius":
            return radius_neighbours(self.positions, self.box_size, self.radius)
        return padded_to_csr(self._knn_others()[0])

    def _knn_others(self) -> tuple[np.ndarray, np.ndarray]:
        """The k-1 nearest others of the knn modes (within r for knn_radius), -1 where fewer."""
        cutoff = self.radius if self.mode == "knn_radius" else math.inf
        return knn_search(self.positions, self.box_size, self.k - 1, cutoff)

    def knn(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices [N, k] of each particle's k nearest OTHER particles (itself excluded), by distance, and the
        minimal-image displacements [N, k, dim] from the particle to them."""
        if not 0 <= k < self.n:
            raise UserError(f"knn needs 0 <= k < n = {self.n}, got {k}")
        idx, _ = knn_search(self.positions, self.box_size, k)
        return idx, minimal_image(self.positions[idx] - self.positions[:, None, :], self.box_size)

    def heading_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Sum [N, dim] and number [N] of the headings in each particle's neighbour set (itself included)."""
        if self._sees_everyone:
            return np.broadcast_to(self.headings.sum(axis=0), self.headings.shape), np.full(self.n, self.n)
        if self.mode == "radius":
            return radius_heading_sums(self.positions, self.headings, self.box_size, self.radius)
        return padded_heading_sums(self.headings, self._knn_others()[0])

    def mean_headings(self) -> np.ndarray:
        """Unit mean heading [N, dim] of each particle's neighbour set; its own heading where the sum is zero."""
        sums, _ = self.heading_sums()
        norm = np.sqrt(np.einsum("nd,nd->n", sums, sums))[:, None]  # faster than linalg.norm at large N
        zero = norm[:, 0] == 0.0
        mean = sums / np.where(zero[:, None], 1.0, norm)
        if zero.any():
            mean[zero] = self.headings[zero]
        return mean

    def advance(self, headings: np.ndarray) -> None:
        """Apply the noise to the given headings [N, dim] (normalised first), make them the new headings and
        move every particle by v times its new (``update="new"``) or old (``"old"``) heading, wrapping."""
        headings = np.asarray(headings, dtype=np.float64)
        if headings.shape != (self.n, self.dim):
            raise UserError(f"headings must have shape ({self.n}, {self.dim}), got {headings.shape}")
        norm = np.linalg.norm(headings, axis=1, keepdims=True)
        if not np.all(norm > 0) or not np.all(np.isfinite(norm)):
            raise UserError("headings must be finite, non-zero vectors")
        self._advance_unit(headings / norm)

    def _advance_unit(self, headings: np.ndarray) -> None:
        new = perturb(headings, self.noise, self.rng) if self.noise > 0 else headings.copy()
        moved_with = self.headings if self.update == "old" else new
        self.positions = move_and_wrap(self.positions, moved_with, self.speed, self.box_size)
        self.headings = new

    def step(self) -> None:
        """One Vicsek step: every particle takes its neighbours' mean heading, plus noise, then moves."""
        self._advance_unit(self.mean_headings())

    def order_parameter(self) -> float:
        """|sum_i v_i| / (N v), in [0, 1]."""
        return order_parameter(self.headings)

    def local_order_parameters(self) -> np.ndarray:
        """[N]: the norm of the mean heading over each particle's neighbour set."""
        sums, counts = self.heading_sums()
        return np.sqrt(np.einsum("nd,nd->n", sums, sums)) / counts


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)
