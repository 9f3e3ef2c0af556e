"""Neighbour search in a periodic box: cell lists compiled with numba, and a brute-force reference.

Particles are sorted into a grid of cells (a counting sort, O(N)); a particle's neighbours can only lie in
nearby cells, so a search touches O(1) particles per particle instead of N. Distances use the minimal
image: along each axis, ``dx`` is shifted by ``±L`` into ``[-L/2, L/2]``.

- Radius search (``d <= r``): cells of side ``>= r``, so every neighbour lies in the ``3^dim`` cells
  around a particle's own. With fewer than 3 cells along an axis (``r > L/3``) that axis visits each of
  its cells once instead, so no pair is seen twice; with one cell it is a brute-force search.
- k-nearest search: rings of cells around a particle's own, grown until no unvisited cell can hold a
  particle nearer than the current k-th nearest (or, with a cutoff radius, nearer than the cutoff).

Ties in distance are broken by the smaller particle index, in every path here.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
from numba import njit, prange

# numba's thread pool starts now, when the swarm is first imported (its count is NUMBA_NUM_THREADS, which
# ``actorcritic.runtime.threads.set_threads`` sets), rather than at the first search, after torch's pool.
numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

_COUNT, _FILL, _SUM = 0, 1, 2  # what _radius_kernel does with each neighbour it finds


def minimal_image(displacements: np.ndarray, box_size: float) -> np.ndarray:
    """Displacements [..., dim] between points in [0, L) shifted by ±L into [-L/2, L/2]."""
    d = np.asarray(displacements, dtype=np.float64).copy()
    half = 0.5 * box_size
    d[d > half] -= box_size
    d[d < -half] += box_size
    return d


@njit(cache=True, parallel=True)
def move_and_wrap(positions, headings, speed, box_size):
    """New positions + speed * headings folded into [0, L), in one pass (also the rare ``L`` that
    ``x mod L`` gives for a tiny ``x < 0``, which becomes 0)."""
    n, dim = positions.shape
    out = np.empty_like(positions)
    for i in prange(n):
        for d in range(dim):
            x = positions[i, d] + speed * headings[i, d]
            x -= box_size * np.floor(x / box_size)
            out[i, d] = x if x < box_size else 0.0
    return out


def _grid_shape(n: int, dim: int, box_size: float, cell_size: float) -> tuple[int, ...]:
    """Cells per axis: as many as fit with side >= cell_size, at most about 2N cells in all (sparse swarms)."""
    per_axis = max(1, int(box_size / cell_size)) if cell_size > 0 else 1
    cap = max(1, int((2 * n) ** (1.0 / dim)))
    return (min(per_axis, cap),) * dim


@functools.lru_cache(maxsize=16)
def _row_ranges(cells: tuple[int, ...]) -> np.ndarray:
    """[num_cells, R, 2]: ranges [lo, hi) of cell ids that together hold the distinct cells within one cell of
    each cell (periodic), itself included. Cells are numbered row-major, so the cells next to each other
    along the last axis form one range, or two where the row wraps around the box."""
    dim, last = len(cells), cells[-1]
    coords = np.stack(np.meshgrid(*[np.arange(m) for m in cells], indexing="ij"), -1).reshape(-1, dim)
    rows = np.zeros((len(coords), 1), dtype=np.int64)  # the id of each neighbouring row's first cell / last
    for d, m in enumerate(cells[:-1]):
        near = (
            (coords[:, d : d + 1] + np.arange(-1, 2)) % m if m >= 3 else np.broadcast_to(np.arange(m), (len(coords), m))
        )
        rows = (rows[:, :, None] * m + near[:, None, :]).reshape(len(coords), -1)
    rows *= last
    if last < 3:  # the whole row
        return np.stack([rows, rows + last], -1)
    c = coords[:, -1:]
    inside = np.stack([rows + np.maximum(c - 1, 0), rows + np.minimum(c + 2, last)], -1)
    wrapped = np.where(c == 0, last - 1, np.where(c == last - 1, 0, -1))  # the cell across the edge, if any
    across = np.stack([rows + wrapped, rows + wrapped + 1], -1) * (wrapped >= 0)[..., None]  # else empty [0, 0)
    return np.ascontiguousarray(np.concatenate([inside, across], axis=1))


@njit(cache=True)
def _sort_into_cells(positions, box_size, cells):
    """Counting sort of particles into cells: order (sorted slot -> particle), cell_start [num_cells + 1],
    the sorted positions as [dim, N] (one contiguous array per axis) and their cell coordinates [N, dim]."""
    n, dim = positions.shape
    num_cells = 1
    for d in range(dim):
        num_cells *= cells[d]
    coords = np.empty((n, dim), dtype=np.int64)
    cell_of = np.empty(n, dtype=np.int64)
    cell_start = np.zeros(num_cells + 1, dtype=np.int64)
    for i in range(n):
        cid = 0
        for d in range(dim):
            c = min(max(int(positions[i, d] / box_size * cells[d]), 0), cells[d] - 1)
            coords[i, d] = c
            cid = cid * cells[d] + c
        cell_of[i] = cid
        cell_start[cid + 1] += 1
    for c in range(num_cells):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    sorted_pos = np.empty((dim, n), dtype=np.float64)
    sorted_coords = np.empty((n, dim), dtype=np.int64)
    for i in range(n):
        s = fill[cell_of[i]]
        fill[cell_of[i]] += 1
        order[s] = i
        for d in range(dim):
            sorted_pos[d, s] = positions[i, d]
            sorted_coords[s, d] = coords[i, d]
    return order, cell_start, sorted_pos, sorted_coords


class CellGrid:
    """One configuration's particles sorted into a periodic grid of cells of side >= ``cell_size``."""

    def __init__(self, positions: np.ndarray, box_size: float, cell_size: float):
        n, dim = positions.shape
        self.box_size = float(box_size)
        self.cells = np.array(_grid_shape(n, dim, self.box_size, cell_size), dtype=np.int64)
        self.order, self.cell_start, self.pos, self.coords = _sort_into_cells(
            np.ascontiguousarray(positions, dtype=np.float64), self.box_size, self.cells
        )
        self.rows = _row_ranges(tuple(int(m) for m in self.cells))


