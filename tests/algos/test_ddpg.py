"""DDPG: the update against a naive reference, determinism, exact resume, divergence, the API."""

import copy
import csv

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from batches import random_batch

import actorcritic
from actorcritic import DDPG, DDPGConfig, TrainingDiverged
from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.envs.make import make_env

SMALL = {"hidden_sizes": (32, 32), "learning_starts": 100, "batch_size": 32, "eval_episodes": 2}


def params(agent: DDPG) -> dict[str, torch.Tensor]:
    learner = agent.learner
    modules = {name: getattr(learner, name) for name in learner.checkpointed}
    return {
        f"{name}.{k}": v
        for name, m in modules.items()
        if isinstance(m, torch.nn.Module)
        for k, v in m.state_dict().items()
    }


def assert_same_params(a: DDPG, b: DDPG) -> None:
    pa, pb = params(a), params(b)
    assert pa.keys() == pb.keys()
    for k in pa:
        assert torch.equal(pa[k], pb[k]), k


@pytest.mark.parametrize("critic_loss", ["mse", "huber"])
def test_update_matches_a_naive_reference(critic_loss):
    """One update equals the paper's steps written out by hand with plain (unfused) Adam."""
    cfg = DDPGConfig(hidden_sizes=(16, 16), tau=0.1, critic_loss=critic_loss, reward_scale=2.0, max_grad_norm=0.5)
    agent = DDPG("Pendulum-v1", cfg, seed=0)
    learner = agent.learner
    actor, critic = copy.deepcopy(learner.actor), copy.deepcopy(learner.critic)
    actor_t, critic_t = copy.deepcopy(actor), copy.deepcopy(critic)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, foreach=False)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, foreach=False)
    loss_fn = F.mse_loss if critic_loss == "mse" else F.huber_loss

    for step in range(3):
        b = random_batch(seed=step)
        learner.update(b, update_actor=True, update_targets=True)  # DDPG: the actor and targets move every update
        with torch.no_grad():
            y = cfg.reward_scale * b.rewards + b.discounts * critic_t(b.next_obs, actor_t(b.next_obs))[0]
        critic_opt.zero_grad()
        loss_fn(critic(b.obs, b.actions)[0], y).backward()
        torch.nn.utils.clip_grad_norm_(critic.parameters(), cfg.max_grad_norm)
        critic_opt.step()
        actor_opt.zero_grad()
        (-critic(b.obs, actor(b.obs))[0].mean()).backward()
        torch.nn.utils.clip_grad_norm_(actor.parameters(), cfg.max_grad_norm)
        actor_opt.step()
        with torch.no_grad():
            for net, target in ((actor, actor_t), (critic, critic_t)):
                for p, pt in zip(net.parameters(), target.parameters(), strict=True):
                    pt.copy_((1 - cfg.tau) * pt + cfg.tau * p)

    for mine, ref in (
        (learner.actor, actor),
        (learner.critic, critic),
        (learner.actor_target, actor_t),
        (learner.critic_target, critic_t),
    ):
        for p, q in zip(mine.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_actor_step_computes_no_critic_weight_gradients():
    learner = DDPG("Pendulum-v1", DDPGConfig(hidden_sizes=(16,)), seed=0).learner
    seen = []
    hooks = [p.register_hook(lambda g: seen.append(g)) for p in learner.critic.parameters()]
    b = random_batch()
    learner.actor_optim.minimize(lambda actor: -learner.critic(b.obs, actor(b.obs)).mean(dim=(-2, -1)))
    assert seen == [] and all(p.grad is None for p in learner.critic.parameters())
    for h in hooks:
        h.remove()


def test_hard_target_updates_every_period(train_step):
    """The trainer's schedule: with tau = 1 the targets are hard copies, made every third update."""
    cfg = DDPGConfig(hidden_sizes=(8,), tau=1.0, target_update_period=3)
    agent = DDPG("Pendulum-v1", cfg, seed=0)
    learner = agent.learner
    for i in range(1, 7):
        before = [p.clone() for p in learner.actor_target.parameters()]
        train_step(agent, random_batch(seed=i))
        assert agent.num_updates == i
        same_as_online = all(
            torch.equal(t, p)
            for t, p in zip(learner.actor_target.parameters(), learner.actor.parameters(), strict=True)
        )
        unchanged = all(torch.equal(t, b) for t, b in zip(learner.actor_target.parameters(), before, strict=True))
        assert same_as_online if i % 3 == 0 else unchanged


def test_same_seed_same_parameters():
    cfg = DDPGConfig(**SMALL, eval_interval=0, noise="ou")
    a = DDPG("Pendulum-v1", cfg, seed=3).learn(400)
    b = DDPG("Pendulum-v1", cfg, seed=3).learn(400)
    c = DDPG("Pendulum-v1", cfg, seed=4).learn(400)
    assert a.num_updates == 301  # one per step from the 100th stored transition on
    assert_same_params(a, b)
    assert not torch.equal(a.learner.actor.net.weights[0], c.learner.actor.net.weights[0])


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_resume_at_an_episode_boundary_is_bit_identical(tmp_path, noise):
    """Pendulum episodes are 200 steps: a checkpoint at step 400 is at a boundary."""
    cfg = DDPGConfig(**SMALL, eval_interval=200, log_interval=100, noise=noise, n_step=2)
    straight = DDPG("Pendulum-v1", cfg, seed=1, run_dir=tmp_path / "straight").learn(800)

    first = DDPG("Pendulum-v1", cfg, seed=1, run_dir=tmp_path / "resumed").learn(400)
    first.close()
    resumed = actorcritic.load(tmp_path / "resumed")
    resumed.resume_in(tmp_path / "resumed")
    resumed.learn(400)

    assert resumed.global_step == straight.global_step == 800
    assert resumed.num_updates == straight.num_updates
    assert_same_params(resumed, straight)
    for name in ("actor_optim", "critic_optim"):
        sa, sb = (
            getattr(resumed.learner, name).state_dict()["state"],
            getattr(straight.learner, name).state_dict()["state"],
        )
        assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    assert torch.equal(resumed.buffer.obs, straight.buffer.obs)
    assert resumed.summary()["final_eval_mean_return"] == straight.summary()["final_eval_mean_return"]
    with open(tmp_path / "resumed" / "metrics.csv") as f:
        steps = [int(float(r["step"])) for r in csv.DictReader(f)]
    assert steps == sorted(set(steps))  # no row logged twice across the resume


def test_resume_mid_episode_starts_fresh_episodes_and_keeps_every_transition(tmp_path):
    cfg = DDPGConfig(**SMALL, eval_interval=0, n_step=3)
    agent = DDPG("Pendulum-v1", cfg, seed=2, run_dir=tmp_path / "run").learn(300)
    agent.close()
    stored = {k: v.clone() for k, v in agent.buffer.state_dict().items() if isinstance(v, torch.Tensor)}

    resumed = actorcritic.load(tmp_path / "run")
    resumed.resume_in(tmp_path / "run")
    resumed.learn(50)
    buf = resumed.buffer
    assert len(buf) == 350
    for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
        assert torch.equal(getattr(buf, name)[:300], stored[name]), name
    assert buf.truncated[299].all() and not stored["truncated"][299].any()  # the interrupted episode is cut there
    # Episode 0 ended at step 200, episode 1 was interrupted: the resumed run starts episode 2.
    fresh_obs, _ = make_env("Pendulum-v1").reset(seed=stream_seed(2, Stream.ENV_EPISODE, 0, 2))
    torch.testing.assert_close(buf.obs[300, 0], torch.as_tensor(fresh_obs))
    # n-step windows that start before the cut stop at it.
    batch = buf.gather(torch.tensor([[298]]))
    torch.testing.assert_close(batch.next_obs[0, 0], buf.next_obs[299, 0])


def test_non_finite_reward_stops_training_and_keeps_the_last_checkpoint(tmp_path):
    cfg = DDPGConfig(hidden_sizes=(8,), learning_starts=10, batch_size=8, eval_interval=0, eval_episodes=1)
    agent = DDPG("toy_envs:NaNRewardEnv", cfg, seed=0, run_dir=tmp_path / "run", checkpoint_interval=25)
    with pytest.raises(TrainingDiverged, match="reward"):
        agent.learn(100)
    good = actorcritic.load(tmp_path / "run")
    assert good.global_step == 50
    assert all(torch.isfinite(p).all() for p in good.learner.actor.parameters())


def test_api_act_evaluate_save_load(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**SMALL, eval_interval=0), seed=0).learn(150)
    obs = np.array([0.5, -0.5, 1.0], dtype=np.float32)
    action = agent.act(obs)
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0  # Pendulum's torque bounds, env units
    batch_actions = agent.act(np.stack([obs, obs]))
    assert batch_actions.shape == (2, 1)
    np.testing.assert_allclose(batch_actions[0], action, rtol=1e-5)  # batched kernels may round differently
    normalised = agent.learner.actor(torch.as_tensor(obs).unsqueeze(0)).detach().numpy()[0]
    np.testing.assert_allclose(action, 2.0 * normalised, rtol=1e-6)
    result = agent.evaluate(2)
    assert len(result.returns) == 2 and result.mean_length == 200
    path = agent.save(tmp_path / "agent.pt")
    loaded = actorcritic.load(path)
    np.testing.assert_array_equal(loaded.act(obs), action)
    assert loaded.global_step == 150 and len(loaded.buffer) == 150
    assert loaded.evaluate(2).returns == result.returns


def test_discrete_action_space_is_refused():
    with pytest.raises(actorcritic.UserError, match="continuous"):
        DDPG("CartPole-v1")


def test_non_finite_loss_stops_training_and_no_bad_checkpoint_is_written(tmp_path):
    cfg = DDPGConfig(**SMALL, eval_interval=0, log_interval=50)
    agent = DDPG("Pendulum-v1", cfg, seed=0, run_dir=tmp_path / "run", checkpoint_interval=150)
    agent.learn(150)
    with torch.no_grad():
        agent.learner.critic.weights[0][0, 0, 0] = float("nan")  # the critic loss becomes NaN from here on
    with pytest.raises(TrainingDiverged, match="loss"):
        agent.learn(300)
    kept = actorcritic.load(tmp_path / "run")
    assert kept.global_step == 150
    assert all(torch.isfinite(p).all() for p in kept.learner.critic.parameters())
