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


def test_td3_configured_as_ddpg_gives_exactly_ddpgs_parameters(train_step):
    """One critic, no smoothing, delay 1: TD3 is DDPG, to the last bit."""
    common = {"hidden_sizes": (32, 32), "tau": 0.05}
    ddpg = DDPG("Pendulum-v1", DDPGConfig(**common), seed=7)
    td3 = TD3("Pendulum-v1", TD3Config(**common, num_critics=1, policy_delay=1, target_noise=0.0), seed=7)
    for step in range(25):
        batch = random_batch(step)
        train_step(ddpg, batch)
        train_step(td3, batch)
    for name in ("actor", "critic", "actor_target", "critic_target"):
        for p, q in zip(getattr(ddpg.learner, name).parameters(), getattr(td3.learner, name).parameters(), strict=True):
            assert torch.equal(p, q), name


def test_td3_smoothing_noise_is_clipped_and_has_the_configured_scale(train_step):
    """The target action the update feeds Q'(s', .) is clip(mu'(s') + clip(eps, -c, c), -1, 1), with
    eps ~ N(0, target_noise^2): read off the target critic's input during a real update."""
    cfg = TD3Config(hidden_sizes=(8,), target_noise=0.2, target_noise_clip=0.3)
    agent = TD3("Pendulum-v1", cfg, seed=0)
    learner, seen = agent.learner, []
    hook = learner.critic_target.register_forward_hook(lambda module, args, out: seen.append(args[1].detach().clone()))
    batch = random_batch(0, n=200_000)
    with torch.no_grad():
        mu = learner.actor_target(batch.next_obs)  # mu'(s') before the update moves the target
    train_step(agent, batch)
    hook.remove()
    (target_actions,) = seen  # one target critic evaluation per update: on (s', a')
    assert target_actions.abs().max() <= 1.0  # kept inside the action bounds
    inside = mu.abs() <= 1.0 - 0.3  # where the final clip to [-1, 1] cannot bite, a' - mu'(s') is the noise itself
    assert inside.float().mean() > 0.5
    noise = (target_actions - mu)[inside]
    assert noise.abs().max() <= 0.3 + 1e-6 and not torch.all(noise == 0)
    clipped = (noise.abs() >= 0.3 - 1e-6).float().mean()  # P(|eps| >= c) = erfc(c / (sigma sqrt 2)), c = 1.5 sigma
    assert clipped == pytest.approx(2 * 0.5 * math.erfc(1.5 / math.sqrt(2)), abs=0.005)
    # Unclipped, it is N(0, 0.2^2) truncated to +-1.5 std: std 0.2 sqrt(1 - 2 k phi(k) / erf(k / sqrt 2)), k = 1.5.
    k = 1.5
    truncated_std = 0.2 * math.sqrt(
        1 - 2 * k * math.exp(-k * k / 2) / math.sqrt(2 * math.pi) / math.erf(k / math.sqrt(2))
    )
    unclipped = noise[noise.abs() < 0.3 - 1e-6]
    assert unclipped.std().item() == pytest.approx(truncated_std, rel=0.01)


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_td3_actor_and_targets_move_exactly_every_policy_delay_updates(delay, train_step):
    agent = TD3("Pendulum-v1", TD3Config(hidden_sizes=(8,), policy_delay=delay), seed=0)
    learner = agent.learner
    for step in range(1, 3 * delay + 1):
        actor, actor_t, critic_t = (
            snapshot(learner.actor),
            snapshot(learner.actor_target),
            snapshot(learner.critic_target),
        )
        critic = snapshot(learner.critic)
        metrics = train_step(agent, random_batch(step))
        due = step % delay == 0
        assert changed(learner.critic, critic)  # the critic learns on every update
        assert changed(learner.actor, actor) == due
        assert changed(learner.actor_target, actor_t) == due
        assert changed(learner.critic_target, critic_t) == due
        assert ("actor_loss" in metrics) == due  # an update reports the actor's loss only when the actor moved


def test_td3_target_uses_the_minimum_of_twin_critics():
    learner = TD3("Pendulum-v1", TD3Config(hidden_sizes=(8,), target_noise=0.0), seed=0).learner
    with torch.no_grad():
        learner.critic_target.biases[-1][0] += 5.0  # critic 1 now overestimates by 5
    b = random_batch(0)
    with torch.no_grad():
        both = learner.critic_target(b.next_obs, learner.actor_target(b.next_obs))[0]  # the one member's [2, B]
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


