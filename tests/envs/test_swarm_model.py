"""The Vicsek model against exact results: mean-field order parameters, conservation of an aligned state
without noise, the random-heading order parameter, and neighbour sets identical across every search path."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import cKDTree

from actorcritic.envs.swarm.model import (
    DENSITY,
    PRESETS,
    VicsekModel,
    neighbours_brute_force,
    order_parameter,
    perturb,
    random_unit_vectors,
)
from actorcritic.envs.swarm.neighbours import knn_search, minimal_image, move_and_wrap, radius_heading_sums
from actorcritic.errors import UserError


def rows(indptr: np.ndarray, indices: np.ndarray, sort: bool) -> list[list[int]]:
    out = [indices[indptr[i] : indptr[i + 1]].tolist() for i in range(len(indptr) - 1)]
    return [sorted(r) for r in out] if sort else out


def csr_sums(headings: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return np.add.reduceat(headings[indices], indptr[:-1], axis=0)


# (n, box_size, radius): typical, radius close to L/2, tiny boxes with 1 or 2 cells per axis, r > half diagonal
CONFIGS = [(200, 6.0, 1.0), (150, 4.0, 1.95), (60, 3.0, 1.4), (40, 1.0, 0.45), (30, 1.0, 0.3), (25, 2.0, 3.0)]


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("mode", ["radius", "knn", "knn_radius"])
@pytest.mark.parametrize(("n", "box_size", "radius"), CONFIGS)
def test_neighbour_sets_match_brute_force(dim, mode, n, box_size, radius):
    k = 7 if mode != "radius" else None
    model = VicsekModel(n, box_size, radius=radius, dim=dim, mode=mode, k=k, seed=n + dim)
    got = model.neighbours()
    want = neighbours_brute_force(model.positions, box_size, radius, mode, k)
    np.testing.assert_array_equal(got[0], want[0])
    # radius rows are sets; knn rows are ordered: itself, then by distance
    assert rows(*got, sort=mode == "radius") == rows(*want, sort=mode == "radius")
    assert all(r[0] == i for i, r in enumerate(rows(*got, sort=False))) or mode == "radius"
    # the fused sum path, and the order parameters built on it, agree with the neighbour lists
    sums = csr_sums(model.headings, *want)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    np.testing.assert_allclose(model.mean_headings(), sums / norms, atol=1e-12)
    np.testing.assert_allclose(model.local_order_parameters(), norms[:, 0] / np.diff(want[0]), atol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_radius_neighbours_match_ckdtree(dim):
    model = VicsekModel(3000, 12.0, radius=1.0, dim=dim, seed=4)
    pairs = cKDTree(model.positions, boxsize=model.box_size).query_ball_point(model.positions, 1.0)
    assert rows(*model.neighbours(), sort=True) == [sorted(p) for p in pairs]
    sums, counts = radius_heading_sums(model.positions, model.headings, model.box_size, 1.0)
    np.testing.assert_array_equal(counts, [len(p) for p in pairs])
    np.testing.assert_allclose(sums, [model.headings[p].sum(0) for p in pairs], atol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_knn_matches_brute_force_and_ckdtree(dim):
    model = VicsekModel(500, 5.0, dim=dim, seed=3)
    idx, disp = model.knn(6)
    _, indices = neighbours_brute_force(model.positions, model.box_size, 1.0, "knn", 7)
    np.testing.assert_array_equal(idx, indices.reshape(-1, 7)[:, 1:])
    np.testing.assert_array_equal(disp, minimal_image(model.positions[idx] - model.positions[:, None], 5.0))
    dist, tree_idx = cKDTree(model.positions, boxsize=5.0).query(model.positions, 7)
    np.testing.assert_array_equal(idx, tree_idx[:, 1:])
    np.testing.assert_allclose(np.linalg.norm(disp, axis=-1), dist[:, 1:], atol=1e-12)
    # fewer others within the cutoff than asked for: padded with -1
    far_idx, far_dist = knn_search(model.positions, 5.0, 6, cutoff=0.05)
    assert (far_idx == -1).any() and np.all(np.isinf(far_dist[far_idx == -1]))
    with pytest.raises(UserError, match="knn"):
        model.knn(500)


def test_mean_field_2d_stationary_order_is_sinc():
    """Everyone sees everyone (r > half diagonal): the mean heading is shared, so each step's order parameter
    is |mean_i exp(i xi_i)| with xi_i ~ U[-eta/2, eta/2] i.i.d.: mean sin(eta/2)/(eta/2) + O(1/N)."""
    n, steps = 2000, 200
    for eta in (1.0, 3.0):
        model = VicsekModel(n, 10.0, noise=eta, radius=10.0, seed=1)
        orders = []
        for _ in range(steps):
            model.step()
            orders.append(model.order_parameter())
        mean = np.mean(orders[steps // 2 :])
        sinc = math.sin(eta / 2) / (eta / 2)
        var_cos = 0.5 * (1 + math.sin(eta) / eta) - sinc**2  # Var cos(xi)
        mean_sin_sq = 0.5 * (1 - math.sin(eta) / eta)  # E sin^2(xi): the 1/N bias from the transverse part
        tolerance = 5 * math.sqrt(var_cos / n / (steps // 2)) + mean_sin_sq / (n * sinc)
        assert abs(mean - sinc) < tolerance, (eta, mean, sinc, tolerance)


def test_mean_field_3d_stationary_order_is_one_minus_eta():
    """3D cap noise: cos(theta) ~ U[1 - 2 eta, 1], so E cos(theta) = 1 - eta exactly, Var = (2 eta)^2 / 12."""
    n, steps, eta = 2000, 200, 0.3
    model = VicsekModel(n, 5.0, noise=eta, radius=5.0, dim=3, seed=2)
    orders = []
    for _ in range(steps):
        model.step()
        orders.append(model.order_parameter())
    mean = np.mean(orders[steps // 2 :])
    mean_sin_sq = 1 - ((1 - eta) ** 2 + eta**2 / 3)  # E sin^2 = 1 - E cos^2
    tolerance = 5 * math.sqrt((2 * eta) ** 2 / 12 / n / (steps // 2)) + mean_sin_sq / (n * (1 - eta))
    assert abs(mean - (1 - eta)) < tolerance, (mean, tolerance)


def test_mean_field_path_is_the_neighbour_mean():
    model = VicsekModel(300, 4.0, radius=2.0 * math.sqrt(2) + 1e-9, seed=5)  # r just above the half diagonal
    indptr, _ = model.neighbours()
    assert np.all(np.diff(indptr) == 300)
    mean = model.headings.sum(0) / np.linalg.norm(model.headings.sum(0))
    np.testing.assert_allclose(model.mean_headings(), np.broadcast_to(mean, (300, 2)), atol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("mode", ["radius", "knn"])
def test_zero_noise_keeps_an_aligned_swarm_aligned(dim, mode):
    model = VicsekModel(500, 8.0, noise=0.0, dim=dim, mode=mode, k=7, seed=6)
    direction = np.arange(1.0, dim + 1) / np.linalg.norm(np.arange(1.0, dim + 1))
    model.headings = np.tile(direction, (500, 1))
    for _ in range(30):
        model.step()
    assert abs(model.order_parameter() - 1.0) < 1e-12
    np.testing.assert_allclose(model.headings, np.tile(direction, (500, 1)), atol=1e-12)


def test_random_headings_have_order_sqrt_pi_over_4n():
    """|mean of N random unit vectors| is Rayleigh with sigma^2 = 1/(2N): mean sqrt(pi/(4N)),
    std sqrt((2 - pi/2) / (2N))."""
    n, draws = 1000, 2000
    rng = np.random.default_rng(7)
    orders = [order_parameter(random_unit_vectors(rng, n, 2)) for _ in range(draws)]
    expected = math.sqrt(math.pi / (4 * n))
    tolerance = 5 * math.sqrt((2 - math.pi / 2) / (2 * n) / draws) + expected / n
    assert abs(np.mean(orders) - expected) < tolerance
    assert abs(VicsekModel(n, 15.0, seed=8).order_parameter() - expected) < 4 * expected  # a fresh model is disordered


def test_periodic_wrap():
    model = VicsekModel(400, 3.0, speed=0.9, noise=2.0, seed=9)  # fast: crosses the box every few steps
    for _ in range(50):
        model.step()
        assert np.all((model.positions >= 0) & (model.positions < 3.0))
    positions = np.array([[-1e-17, 1.0], [3.0, 2.0], [6.5, -0.5]])
    moved = move_and_wrap(positions, np.zeros_like(positions), 0.5, 3.0)  # wrap only
    np.testing.assert_array_equal(moved, [[0.0, 1.0], [0.0, 2.0], [0.5, 2.5]])
    np.testing.assert_allclose(move_and_wrap(positions, np.array([[1.0, 0], [0, -1], [0, 1]]), 0.5, 3.0),
                               [[0.5, 1.0], [0.0, 1.5], [0.5, 0.0]], atol=1e-15)  # fmt: skip
    assert positions[2, 0] == 6.5  # a new array: the caller's is untouched
    # particles near opposite edges see each other across them, and only them
    model = VicsekModel(3, 5.0, radius=0.2, seed=0)
    model.positions = np.array([[0.05, 2.5], [4.95, 2.5], [2.5, 2.5]])
    model.headings = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    assert rows(*model.neighbours(), sort=True) == [[0, 1], [0, 1], [2]]
    np.testing.assert_allclose(model.mean_headings()[0], [math.sqrt(0.5), math.sqrt(0.5)])
    idx, disp = model.knn(1)
    assert idx[0, 0] == 1 and np.allclose(disp[0, 0], [-0.1, 0.0])


def test_zero_mean_keeps_own_heading():
    model = VicsekModel(2, 5.0, radius=1.0, seed=0)
    model.positions = np.array([[1.0, 1.0], [1.5, 1.0]])
    model.headings = np.array([[1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(model.mean_headings(), model.headings)
    np.testing.assert_array_equal(model.local_order_parameters(), [0.0, 0.0])


def test_seeded_reproducibility():
    def run(seed):
        model = VicsekModel(300, 6.0, noise=1.0, mode="knn_radius", k=5, seed=seed)
        for _ in range(20):
            model.step()
        return model.positions, model.headings

    a, b, c = run(11), run(11), run(12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


@pytest.mark.parametrize("dim", [2, 3])
def test_update_old_moves_with_the_old_heading(dim):
    new = VicsekModel(200, 5.0, speed=0.2, noise=0.8, dim=dim, update="new", seed=13)
    old = VicsekModel(200, 5.0, speed=0.2, noise=0.8, dim=dim, update="old", seed=13)
    x0, h0 = new.positions.copy(), new.headings.copy()
    new.step()
    old.step()
    np.testing.assert_array_equal(new.headings, old.headings)  # same noise draws; only the move differs
    np.testing.assert_allclose(minimal_image(new.positions - x0, 5.0), 0.2 * new.headings, atol=1e-12)
    np.testing.assert_allclose(minimal_image(old.positions - x0, 5.0), 0.2 * h0, atol=1e-12)


def test_advance_applies_noise_to_the_given_headings():
    model = VicsekModel(1000, 10.0, noise=0.4, seed=14)
    given = np.tile([0.0, 2.0], (1000, 1))  # not unit: normalised first
    model.advance(given)
    turn = np.arctan2(model.headings[:, 1], model.headings[:, 0]) - math.pi / 2
    assert np.all(np.abs(turn) <= 0.2 + 1e-12)
    assert stats.kstest(turn, stats.uniform(-0.2, 0.4).cdf).pvalue > 1e-3
    np.testing.assert_allclose(model.angles, np.arctan2(model.headings[:, 1], model.headings[:, 0]))
    with pytest.raises(UserError, match="shape"):
        model.advance(np.ones((3, 2)))


@pytest.mark.parametrize("eta", [0.05, 0.5, 1.0])
def test_3d_noise_is_uniform_on_the_cap(eta):
    rng = np.random.default_rng(15)
    given = random_unit_vectors(rng, 20_000, 3)
    noisy = perturb(given, eta, rng)
    np.testing.assert_allclose(np.linalg.norm(noisy, axis=1), 1.0, atol=1e-12)
    cos = np.sum(noisy * given, axis=1)
    assert np.all(np.arccos(np.clip(cos, -1, 1)) <= math.acos(1 - 2 * eta) + 1e-9)
    assert stats.kstest(cos, stats.uniform(1 - 2 * eta, 2 * eta).cdf).pvalue > 1e-3
    assert abs(cos.mean() - (1 - eta)) < 5 * 2 * eta / math.sqrt(12 * len(cos))  # E cos = 1 - eta exactly
    across = noisy - cos[:, None] * given  # the azimuth is uniform: no preferred side
    assert np.linalg.norm(across.mean(0)) < 5 / math.sqrt(len(cos))


def test_presets_have_density_four():
    for name, size in PRESETS.items():
        assert size["n"] / size["box_size"] ** 2 == pytest.approx(DENSITY)
        model = VicsekModel.preset(name, dim=3, seed=0)
        assert model.n == size["n"] and model.n / model.box_size**3 == pytest.approx(DENSITY)
        assert (model.speed, model.radius) == (0.03, 1.0)
    assert VicsekModel.preset("small", noise=2.0).noise == 2.0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"dim": 4}, "dim"),
        ({"mode": "knn"}, "needs k"),
        ({"mode": "knn", "k": 0}, "k must"),
        ({"mode": "knn_radius", "k": 101}, "k must"),
        ({"noise": -0.1}, "noise"),
        ({"dim": 3, "noise": 1.5}, "3D noise"),
        ({"radius": 0.0}, "radius"),
        ({"mode": "topological"}, "mode"),
        ({"update": "middle"}, "update"),
        ({"n": 0}, "n must"),
        ({"box_size": -1.0}, "box_size"),
    ],
)
def test_invalid_arguments_raise_user_error(kwargs, words):
    with pytest.raises(UserError, match=words):
        VicsekModel(**{"n": 100, "box_size": 5.0, **kwargs})
    with pytest.raises(UserError, match="preset"):
        VicsekModel.preset("huge")
    with pytest.raises(UserError, match="2D"):
        _ = VicsekModel(10, 2.0, dim=3).angles
