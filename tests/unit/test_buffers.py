"""ReplayBuffer (core/buffers.py) and nstep_window (core/returns.py).

Every n-step check compares against a pure-Python brute force over a chronological history of
transitions, independent of the buffer's circular [rows, num_envs] indexing.
"""

from __future__ import annotations

import collections
import io
import math
import random

import numpy as np
import pytest
import torch

from actorcritic.core.buffers import Batch, ReplayBuffer
from actorcritic.core.returns import nstep_window

OBS_DIM, ACT_DIM = 3, 2


def one(batch: Batch) -> Batch:
    """The first (only) member's part of a batch: fields without the members axis."""
    return Batch(*(t[0] for t in batch))


class History:
    """Chronological record of everything added to a buffer, as plain Python values."""

    def __init__(self, num_envs: int):
        self.num_envs = num_envs
        self.steps: list[dict] = []

    def __len__(self) -> int:
        return len(self.steps)

    def record(self, obs, actions, rewards, next_obs, terminated, truncated) -> None:
        self.steps.append(
            {
                "obs": [list(map(float, o)) for o in obs],
                "actions": [list(map(float, a)) for a in actions],
                "rewards": [float(r) for r in rewards],
                "next_obs": [list(map(float, o)) for o in next_obs],
                "terminated": [bool(t) for t in terminated],
                "truncated": [bool(t) for t in truncated],
            }
        )

    def mark_episode_end(self, mask) -> None:
        """Documented semantics: the newest transition of each masked env ends its episode."""
        if self.steps:
            last = self.steps[-1]
            last["truncated"] = [t or bool(m) for t, m in zip(last["truncated"], mask, strict=True)]

    def step_of_flat(self, flat: int, rows: int) -> tuple[int, int]:
        """(chronological step, env) of a flat buffer index, from FIFO semantics alone."""
        row, env = divmod(flat, self.num_envs)
        total = len(self.steps)
        if total >= rows:  # the buffer holds the newest `rows` steps; the oldest sits at total % rows
            return total - rows + (row - total % rows) % rows, env
        return row, env

    def nstep(self, step: int, env: int, n: int, gamma: float) -> dict:
        """Brute force n-step target starting at (step, env)."""
        ret, length = 0.0, 0
        for k in range(n):
            j = step + k
            if j >= len(self.steps):  # never past the newest written row
                break
            s = self.steps[j]
            ret += gamma**k * s["rewards"][env]
            length = k + 1
            if s["terminated"][env] or s["truncated"][env]:  # the window stops after an episode end
                break
        last = self.steps[step + length - 1]
        terminated = last["terminated"][env]
        return {
            "obs": self.steps[step]["obs"][env],
            "actions": self.steps[step]["actions"][env],
            "rewards": ret,
            "next_obs": last["next_obs"][env],
            "terminated": terminated,
            "discounts": gamma**length * (0.0 if terminated else 1.0),
        }


def random_step(rng: np.random.Generator, num_envs: int, p_term: float, p_trunc: float, uid: int):
    """One vector step of random data; obs[:, 0] is a unique id so a sample can be traced back."""
    obs = rng.normal(size=(num_envs, OBS_DIM))
    obs[:, 0] = uid * num_envs + np.arange(num_envs)
    return (
        obs,
        rng.uniform(-1, 1, size=(num_envs, ACT_DIM)),
        rng.normal(size=num_envs),
        rng.normal(size=(num_envs, OBS_DIM)),
        rng.random(num_envs) < p_term,
        rng.random(num_envs) < p_trunc,
    )


def fill(buffer: ReplayBuffer, history: History, steps: int, rng, p_term=0.15, p_trunc=0.15):
    for _ in range(steps):
        data = random_step(rng, buffer.num_envs, p_term, p_trunc, len(history))
        buffer.add(*data)
        history.record(*data)


