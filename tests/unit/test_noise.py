"""Exploration noise (core/noise.py): checked against closed forms and an independent recursion."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from actorcritic.core.noise import (
    ActionNoise,
    GaussianNoise,
    OrnsteinUhlenbeckNoise,
    decayed_sigma,
)
from actorcritic.core.spaces import ActionScaler

# --------------------------------------------------------------------------- decayed_sigma


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0.5),  # start: max
        (25, 0.5 - 0.4 * 0.25),
        (50, 0.3),  # halfway: the midpoint
        (100, 0.1),  # end: min
        (101, 0.1),  # beyond: stays at min
        (10_000, 0.1),
    ],
)
def test_decayed_sigma_is_linear_then_flat(step, expected):
    assert decayed_sigma(step, 0.5, 0.1, 100) == pytest.approx(expected)


def test_decayed_sigma_constant_without_min_or_period():
    assert decayed_sigma(10**6, 0.4, None, 100) == 0.4
    assert decayed_sigma(10**6, 0.4, 0.1, 0) == 0.4


def test_decayed_sigma_can_increase():
    assert decayed_sigma(50, 0.1, 0.3, 100) == pytest.approx(0.2)


# --------------------------------------------------------------------------- ActionNoise ('none')


def test_action_noise_none_returns_zeros_of_batched_shape():
    noise = ActionNoise(num_envs=4, action_dim=3, seed=1)
    for step in (0, 10, 10**6):
        out = noise.sample(step)
        assert out.shape == (4, 3)
        assert torch.equal(out, torch.zeros(4, 3))
    noise.reset()
    noise.reset(torch.tensor([True, False, True, False]))
    assert torch.equal(noise.sample(0), torch.zeros(4, 3))
    state = noise.state_dict()
    ActionNoise(4, 3, seed=2).load_state_dict(state)  # round trips without error


# --------------------------------------------------------------------------- Gaussian


def test_gaussian_empirical_std_matches_sigma():
    sigma = 0.2
    noise = GaussianNoise(num_envs=8, action_dim=3, sigma=sigma, seed=0)
    samples = torch.stack([noise.sample(step) for step in range(4000)])  # 96k values
    assert samples.shape == (4000, 8, 3)
    # std error of the std for N=96k is sigma / sqrt(2N) ~ 0.2%; allow 2%.
    assert samples.std().item() == pytest.approx(sigma, rel=0.02)
    assert abs(samples.mean().item()) < 0.005  # std error of the mean ~ 0.0007
    per_dim = samples.reshape(-1, 3).std(dim=0)
    torch.testing.assert_close(per_dim, torch.full((3,), sigma), rtol=0.04, atol=0)
    # Independent across envs and dimensions: the correlation matrix is close to the identity.
    corr = torch.corrcoef(samples.reshape(4000, -1).T)
    off_diag = corr - torch.eye(24)
    assert off_diag.abs().max() < 0.08


def test_gaussian_sigma_is_relative_to_the_action_range():
    """sigma is in normalised units: in env units the std is sigma * (high - low) / 2."""
    sigma = 0.05
    space = gym.spaces.Box(low=np.array([-2.0, 0.0]), high=np.array([2.0, 10.0]), dtype=np.float64)
    scaler = ActionScaler(space)
    noise = GaussianNoise(num_envs=1000, action_dim=2, sigma=sigma, seed=3)
    env_noise = np.concatenate([scaler.to_env(noise.sample(0).numpy()) - scaler.center for _ in range(20)])
    half_range = (space.high - space.low) / 2
    np.testing.assert_allclose(env_noise.std(axis=0), sigma * half_range, rtol=0.03)


def test_gaussian_decay_scales_the_same_draws():
    """With the same seed, a decaying noise at step t equals a constant noise with sigma(t)."""
    decaying = GaussianNoise(2, 3, sigma=0.5, min_sigma=0.1, decay_period=100, seed=11)
    for step in (0, 30, 50, 100, 400):
        sigma_t = 0.5 - 0.4 * min(1.0, step / 100)
        constant = GaussianNoise(2, 3, sigma=sigma_t, seed=11)
        fresh = GaussianNoise(2, 3, sigma=0.5, min_sigma=0.1, decay_period=100, seed=11)
        torch.testing.assert_close(fresh.sample(step), constant.sample(0))
    # A sequence keeps consuming the generator: same as a constant noise drawn with the same steps.
    ref = torch.Generator().manual_seed(11)
    for step in range(0, 200, 20):
        sigma_t = 0.5 - 0.4 * min(1.0, step / 100)
        torch.testing.assert_close(decaying.sample(step), sigma_t * torch.randn(2, 3, generator=ref))


def test_gaussian_same_seed_reproducible_and_independent_of_global_rng():
    a = GaussianNoise(3, 2, sigma=0.3, seed=7)
    b = GaussianNoise(3, 2, sigma=0.3, seed=7)
    c = GaussianNoise(3, 2, sigma=0.3, seed=8)
    for step in range(5):
        torch.manual_seed(step)
        x = a.sample(step)
        torch.randn(100)
        y = b.sample(step)
        assert torch.equal(x, y)
        assert not torch.equal(x, c.sample(step))


# --------------------------------------------------------------------------- Ornstein-Uhlenbeck


def ou_reference(seed, shape, steps, theta, mu, dt, sigma_at, resets=None):
    """x += theta (mu - x) dt + sigma sqrt(dt) N(0, 1), with its own generator (float64 state)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.full(shape, mu, dtype=torch.float64)
    out = []
    for step in range(steps):
        if resets and step in resets:
            x[resets[step]] = mu
        dw = torch.randn(shape, generator=gen).double()
        x = x + theta * (mu - x) * dt + sigma_at(step) * math.sqrt(dt) * dw
        out.append(x.clone())
    return out


