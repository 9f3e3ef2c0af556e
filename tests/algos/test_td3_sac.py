"""TD3 and SAC: smoothing, delays, the squashed log-density, and TD3-as-DDPG equivalence."""

import math

import pytest
import torch
from batches import random_batch
from torch.autograd.functional import jacobian

import actorcritic
from actorcritic import DDPG, SAC, TD3, DDPGConfig, SACConfig, TD3Config
from actorcritic.core.networks import SquashedGaussianActor


def snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(module: torch.nn.Module, before: list[torch.Tensor]) -> bool:
    return any(not torch.equal(p, b) for p, b in zip(module.parameters(), before, strict=True))


# ----------------------------------------------------------------------------------------- TD3


def test_td3_configured_as_ddpg_gives_exactly_ddpgs_parameters():
    """One critic, no smoothing, delay 1: TD3 is DDPG, to the last bit."""
    common = {"hidden_sizes": (32, 32), "tau": 0.05}
    ddpg = DDPG("Pendulum-v1", DDPGConfig(**common), seed=7)
    td3 = TD3("Pendulum-v1", TD3Config(**common, num_critics=1, policy_delay=1, target_noise=0.0), seed=7)
    for step in range(25):
        batch = random_batch(step)
        ddpg.train_step(batch)
        td3.train_step(batch)
    for name in ("actor", "critic", "actor_target", "critic_target"):
        for p, q in zip(getattr(ddpg, name).parameters(), getattr(td3, name).parameters(), strict=True):
            assert torch.equal(p, q), name


def test_td3_smoothing_noise_is_clipped_and_has_the_configured_scale():
    cfg = TD3Config(hidden_sizes=(8,), target_noise=0.2, target_noise_clip=0.3)
    agent = TD3("Pendulum-v1", cfg, seed=0)
    noise = agent.smoothing_noise(torch.Size([1, 200_000, 1]))
    assert noise.abs().max() <= 0.3 + 1e-7
    assert (noise.abs() == 0.3).float().mean() == pytest.approx(2 * 0.5 * math.erfc(1.5 / math.sqrt(2)), abs=0.005)
    # The target action is mu'(s') plus that noise, kept inside [-1, 1].
    obs = torch.randn(1, 1000, 3)
    diff = agent.target_actions(obs) - agent.actor_target(obs)
    assert diff.abs().max() <= 0.3 + 1e-6 and not torch.all(diff == 0)
    assert agent.target_actions(obs).abs().max() <= 1.0


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_td3_actor_and_targets_move_exactly_every_policy_delay_updates(delay):
    agent = TD3("Pendulum-v1", TD3Config(hidden_sizes=(8,), policy_delay=delay), seed=0)
    for step in range(1, 3 * delay + 1):
        actor, actor_t, critic_t = (
            snapshot(agent.actor),
            snapshot(agent.actor_target),
            snapshot(agent.critic_target),
        )
        critic = snapshot(agent.critic)
        agent.train_step(random_batch(step))
        due = step % delay == 0
        assert changed(agent.critic, critic)  # the critic learns on every update
        assert changed(agent.actor, actor) == due
        assert changed(agent.actor_target, actor_t) == due
        assert changed(agent.critic_target, critic_t) == due


def test_td3_target_uses_the_minimum_of_twin_critics():
    agent = TD3("Pendulum-v1", TD3Config(hidden_sizes=(8,), target_noise=0.0), seed=0)
    with torch.no_grad():
        agent.critic_target.biases[-1][0] += 5.0  # critic 1 now overestimates by 5
    b = random_batch(0)
    with torch.no_grad():
        both = agent.critic_target(b.next_obs, agent.actor_target(b.next_obs))[0]  # the one member's [2, B]
    torch.testing.assert_close(both.min(dim=0).values, both[1])


# ----------------------------------------------------------------------------------------- SAC


def test_sac_log_prob_matches_change_of_variables_with_an_autograd_jacobian():
    torch.manual_seed(0)
    actor = SquashedGaussianActor(4, 3, (16,))
    obs = torch.randn(64, 4)
    actions, log_prob = actor.sample(obs, torch.Generator().manual_seed(1))
    mean, log_std = actor.distribution(obs)
    eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(1))
    u = mean + log_std.exp() * eps  # the pre-tanh sample
    torch.testing.assert_close(actions, torch.tanh(u))
    for i in range(len(obs)):
        base = torch.distributions.Normal(mean[i], log_std[i].exp()).log_prob(u[i]).sum()
        jac = jacobian(torch.tanh, u[i].detach())  # da/du, diagonal
        expected = base - torch.log(torch.abs(torch.det(jac)))
        assert abs(log_prob[i].item() - expected.item()) < 1e-4


def test_sac_log_prob_is_finite_at_the_action_bounds():
    actor = SquashedGaussianActor(2, 2, (8,))
    with torch.no_grad():
        actor.net.biases[-1][0, 0].copy_(torch.tensor([30.0, -30.0, -5.0, -5.0]))  # means at +-30: tanh = +-1
    actions, log_prob = actor.sample(torch.zeros(100, 2), torch.Generator().manual_seed(0))
    assert torch.all(actions.abs() == 1.0)  # saturated in float32
    assert torch.isfinite(log_prob).all()