def assert_matches(batch, expected: list[dict], gamma_tol: float = 1e-5) -> None:
    for field in ("obs", "actions", "next_obs"):
        want = torch.tensor([e[field] for e in expected], dtype=torch.float32)
        torch.testing.assert_close(getattr(batch, field), want, rtol=1e-5, atol=1e-5)
    rewards = torch.tensor([e["rewards"] for e in expected], dtype=torch.float32)
    torch.testing.assert_close(batch.rewards, rewards, rtol=gamma_tol, atol=gamma_tol)
    discounts = torch.tensor([e["discounts"] for e in expected], dtype=torch.float32)
    torch.testing.assert_close(batch.discounts, discounts, rtol=1e-5, atol=1e-6)
    terminated = torch.tensor([e["terminated"] for e in expected])
    assert torch.equal(batch.terminated.cpu(), terminated)


def assert_batches_equal(a, b) -> None:
    for field in a._fields:
        assert torch.equal(getattr(a, field), getattr(b, field)), field


# --------------------------------------------------------------------------- storage, FIFO, len


@pytest.mark.parametrize(("capacity", "num_envs"), [(7, 3), (9, 3), (5, 1), (1, 4), (10, 4)])
def test_capacity_is_smallest_multiple_of_num_envs_not_below_request(capacity, num_envs):
    buf = ReplayBuffer(capacity, OBS_DIM, ACT_DIM, num_envs=num_envs)
    rows = -(-capacity // num_envs)
    assert buf.capacity == rows * num_envs
    assert buf.capacity >= capacity > buf.capacity - num_envs
    assert len(buf) == 0


def test_circular_fifo_overwrite_order_with_several_envs():
    num_envs, capacity = 3, 12  # 4 rows
    rows = capacity // num_envs
    buf = ReplayBuffer(capacity, 1, 1, num_envs=num_envs)
    window: collections.deque[int] = collections.deque(maxlen=rows)  # the newest `rows` step ids
    for step in range(11):
        ids = np.array([[step * 10 + e] for e in range(num_envs)], dtype=np.float32)
        buf.add(ids, -ids, np.full(num_envs, step), ids + 0.5, [False] * 3, [False] * 3)
        window.append(step)
        assert len(buf) == min(step + 1, rows) * num_envs
        assert len(buf) <= buf.capacity
        # Read the rows oldest-first: after a wrap the oldest row is the next one to be written.
        oldest = (step + 1) % rows if step + 1 >= rows else 0
        order = [(oldest + i) % rows for i in range(len(window))]
        stored_steps = [int(buf.rewards[r, 0]) for r in order]
        assert stored_steps == list(window)
        for r, s in zip(order, window, strict=True):
            for e in range(num_envs):
                assert buf.obs[r, e, 0].item() == s * 10 + e  # env e's data stays in column e
                assert buf.actions[r, e, 0].item() == -(s * 10 + e)
                assert buf.next_obs[r, e, 0].item() == s * 10 + e + 0.5


def test_adds_from_numpy_tensors_and_lists_store_the_same_values():
    rng = np.random.default_rng(0)
    num_envs = 2
    data = random_step(rng, num_envs, 0.5, 0.5, 0)
    as_numpy = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=num_envs)
    as_numpy.add(*data)  # float64 / bool numpy arrays
    as_torch = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=num_envs)
    as_torch.add(*(torch.as_tensor(x) for x in data))
    as_list = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=num_envs)
    as_list.add(*(x.tolist() for x in data))
    names = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")
    for name, x in zip(names, data, strict=True):
        want = torch.as_tensor(x).to(getattr(as_numpy, name).dtype)
        for buf in (as_numpy, as_torch, as_list):
            assert torch.equal(getattr(buf, name)[0], want), name
    assert as_numpy.terminated.dtype == torch.bool and as_numpy.truncated.dtype == torch.bool
    assert as_numpy.obs.dtype == torch.float32