@njit(inline="always")
def _dist_sq(pos, s, t, half, box_size):
    """Squared minimal-image distance between sorted particles s and t (pos: [dim, N])."""
    dist_sq = 0.0
    for d in range(pos.shape[0]):
        dx = pos[d, t] - pos[d, s]
        dx = dx - box_size if dx > half else dx
        dx = dx + box_size if dx < -half else dx
        dist_sq += dx * dx
    return dist_sq


@njit(cache=True, parallel=True)
def _radius_kernel(pos, cell_start, rows, box_size, radius_sq, task, order, headings, row_start, out_indices,
                   out_sums, out_counts):  # fmt: skip
    """For each particle: count (task _COUNT), list (_FILL, from ``row_start``) or sum the headings of (_SUM;
    headings sorted, [dim, N]) the particles within the radius. Rows of the outputs are original indices."""
    dim = pos.shape[0]
    half = 0.5 * box_size
    for c in prange(rows.shape[0]):
        for s in range(cell_start[c], cell_start[c + 1]):
            ptr = row_start[s] if task == _FILL else 0
            count = 0.0
            acc0, acc1, acc2 = 0.0, 0.0, 0.0
            for q in range(rows.shape[1]):
                for t in range(cell_start[rows[c, q, 0]], cell_start[rows[c, q, 1]]):
                    near = _dist_sq(pos, s, t, half, box_size) <= radius_sq
                    if task == _SUM:  # branch-free: the test is true for about a third of the candidates
                        w = 1.0 if near else 0.0
                        count += w
                        acc0 += w * headings[0, t]
                        acc1 += w * headings[1, t]
                        acc2 += w * headings[dim - 1, t]
                    elif near:
                        count += 1.0
                        if task == _FILL:
                            out_indices[ptr] = order[t]
                            ptr += 1
            i = order[s]
            out_counts[i] = int(count)
            if task == _SUM:
                out_sums[i, 0] = acc0
                out_sums[i, 1] = acc1
                if dim == 3:
                    out_sums[i, 2] = acc2


def _radius_run(grid: CellGrid, radius: float, task: int, headings: np.ndarray, row_start: np.ndarray,
                out_indices: np.ndarray, out_sums: np.ndarray, out_counts: np.ndarray) -> None:  # fmt: skip
    _radius_kernel(grid.pos, grid.cell_start, grid.rows, grid.box_size, float(radius) ** 2, task, grid.order,
                   headings, row_start, out_indices, out_sums, out_counts)  # fmt: skip