def test_ou_matches_independent_recursion_with_decay_and_resets():
    shape, theta, mu, dt, seed = (3, 2), 0.15, 0.2, 0.05, 4
    sigma_at = lambda step: 0.4 - 0.3 * min(1.0, step / 30)  # noqa: E731
    mask = torch.tensor([False, True, False])
    resets = {10: mask, 25: torch.tensor([True, True, True])}
    noise = OrnsteinUhlenbeckNoise(
        *shape, sigma=0.4, min_sigma=0.1, decay_period=30, theta=theta, mu=mu, dt=dt, seed=seed
    )
    want = ou_reference(seed, shape, 40, theta, mu, dt, sigma_at, resets)
    for step in range(40):
        if step == 10:
            noise.reset(mask)
        if step == 25:
            noise.reset()
        got = noise.sample(step)
        assert got.shape == shape
        torch.testing.assert_close(got.double(), want[step], rtol=1e-5, atol=1e-6)


def test_ou_reset_mask_resets_only_masked_envs():
    noise = OrnsteinUhlenbeckNoise(4, 3, sigma=0.5, mu=0.3, seed=1)
    for step in range(5):
        noise.sample(step)
    before = noise.state.clone()
    assert not torch.any(before == 0.3)
    mask = np.array([True, False, False, True])  # numpy masks work too
    noise.reset(mask)
    assert torch.equal(noise.state[[0, 3]], torch.full((2, 3), 0.3))
    assert torch.equal(noise.state[[1, 2]], before[[1, 2]])
    noise.reset(None)
    assert torch.equal(noise.state, torch.full((4, 3), 0.3))


def test_ou_clip_clips_the_samples_not_the_process():
    shape, theta, mu, dt, seed, clip = (3, 2), 0.15, 0.0, 1.0, 7, 0.3
    noise = OrnsteinUhlenbeckNoise(*shape, sigma=0.5, theta=theta, mu=mu, dt=dt, clip=clip, seed=seed)
    want = ou_reference(seed, shape, 50, theta, mu, dt, lambda step: 0.5)
    for step in range(50):
        got = noise.sample(step)
        torch.testing.assert_close(got.double(), want[step].clamp(-clip, clip), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(noise.state.double(), want[step], rtol=1e-5, atol=1e-6)
    assert max(w.abs().max() for w in want) > 2 * clip  # the process itself went well past the clip


def test_ou_sample_returns_a_copy_of_the_state():
    noise = OrnsteinUhlenbeckNoise(2, 2, seed=0)
    out = noise.sample(0)
    out += 100.0
    assert noise.state.abs().max() < 100.0


def test_ou_stationary_variance_and_autocorrelation():
    """Discrete OU: Var = sigma^2 dt / (1 - (1 - theta dt)^2), lag-1 autocorrelation 1 - theta dt."""
    theta, sigma, dt, mu = 0.15, 0.3, 1.0, -0.1
    noise = OrnsteinUhlenbeckNoise(10_000, 1, sigma=sigma, theta=theta, mu=mu, dt=dt, seed=2)
    for step in range(150):  # burn in: (1 - 0.15)^150 ~ 2e-11
        noise.sample(step)
    x0 = noise.sample(150).squeeze(1).double()
    x1 = noise.sample(151).squeeze(1).double()
    a = 1 - theta * dt
    var = sigma**2 * dt / (1 - a**2)
    assert x0.mean().item() == pytest.approx(mu, abs=4 * math.sqrt(var / 10_000))
    assert x0.var().item() == pytest.approx(var, rel=0.06)
    corr = torch.corrcoef(torch.stack([x0, x1]))[0, 1].item()
    assert corr == pytest.approx(a, abs=0.02)


@pytest.mark.parametrize("cls", [GaussianNoise, OrnsteinUhlenbeckNoise])
def test_state_dict_restore_gives_identical_continuation(cls):
    a = cls(3, 2, sigma=0.3, seed=5)
    for step in range(7):
        a.sample(step)
    state = a.state_dict()
    expected = [a.sample(step) for step in range(7, 15)]
    b = cls(3, 2, sigma=0.3, seed=6)
    b.sample(0)  # b's own state (OU's x, the generator) is overwritten by the load
    b.load_state_dict(state)
    for step, want in zip(range(7, 15), expected, strict=True):
        assert torch.equal(b.sample(step), want)


def test_ou_same_seed_reproducible():
    a = OrnsteinUhlenbeckNoise(2, 3, seed=9)
    b = OrnsteinUhlenbeckNoise(2, 3, seed=9)
    for step in range(5):
        torch.manual_seed(100 + step)
        assert torch.equal(a.sample(step), b.sample(step))


@pytest.mark.parametrize("cls", [ActionNoise, GaussianNoise, OrnsteinUhlenbeckNoise])
def test_sample_into_out_is_the_sample_itself(cls):
    """A group's collector draws each member's noise into its row of one tensor: the same draws, the same
    process, whatever the row held before."""
    kwargs = {} if cls is ActionNoise else {"sigma": 0.4, "min_sigma": 0.1, "decay_period": 10}
    alone, into = cls(3, 2, seed=4, clip=0.5, **kwargs), cls(3, 2, seed=4, clip=0.5, **kwargs)
    rows = torch.full((2, 3, 2), 7.0)
    for step in range(12):
        want = alone.sample(step)
        got = into.sample(step, out=rows[1])
        assert got.data_ptr() == rows[1].data_ptr()
        assert torch.equal(rows[1], want)
        assert torch.equal(rows[0], torch.full((3, 2), 7.0))  # the other row is left alone
        if step == 5:  # an episode ends in two of the envs
            alone.reset(torch.tensor([True, False, True]))
            into.reset(torch.tensor([True, False, True]))