def test_terminated_and_truncated_are_stored_separately_and_discount_differently():
    gamma = 0.9
    buf = ReplayBuffer(4, 1, 1, num_envs=2, gamma=gamma, seed=1)
    # env 0 terminates, env 1 is truncated (time limit): only env 1 may bootstrap.
    buf.add([[0.0], [1.0]], [[0.0], [0.0]], [1.0, 2.0], [[5.0], [6.0]], [True, False], [False, True])
    assert buf.terminated[0].tolist() == [True, False]
    assert buf.truncated[0].tolist() == [False, True]
    batch = one(buf.sample(200))
    env = batch.obs[:, 0].long()
    assert set(env.tolist()) == {0, 1}
    assert torch.equal(batch.terminated, env == 0)
    expected_discount = torch.where(env == 0, 0.0, gamma)
    torch.testing.assert_close(batch.discounts, expected_discount)
    torch.testing.assert_close(batch.rewards, (env + 1).float())
    torch.testing.assert_close(batch.next_obs[:, 0], (env + 5).float())


# --------------------------------------------------------------------------- sampling


def test_one_step_samples_are_stored_transitions_with_gamma_discount():
    gamma = 0.97
    rng = np.random.default_rng(1)
    buf = ReplayBuffer(20, OBS_DIM, ACT_DIM, num_envs=4, n_step=1, gamma=gamma, seed=3)
    hist = History(4)
    fill(buf, hist, 13, rng)  # wrapped: 5 rows of 4 envs
    batch = one(buf.sample(300))
    expected = []
    for uid in batch.obs[:, 0].round().long().tolist():
        step, env = divmod(uid, 4)
        assert len(hist) - 5 <= step < len(hist)  # only the newest 5 rows are stored
        expected.append(hist.nstep(step, env, 1, gamma))
    assert_matches(batch, expected)


@pytest.mark.parametrize("n_step", [1, 3])
def test_sample_draws_uniformly_over_stored_transitions_only(n_step):
    buf = ReplayBuffer(40, OBS_DIM, ACT_DIM, num_envs=2, n_step=n_step, seed=0)
    rng = np.random.default_rng(2)
    fill(buf, History(2), 5, rng)  # 10 of 40 slots written; the rest are zeros
    uids = one(buf.sample(20_000)).obs[:, 0].round().long()
    counts = torch.bincount(uids, minlength=10)
    assert counts.numel() == 10 and bool((counts > 0).all())
    # An unwritten (all-zero) slot would read as uid 0 and inflate its count past the band below.
    # Binomial(20000, 0.1): mean 2000, sd ~42; a 15% band is > 7 sd.
    assert counts.min() > 1700 and counts.max() < 2300


def test_each_members_draw_is_torch_randint_from_its_own_generator():
    """Member m's positions are what torch.randint over its stored transitions gives from a generator
    seeded with its seed, as a run of that seed alone draws them; each draw refills one index tensor."""
    buffer = ReplayBuffer(30, OBS_DIM, ACT_DIM, num_envs=2, seed=[11, 12, 13])
    rows = 3 * 2  # members x envs per member
    references = [torch.Generator().manual_seed(s) for s in (11, 12, 13)]
    index = None
    for _ in range(4):  # the stored count grows between draws
        for _ in range(3):
            buffer.add(np.zeros((rows, OBS_DIM)), np.zeros((rows, ACT_DIM)), np.zeros(rows), np.zeros((rows, OBS_DIM)),
                       np.zeros(rows, bool), np.zeros(rows, bool))  # fmt: skip
        drawn = buffer.draw(40)
        assert index is None or drawn is index
        index = drawn
        for m, g in enumerate(references):
            assert torch.equal(index[m], torch.randint(len(buffer), (40,), generator=g))
    assert buffer.draw(8).shape == (3, 8)  # another batch size gets an index of its own


def test_sampling_uses_the_buffers_own_seeded_generator():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = ReplayBuffer(30, OBS_DIM, ACT_DIM, num_envs=3, n_step=2, seed=123)
    b = ReplayBuffer(30, OBS_DIM, ACT_DIM, num_envs=3, n_step=2, seed=123)
    fill(a, History(3), 14, rng_a)
    fill(b, History(3), 14, rng_b)
    for i in range(3):
        torch.manual_seed(1000 + i)  # the global RNG must not matter
        batch_a = one(a.sample(64))
        torch.rand(17)  # advance the global generator differently between the two calls
        torch.manual_seed(7 * i)
        batch_b = one(b.sample(64))
        assert_batches_equal(batch_a, batch_b)
    c = ReplayBuffer(30, OBS_DIM, ACT_DIM, num_envs=3, n_step=2, seed=124)
    fill(c, History(3), 14, np.random.default_rng(5))
    d = ReplayBuffer(30, OBS_DIM, ACT_DIM, num_envs=3, n_step=2, seed=123)
    fill(d, History(3), 14, np.random.default_rng(5))
    assert not torch.equal(one(c.sample(64)).obs, one(d.sample(64)).obs)