def radius_neighbours(positions: np.ndarray, box_size: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr [N+1], indices) of every particle's neighbours within ``radius`` (itself included),
    each row in cell order (not sorted)."""
    n, dim = positions.shape
    grid = CellGrid(positions, box_size, radius)
    counts, unused = np.empty(n, dtype=np.int64), np.empty((dim, 0))
    _radius_run(grid, radius, _COUNT, unused, counts, counts, unused, counts)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    _radius_run(grid, radius, _FILL, unused, indptr[:-1][grid.order], indices, unused, counts)
    return indptr, indices


def radius_heading_sums(positions: np.ndarray, headings: np.ndarray, box_size: float,
                        radius: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Sum of the headings [N, dim] and count [N] of each particle's neighbours within ``radius`` (itself
    included), without building the neighbour lists."""
    n, dim = positions.shape
    grid = CellGrid(positions, box_size, radius)
    sums, counts = np.empty((n, dim)), np.empty(n, dtype=np.int64)
    sorted_headings = np.ascontiguousarray(np.asarray(headings, dtype=np.float64)[grid.order].T)
    _radius_run(grid, radius, _SUM, sorted_headings, counts, counts, sums, counts)
    return sums, counts


@njit(inline="always")
def _offer(pos, s, lo, hi, half, box_size, cutoff_sq, order, k, found, idx, dist, repeats):
    """Offer the sorted particles lo..hi-1 as neighbours of s to its sorted top-k row (idx, dist); returns
    how many the row holds now. Ties go to the smaller index. With ``repeats`` (a ring of cells that wraps
    onto cells already visited, on a small periodic grid), a particle already in the row is skipped."""
    for t in range(lo, hi):
        if t == s:
            continue
        dist_sq = _dist_sq(pos, s, t, half, box_size)
        if dist_sq > cutoff_sq:
            continue
        j = order[t]
        if found == k and (dist_sq > dist[k - 1] or (dist_sq == dist[k - 1] and j >= idx[k - 1])):
            continue
        if repeats:
            seen = False
            for q in range(found):
                seen = seen or idx[q] == j
            if seen:
                continue
        p = found if found < k else k - 1
        found = min(found + 1, k)
        while p > 0 and (dist[p - 1] > dist_sq or (dist[p - 1] == dist_sq and idx[p - 1] > j)):
            dist[p] = dist[p - 1]
            idx[p] = idx[p - 1]
            p -= 1
        dist[p] = dist_sq
        idx[p] = j
    return found


@njit(cache=True, parallel=True)
def _knn_kernel(pos, coords, cells, cell_start, rows, box_size, k, cutoff_sq, order, out_idx, out_dist_sq):
    """The k nearest other particles of each particle, at most sqrt(cutoff_sq) away, into rows ``order[s]`` of
    out_idx / out_dist_sq: by distance, then index; -1 / inf where fewer. Searches the cells within one cell
    first, then rings of cells further out until no unvisited cell can hold a nearer particle."""
    dim = pos.shape[0]
    half = 0.5 * box_size
    for c in prange(rows.shape[0]):
        for s in range(cell_start[c], cell_start[c + 1]):
            i = order[s]
            idx, dist = out_idx[i], out_dist_sq[i]
            found = 0
            for q in range(rows.shape[1]):
                lo, hi = cell_start[rows[c, q, 0]], cell_start[rows[c, q, 1]]
                found = _offer(pos, s, lo, hi, half, box_size, cutoff_sq, order, k, found, idx, dist, False)
            ring = 1
            while True:
                # Everything nearer than `bound` lies in the block of cells visited so far.
                bound, side = np.inf, 2 * ring + 1
                for d in range(dim):
                    if side < cells[d]:
                        width = box_size / cells[d]
                        x = pos[d, s]
                        bound = min(bound, x - (coords[s, d] - ring) * width, (coords[s, d] + ring + 1) * width - x)
                if bound == np.inf:
                    break  # every cell visited
                bound = max(bound - 1e-12 * box_size, 0.0)  # safe against rounding in the cell coordinates
                if bound * bound > (dist[k - 1] if found == k else cutoff_sq):
                    break
                ring += 1
                side = 2 * ring + 1
                repeats = False
                for d in range(dim):
                    repeats = repeats or side > cells[d]
                for f in range(side**dim):  # the cells on the surface of the block [-ring, ring]^dim
                    rem, on_surface, cid = f, False, 0
                    for d in range(dim):
                        o = rem % side - ring
                        rem //= side
                        on_surface = on_surface or o == ring or o == -ring
                        cid = cid * cells[d] + (coords[s, d] + o) % cells[d]
                    if on_surface:
                        lo, hi = cell_start[cid], cell_start[cid + 1]
                        found = _offer(pos, s, lo, hi, half, box_size, cutoff_sq, order, k, found, idx, dist, repeats)
            for q in range(found, k):
                idx[q] = -1
                dist[q] = np.inf