def test_sac_log_std_is_clamped():
    actor = SquashedGaussianActor(2, 1, (8,))
    with torch.no_grad():
        actor.net.biases[-1][0, 0].copy_(torch.tensor([0.0, 100.0]))
    _, log_std = actor.distribution(torch.zeros(3, 2))
    assert torch.all(log_std == SquashedGaussianActor.LOG_STD_MAX)


def test_sac_autotune_moves_alpha_towards_the_entropy_target():
    high = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), target_entropy=5.0, alpha_lr=1e-2), seed=0)
    low = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), target_entropy=-5.0, alpha_lr=1e-2), seed=0)
    for step in range(20):
        high.train_step(random_batch(step))
        low.train_step(random_batch(step))
    assert high.alpha > 0.2 > low.alpha  # more entropy wanted: alpha grows; less: it shrinks
    fixed = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), autotune=False, alpha=0.1), seed=0)
    fixed.train_step(random_batch(0))
    assert fixed.alpha.item() == pytest.approx(0.1)


def test_sac_soft_target_by_hand():
    """The critic target of one update, recomputed by hand from the same random draws."""
    agent = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), reward_scale=0.5), seed=0)
    b = random_batch(3)
    state = agent.generator.get_state()
    with torch.no_grad():
        a2, logp2 = agent.actor.sample(b.next_obs, agent.generator)
        # One member: [M=1, n=2, B] Q values, the target y [1, B].
        y = 0.5 * b.rewards + b.discounts * (agent.critic_target(b.next_obs, a2).min(1).values - agent.alpha * logp2)
        q = agent.critic(b.obs, b.actions)
        expected_loss = ((q - y.unsqueeze(1)) ** 2).mean(dim=2).sum(dim=1)
    agent.generator.set_state(state)
    metrics = agent.train_step(b)
    torch.testing.assert_close(metrics["critic_loss"], expected_loss)


def test_sac_evaluation_uses_the_mean_action():
    agent = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,)), seed=0)
    obs = torch.randn(5, 3)
    torch.testing.assert_close(agent.policy(obs, deterministic=True), torch.tanh(agent.actor.distribution(obs)[0]))
    sampled = agent.policy(obs, deterministic=False)
    assert not torch.allclose(sampled, agent.policy(obs, deterministic=True))


def test_sac_deterministic_variant():
    cfg = SACConfig(hidden_sizes=(16,), deterministic=True, noise_sigma=0.3)
    agent = SAC("Pendulum-v1", cfg, seed=0)
    assert agent.alpha.item() == 0.0
    obs = torch.randn(5, 3)
    torch.testing.assert_close(agent.policy(obs, deterministic=False), agent.actor(obs))  # no sampling
    noise = torch.stack([agent.noise.sample(0) for _ in range(2000)])
    assert noise.abs().max() <= 0.5 and noise.std().item() == pytest.approx(0.3, rel=0.15)  # clipped Gaussian
    metrics = agent.train_step(random_batch(0))
    assert metrics["entropy"].item() == 0.0 and torch.isfinite(metrics["critic_loss"])


@pytest.mark.parametrize("algo", ["td3", "sac"])
def test_short_runs_resume_bit_identically(tmp_path, algo):
    """TD3's smoothing draws and SAC's action samples come from a checkpointed generator."""
    cls, cfg_cls = actorcritic.ALGOS[algo], actorcritic.ALGOS[algo].config_cls
    cfg = cfg_cls(
        hidden_sizes=(16, 16),
        learning_starts=100,
        batch_size=32,
        eval_interval=0,
        eval_episodes=1,
        n_step=3,
    )
    straight = cls("Pendulum-v1", cfg, seed=0, run_dir=tmp_path / "a").learn(400)
    cls("Pendulum-v1", cfg, seed=0, run_dir=tmp_path / "b").learn(200).close()
    resumed = actorcritic.load(tmp_path / "b")
    resumed.resume_in(tmp_path / "b")
    resumed.learn(200)
    for name, module in straight._modules().items():
        for p, q in zip(module.parameters(), resumed._modules()[name].parameters(), strict=True):
            assert torch.equal(p, q), name


def test_sac_fixed_alpha_zero_is_exactly_zero_and_trains(tmp_path):
    cfg = SACConfig(hidden_sizes=(16,), autotune=False, alpha=0.0, learning_starts=50, batch_size=16, eval_interval=0)
    agent = SAC("Pendulum-v1", cfg, seed=0, run_dir=tmp_path / "run", checkpoint_interval=50)
    assert agent.alpha.item() == 0.0
    agent.learn(100)  # checkpoints (which check every parameter is finite) are written on the way
    assert actorcritic.load(tmp_path / "run").alpha.item() == 0.0
    with pytest.raises(actorcritic.UserError, match="alpha"):
        SACConfig(alpha=0.0)  # autotune needs a positive starting alpha