# --------------------------------------------------------------------------- n-step returns


@pytest.mark.parametrize("n_step", [1, 2, 3, 5])
@pytest.mark.parametrize(
    ("capacity", "num_envs", "steps"),
    [
        (30, 3, 7),  # not yet full
        (30, 3, 20),  # exactly full (pos back at 0)
        (30, 3, 27),  # wrapped, pos in the middle
        (28, 3, 43),  # capacity rounded up to 30, wrapped more than once
        (12, 4, 14),  # few rows: windows reach the newest row often
        (6, 1, 11),  # a single env
    ],
)
def test_nstep_every_index_matches_brute_force(n_step, capacity, num_envs, steps):
    gamma = 0.9
    seed = 1000 * n_step + 10 * steps + num_envs
    rng = np.random.default_rng(seed)
    buf = ReplayBuffer(capacity, OBS_DIM, ACT_DIM, num_envs, n_step=n_step, gamma=gamma)
    hist = History(num_envs)
    fill(buf, hist, steps, rng, p_term=0.12, p_trunc=0.12)
    rows = buf.capacity // num_envs
    flat = torch.arange(len(buf))
    batch = one(buf.gather(flat.unsqueeze(0)))
    expected = [hist.nstep(*hist.step_of_flat(i, rows), n_step, gamma) for i in flat.tolist()]
    assert_matches(batch, expected)
    # The random data does exercise the interesting cases.
    if n_step > 1 and len(buf) >= 30:
        assert any(e["discounts"] == 0.0 for e in expected)
        assert any(gamma**n_step + 1e-9 < e["discounts"] < 1 for e in expected)  # cut, bootstrap
        assert any(math.isclose(e["discounts"], gamma**n_step) for e in expected)


def test_nstep_with_no_episode_ends_is_the_geometric_sum():
    gamma, n = 0.8, 4
    buf = ReplayBuffer(40, 1, 1, num_envs=2, n_step=n, gamma=gamma)
    for step in range(10):
        z = np.zeros(2)
        buf.add([[step], [step]], [[0.0], [0.0]], [1.0, 1.0], [[step + 1], [step + 1]], z, z)
    batch = one(buf.gather(torch.arange(len(buf)).unsqueeze(0)))
    start = batch.obs[:, 0]
    length = torch.clamp(10 - start, max=n)  # windows near the newest row are shorter
    torch.testing.assert_close(batch.rewards, (1 - gamma**length) / (1 - gamma))
    torch.testing.assert_close(batch.next_obs[:, 0], start + length)
    torch.testing.assert_close(batch.discounts, gamma**length)


@pytest.mark.parametrize("n_step", [2, 3, 5])
def test_mark_episode_end_cuts_the_window_and_still_bootstraps(n_step):
    gamma, num_envs = 0.9, 3
    rng = np.random.default_rng(42 + n_step)
    buf = ReplayBuffer(24, OBS_DIM, ACT_DIM, num_envs, n_step=n_step, gamma=gamma)
    hist = History(num_envs)
    fill(buf, hist, 6, rng, p_term=0.0, p_trunc=0.0)
    mask = np.array([True, False, True])
    buf.mark_episode_end(mask)
    hist.mark_episode_end(mask)
    fill(buf, hist, 5, rng, p_term=0.0, p_trunc=0.0)  # wraps (8 rows)
    rows = buf.capacity // num_envs
    batch = one(buf.gather(torch.arange(len(buf)).unsqueeze(0)))
    expected = [hist.nstep(*hist.step_of_flat(i, rows), n_step, gamma) for i in range(len(buf))]
    assert_matches(batch, expected)
    # Directly: the window of env 0 starting one step before the mark stops at the mark.
    marked_step = 5
    flat = ((marked_step - 1) % rows) * num_envs + 0
    single = one(buf.gather(torch.tensor([flat]).unsqueeze(0)))
    r = hist.steps
    torch.testing.assert_close(single.rewards, torch.tensor([r[4]["rewards"][0] + gamma * r[5]["rewards"][0]]))
    torch.testing.assert_close(single.discounts, torch.tensor([gamma**2]))  # bootstraps, not terminal
    torch.testing.assert_close(single.next_obs, torch.tensor([r[5]["next_obs"][0]]))
    # env 1 was not marked: its window runs on through the same rows.
    flat1 = ((marked_step - 1) % rows) * num_envs + 1
    torch.testing.assert_close(
        one(buf.gather(torch.tensor([flat1]).unsqueeze(0))).discounts, torch.tensor([gamma**n_step])
    )