KNN_CELL_FACTOR = 0.7
"""Knn cells are this times (k / density)^(1/dim) wide: the search then mostly ends within one cell."""


def knn_search(positions: np.ndarray, box_size: float, k: int,
               cutoff: float = math.inf) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Indices [N, k] of each particle's k nearest OTHER particles within ``cutoff`` (sorted by distance,
    then index; -1 where there are fewer) and their squared distances [N, k] (inf where -1)."""
    n, dim = positions.shape
    if k <= 0:
        return np.empty((n, 0), dtype=np.int64), np.empty((n, 0))
    cell_size = KNN_CELL_FACTOR * (k * box_size**dim / n) ** (1.0 / dim)
    grid = CellGrid(positions, box_size, min(cell_size, cutoff))
    idx, dist_sq = np.empty((n, k), dtype=np.int64), np.empty((n, k))
    cutoff_sq = cutoff * cutoff if math.isfinite(cutoff) else np.inf
    _knn_kernel(grid.pos, grid.coords, grid.cells, grid.cell_start, grid.rows, grid.box_size, k, cutoff_sq,
                grid.order, idx, dist_sq)  # fmt: skip
    return idx, dist_sq


@njit(cache=True, parallel=True)
def _padded_sums(headings, idx, sums, counts):
    n, dim = headings.shape
    for i in prange(n):
        count = 1
        for d in range(dim):
            sums[i, d] = headings[i, d]
        for q in range(idx.shape[1]):
            j = idx[i, q]
            if j >= 0:
                count += 1
                for d in range(dim):
                    sums[i, d] += headings[j, d]
        counts[i] = count


def padded_heading_sums(headings: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum [N, dim] and number [N] of the headings of each particle and its neighbours idx [N, k] (-1: none)."""
    sums, counts = np.empty(headings.shape), np.empty(len(headings), dtype=np.int64)
    _padded_sums(np.ascontiguousarray(headings, dtype=np.float64), idx, sums, counts)
    return sums, counts


def padded_to_csr(idx: np.ndarray, with_self: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of index rows padded with -1, each row led by the particle itself if asked."""
    n = idx.shape[0]
    if with_self:
        idx = np.concatenate([np.arange(n, dtype=np.int64)[:, None], idx], axis=1)
    valid = idx >= 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=indptr[1:])
    return indptr, idx[valid]


def neighbours_brute_force(positions: np.ndarray, box_size: float, radius: float, mode: str = "radius",
                           k: int | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The O(N^2) reference: CSR (indptr, indices) of each particle's neighbour set, itself included.

    mode "radius": all within ``radius`` (rows sorted by index); "knn": itself and its k-1 nearest others;
    "knn_radius": itself and its k-1 nearest others within ``radius`` (knn rows: itself, then by distance).
    """
    positions = np.asarray(positions, dtype=np.float64)
    n = positions.shape[0]
    disp = minimal_image(positions[None, :, :] - positions[:, None, :], box_size)
    dist_sq = np.zeros((n, n))
    for d in range(positions.shape[1]):  # summed axis by axis, in the order the compiled kernels use
        dist_sq += disp[..., d] * disp[..., d]
    within = dist_sq <= radius * radius
    if mode == "radius":
        np.fill_diagonal(within, True)
        return padded_to_csr(np.where(within, np.arange(n), -1), with_self=False)
    if k is None:
        raise ValueError(f"mode {mode!r} needs k")
    np.fill_diagonal(dist_sq, -1.0)  # itself first
    ranked = np.argsort(dist_sq, axis=1, kind="stable")[:, : min(k, n)]  # stable: ties by index
    if mode == "knn_radius":
        ranked = np.where(np.take_along_axis(within | np.eye(n, dtype=bool), ranked, axis=1), ranked, -1)
    return padded_to_csr(ranked, with_self=False)