@pytest.mark.parametrize("members", [1, 3])
def test_sac_exploration_draws_the_action_that_sample_draws(members):
    """Acting skips the log-probability, not the random draw: the same actions, the generators left alike."""
    actor = SquashedGaussianActor(3, 2, (8,), members=members)
    obs = torch.randn(members, 5, 3) if members > 1 else torch.randn(5, 3)
    ours, theirs = ([torch.Generator().manual_seed(m) for m in range(members)] for _ in range(2))
    for _ in range(2):
        torch.testing.assert_close(actor.explore(obs, ours), actor.sample(obs, theirs)[0], rtol=0, atol=0)


def test_sac_autotune_moves_alpha_towards_the_entropy_target(train_step):
    high = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), target_entropy=5.0, alpha_lr=1e-2), seed=0)
    low = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), target_entropy=-5.0, alpha_lr=1e-2), seed=0)
    for step in range(20):
        train_step(high, random_batch(step))
        train_step(low, random_batch(step))
    assert high.learner.alpha() > 0.2 > low.learner.alpha()  # more entropy wanted: alpha grows; less: it shrinks
    fixed = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), autotune=False, alpha=0.1), seed=0)
    train_step(fixed, random_batch(0))
    assert fixed.learner.alpha().item() == pytest.approx(0.1)


def test_sac_soft_target_by_hand(train_step):
    """The critic target of one update, recomputed by hand from the same random draws."""
    agent = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,), reward_scale=0.5), seed=0)
    learner = agent.learner
    b = random_batch(3)
    state = agent.generator.get_state()
    with torch.no_grad():
        a2, logp2 = learner.actor.sample(b.next_obs, agent.generator)
        # One member: [M=1, n=2, B] Q values, the target y [1, B].
        next_q = learner.critic_target(b.next_obs, a2).min(1).values
        y = 0.5 * b.rewards + b.discounts * (next_q - learner.alpha().unsqueeze(-1) * logp2)
        q = learner.critic(b.obs, b.actions)
        expected_loss = ((q - y.unsqueeze(1)) ** 2).mean(dim=2).sum(dim=1)
    agent.generator.set_state(state)
    metrics = train_step(agent, b)
    torch.testing.assert_close(metrics["critic_loss"], expected_loss)


def test_sac_evaluation_uses_the_mean_action():
    agent = SAC("Pendulum-v1", SACConfig(hidden_sizes=(16,)), seed=0)
    obs = torch.randn(5, 3)
    mean_action = torch.tanh(agent.learner.actor.distribution(obs)[0])
    torch.testing.assert_close(agent.policy(obs, deterministic=True), mean_action)
    sampled = agent.policy(obs, deterministic=False)
    assert not torch.allclose(sampled, agent.policy(obs, deterministic=True))


def test_sac_deterministic_variant(train_step):
    cfg = SACConfig(hidden_sizes=(16,), deterministic=True, noise_sigma=0.3)
    agent = SAC("Pendulum-v1", cfg, seed=0)
    assert agent.learner.alpha().item() == 0.0
    obs = torch.randn(5, 3)
    torch.testing.assert_close(agent.policy(obs, deterministic=False), agent.learner.actor(obs))  # no sampling
    noise = torch.stack([agent.members[0].noise.sample(0) for _ in range(2000)])
    assert noise.abs().max() <= 0.5 and noise.std().item() == pytest.approx(0.3, rel=0.15)  # clipped Gaussian
    metrics = train_step(agent, random_batch(0))
    assert metrics["entropy"].item() == 0.0 and torch.isfinite(metrics["critic_loss"])


@pytest.mark.parametrize("algo", ["td3", "sac"])
def test_short_runs_resume_bit_identically(tmp_path, algo, learner_modules):
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
    for name, module in learner_modules(straight).items():
        for p, q in zip(module.parameters(), learner_modules(resumed)[name].parameters(), strict=True):
            assert torch.equal(p, q), name
    straight.close()
    resumed.close()


def test_sac_fixed_alpha_zero_is_exactly_zero_and_trains(tmp_path):
    cfg = SACConfig(hidden_sizes=(16,), autotune=False, alpha=0.0, learning_starts=50, batch_size=16, eval_interval=0)
    agent = SAC("Pendulum-v1", cfg, seed=0, run_dir=tmp_path / "run", checkpoint_interval=50)
    assert agent.learner.alpha().item() == 0.0
    agent.learn(100).close()  # checkpoints (which check every parameter is finite) are written on the way
    assert actorcritic.load(tmp_path / "run").learner.alpha().item() == 0.0
    with pytest.raises(actorcritic.UserError, match="alpha"):
        SACConfig(alpha=0.0)  # autotune needs a positive starting alpha