def test_mark_episode_end_when_write_position_has_wrapped_to_zero():
    gamma, n, num_envs = 0.5, 3, 2
    rng = np.random.default_rng(9)
    buf = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs, n_step=n, gamma=gamma)  # 4 rows
    hist = History(num_envs)
    fill(buf, hist, 4, rng, p_term=0.0, p_trunc=0.0)
    assert buf.pos == 0 and buf.full  # the newest row is the last one
    buf.mark_episode_end([False, True])
    hist.mark_episode_end([False, True])
    fill(buf, hist, 2, rng, p_term=0.0, p_trunc=0.0)
    batch = one(buf.gather(torch.arange(len(buf)).unsqueeze(0)))
    expected = [hist.nstep(*hist.step_of_flat(i, 4), n, gamma) for i in range(len(buf))]
    assert_matches(batch, expected)


def test_mark_episode_end_on_empty_buffer_is_a_no_op():
    buf = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=2, n_step=3)
    buf.mark_episode_end([True, True])
    assert len(buf) == 0
    assert not buf.truncated.any()


# --------------------------------------------------------------------------- nstep_window directly


def brute_window(rewards, terminated, episode_end, available, gamma):
    ret, length = 0.0, 0
    for k in range(min(available, len(rewards))):
        ret += gamma**k * rewards[k]
        length = k + 1
        if episode_end[k]:
            break
    disc = gamma**length * (0.0 if terminated[length - 1] else 1.0)
    return ret, length, disc


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.99, 1.0])
@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_nstep_window_matches_brute_force(gamma, n):
    rng = random.Random(n * 100 + int(gamma * 100))
    batch = 200
    rewards = [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(batch)]
    terminated = [[rng.random() < 0.2 for _ in range(n)] for _ in range(batch)]
    truncated = [[rng.random() < 0.2 for _ in range(n)] for _ in range(batch)]
    episode_end = [[a or b for a, b in zip(t, u, strict=True)] for t, u in zip(terminated, truncated, strict=True)]
    available = [rng.randint(1, n) for _ in range(batch)]
    returns, length, discounts = nstep_window(
        torch.tensor(rewards),
        torch.tensor(terminated),
        torch.tensor(episode_end),
        torch.tensor(available),
        gamma,
    )
    want = [brute_window(*args, gamma) for args in zip(rewards, terminated, episode_end, available, strict=True)]
    torch.testing.assert_close(returns, torch.tensor([w[0] for w in want]), rtol=1e-5, atol=1e-5)
    assert length.tolist() == [w[1] for w in want]
    torch.testing.assert_close(discounts, torch.tensor([w[2] for w in want]), rtol=1e-5, atol=1e-7)


def test_nstep_window_closed_forms():
    gamma = 0.9
    r = torch.tensor([[1.0, 2.0, 3.0]] * 4)
    no = torch.zeros(4, 3, dtype=torch.bool)
    term = no.clone()
    term[1, 0] = True  # terminal at the first step
    end = term.clone()
    end[2, 1] = True  # truncated at the second step
    available = torch.tensor([3, 3, 3, 2])  # the last window only has 2 steps written
    returns, length, discounts = nstep_window(r, term, end, available, gamma)
    torch.testing.assert_close(
        returns,
        torch.tensor([1 + 2 * gamma + 3 * gamma**2, 1.0, 1 + 2 * gamma, 1 + 2 * gamma]),
    )
    assert length.tolist() == [3, 1, 2, 2]
    torch.testing.assert_close(discounts, torch.tensor([gamma**3, 0.0, gamma**2, gamma**2]))


# --------------------------------------------------------------------------- state_dict


@pytest.mark.parametrize(("steps", "n_step"), [(3, 1), (9, 1), (9, 3), (13, 2)])
def test_state_dict_round_trip_gives_identical_subsequent_samples(steps, n_step):
    rng = np.random.default_rng(steps)
    a = ReplayBuffer(12, OBS_DIM, ACT_DIM, num_envs=3, n_step=n_step, gamma=0.9, seed=5)
    fill(a, History(3), steps, rng)  # 4 rows: 9 and 13 steps have wrapped
    a.sample(10)  # advance the generator: its state must travel too
    state = a.state_dict()
    # The state must survive a safe (weights_only) checkpoint round trip.
    blob = io.BytesIO()
    torch.save(state, blob)
    blob.seek(0)
    state = torch.load(blob, weights_only=True)
    b = ReplayBuffer(12, OBS_DIM, ACT_DIM, num_envs=3, n_step=n_step, gamma=0.9, seed=999)
    b.load_state_dict(state)
    assert len(b) == len(a) and b.pos == a.pos and b.full == a.full
    for _ in range(3):
        assert_batches_equal(one(a.sample(50)), one(b.sample(50)))
    data = random_step(rng, 3, 0.2, 0.2, 1000)
    a.add(*data)
    b.add(*data)
    assert_batches_equal(one(a.sample(50)), one(b.sample(50)))
    assert_batches_equal(
        one(a.gather(torch.arange(len(a)).unsqueeze(0))), one(b.gather(torch.arange(len(b)).unsqueeze(0)))
    )


def test_state_dict_is_a_snapshot():
    rng = np.random.default_rng(0)
    a = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=2, seed=1)
    fill(a, History(2), 3, rng)
    state = a.state_dict()
    obs_before = state["obs"].clone()
    fill(a, History(2), 4, rng)  # overwrite rows and move the generator
    a.sample(5)
    assert torch.equal(state["obs"], obs_before)
    b = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=2, seed=2)
    b.load_state_dict(state)
    assert len(b) == 6


@pytest.mark.parametrize(
    "other",
    [
        {"capacity": 8, "obs_dim": OBS_DIM + 1, "action_dim": ACT_DIM, "num_envs": 2},
        {"capacity": 8, "obs_dim": OBS_DIM, "action_dim": ACT_DIM, "num_envs": 4},
        {"capacity": 4, "obs_dim": OBS_DIM, "action_dim": ACT_DIM, "num_envs": 2},  # fewer rows
    ],
)
def test_load_state_dict_rejects_shapes_that_do_not_fit(other):
    a = ReplayBuffer(8, OBS_DIM, ACT_DIM, num_envs=2)
    fill(a, History(2), 4, np.random.default_rng(0))
    with pytest.raises(ValueError):
        ReplayBuffer(**other).load_state_dict(a.state_dict())


def test_load_full_state_into_larger_buffer_is_refused_or_exact():
    a = ReplayBuffer(6, OBS_DIM, ACT_DIM, num_envs=2, seed=0)  # 3 rows
    fill(a, History(2), 4, np.random.default_rng(0))  # wrapped: pos 1, full
    b = ReplayBuffer(10, OBS_DIM, ACT_DIM, num_envs=2, seed=0)  # 5 rows
    try:
        b.load_state_dict(a.state_dict())
    except ValueError:
        return  # refusing is fine
    assert len(b) == len(a)
    ids = lambda buf: sorted(one(buf.gather(torch.arange(len(buf)).unsqueeze(0))).obs[:, 0].tolist())  # noqa: E731
    assert ids(b) == ids(a)
