"""The on-policy family (REINFORCE, A2C, PPO, A3C): exact resume, normalisers, whole-episode rollouts,
the A3C worker interface and its processes, and the API on discrete and continuous envs."""

import contextlib

import numpy as np
import pytest
import torch
from gymnasium.wrappers.utils import RunningMeanStd

import actorcritic
from actorcritic import A2C, A3C, PPO, REINFORCE, A2CConfig, A3CConfig, A3CWorker, PPOConfig, REINFORCEConfig
from actorcritic.algos.a2c import normalize
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.runtime import loop

SMALL = {"hidden_sizes": (16, 16), "eval_episodes": 2}


def params(agent) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in agent.learner.model.state_dict().items()}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


PPO_NORMALIZED = PPOConfig(**SMALL, num_envs=2, num_steps=100, anneal_lr=False, normalize_obs=True,
                           normalize_reward=True, eval_interval=200, clip_value_loss=True)  # fmt: skip


@pytest.mark.parametrize(
    "cls, config",
    [
        (A2C, A2CConfig(**SMALL, num_envs=2, num_steps=5, eval_interval=200)),
        (PPO, PPO_NORMALIZED),
        (REINFORCE, REINFORCEConfig(**SMALL, num_envs=2, episodes_per_update=2, eval_interval=200)),
    ],
)
def test_resume_at_an_episode_boundary_is_bit_identical(tmp_path, cls, config):
    """Pendulum episodes are 200 steps: with 2 envs, step 800 is an episode boundary of both."""
    straight = cls("Pendulum-v1", config, seed=3, run_dir=tmp_path / "straight").learn(1600)
    first = cls("Pendulum-v1", config, seed=3, run_dir=tmp_path / "resumed").learn(800)
    first.close()
    resumed = actorcritic.load(tmp_path / "resumed")
    resumed.resume_in(tmp_path / "resumed")
    resumed.learn(800)
    assert resumed.global_step == straight.global_step == 1600
    assert resumed.num_updates == straight.num_updates > 0
    assert_same(params(resumed), params(straight))
    for a, b in zip(resumed.learner.optim.state.values(), straight.learner.optim.state.values(), strict=True):
        assert torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    if config.normalize_obs:
        np.testing.assert_array_equal(resumed.obs_normalizer.rms.mean, straight.obs_normalizer.rms.mean)
        scalers = (resumed.trainer.collector.return_scaler, straight.trainer.collector.return_scaler)
        np.testing.assert_array_equal(scalers[0].rms.var, scalers[1].rms.var)
        np.testing.assert_array_equal(scalers[0].discounted_return, scalers[1].discounted_return)
    assert resumed.summary()["final_eval_mean_return"] == straight.summary()["final_eval_mean_return"]


def test_reward_normaliser_tracks_the_discounted_return_to_each_episode_end():
    """normalize_reward: r_t / sqrt(var(G) + 1e-8), with G_t = gamma G_{t-1} + r_t tracked per env, its
    running variance updated every step, and G reset after an episode's last reward (gymnasium's
    NormalizeReward), recomputed here from the raw rewards across an episode end."""
    config = PPOConfig(**SMALL, num_envs=1, num_steps=250, normalize_reward=True)
    agent = PPO("Pendulum-v1", config, seed=0)
    raw, done, step = [], [], agent.runner.step

    def recording(actions):
        s = step(actions)
        raw.append(s.rewards.copy())
        done.append(s.terminated | s.truncated)
        return s

    agent.runner.step = recording
    loop._start(agent, contextlib.ExitStack())
    rollout = agent.trainer.collector.collect()
    assert any(d.any() for d in done)  # Pendulum's 200-step episode ends inside the rollout
    rms, g, want = RunningMeanStd(shape=()), np.zeros(1), []
    for r, d in zip(raw, done, strict=True):
        g = g * config.gamma + r
        rms.update(g)
        g[d] = 0.0
        want.append(r / np.sqrt(rms.var + 1e-8))
    torch.testing.assert_close(rollout.rewards[:, 0], torch.tensor(np.concatenate(want), dtype=torch.float32))


def test_observation_normaliser_is_used_in_evaluation_and_saved(tmp_path):
    agent = PPO("Pendulum-v1", PPOConfig(**SMALL, num_envs=2, num_steps=50, normalize_obs=True), seed=0).learn(200)
    rms = agent.obs_normalizer.rms
    assert rms.count > 200  # every collected observation
    obs = np.array([[0.3, -0.9, 4.0]], dtype=np.float32)
    normalized = (obs - rms.mean) / np.sqrt(rms.var + 1e-8)
    want = agent.learner.model.act(
        torch.as_tensor(np.clip(normalized, -10, 10), dtype=torch.float32), deterministic=True
    )
    np.testing.assert_allclose(agent.act(obs), agent.scaler.to_env(want.detach().numpy()), rtol=1e-5)
    agent.save(tmp_path / "a.pt")
    loaded = actorcritic.load(tmp_path / "a.pt")
    np.testing.assert_array_equal(loaded.obs_normalizer.rms.mean, rms.mean)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))


def test_reinforce_learns_from_whole_episodes_only():
    agent = REINFORCE("CartPole-v1", REINFORCEConfig(**SMALL, num_envs=3, episodes_per_update=4), seed=0)
    loop._start(agent, contextlib.ExitStack())
    collector = agent.trainer.collector
    for _ in range(3):
        rollout = collector.collect()
        done = rollout.terminated[:, 0] | rollout.truncated[:, 0]
        assert done[-1] and done.sum() >= 4  # a batch of complete episodes, one after another
        # gamma-discounted return to each episode's end: G_t = r_t + gamma G_{t+1}, restarting after each end
        g, want = 0.0, []
        for r, d in zip(reversed(rollout.rewards[:, 0].tolist()), reversed(done.tolist()), strict=True):
            g = r + agent.config.gamma * (0.0 if d else g)
            want.append(g)
        torch.testing.assert_close(rollout.returns[:, 0], torch.tensor(want[::-1]))
    assert sum(len(p) for p in collector.pending) > 0  # episodes still running wait for the next batch


@pytest.mark.parametrize("env, shape", [("CartPole-v1", ()), ("Pendulum-v1", (1,))])
def test_api_acts_in_the_env_action_space(env, shape):
    agent = A2C(env, A2CConfig(**SMALL, num_envs=2), seed=0).learn(100)
    space = agent.members[0].eval_envs[0].action_space if agent.members[0].eval_envs else None
    obs = np.zeros((5, agent.obs_dim), dtype=np.float32)
    actions = agent.act(obs)
    assert actions.shape == (5, *shape)
    single = agent.act(obs[0])
    assert np.shape(single) == shape
    if env == "CartPole-v1":
        assert actions.dtype == np.int64 and set(actions.tolist()) <= {0, 1}
    else:
        assert np.all(np.abs(actions) <= 2.0)  # Pendulum's torque bounds, clipped at the env boundary
    assert space is not None and agent.evaluate(2).mean_length > 0


def test_a3c_worker_interface_collect_gradients_parameters():
    """The call a back end drives, ``turn(params)``: the worker takes the parameters, collects a rollout
    and returns the gradient of A2C's loss (written out here) on it, its norm clipped."""
    config = A3CConfig(**SMALL, num_envs=2, num_steps=4)
    worker = A3CWorker("CartPole-v1", config, seed=0)
    other = A2C("CartPole-v1", config, seed=1)
    model = other.learner.model
    grads, metrics, episodes, steps = worker.turn(list(model.parameters()))
    assert_same(params(worker), params(other))
    rollout = worker.collector.rollout  # the rollout this turn collected
    assert rollout.obs.shape == (4, 2, 4) and steps == worker.steps_per_rollout == 8 and episodes == []
    b = rollout.batch()
    log_prob, entropy, value = model.evaluate_actions(b.obs, b.actions)
    loss = (
        -(b.advantages * log_prob).mean()
        + config.vf_coef * 0.5 * (value - b.returns).pow(2).mean()
        - config.ent_coef * entropy.mean()
    )
    want = torch.autograd.grad(loss, list(model.parameters()))
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in want]))
    scale = min(1.0, config.max_grad_norm / (float(norm) + 1e-6))
    for g, w in zip(grads, want, strict=True):
        torch.testing.assert_close(g, w * scale, rtol=1e-4, atol=1e-6)
    assert set(metrics) == set(worker.learner.metric_names) == set(A3C.spec.learner_cls.metric_names)
    worker.close()


def test_a3c_processes_train_the_global_model_and_checkpoint(tmp_path):
    agent = A3C("CartPole-v1", A3CConfig(**SMALL, num_workers=2, eval_interval=0), seed=0, run_dir=tmp_path / "run")
    before = params(agent)
    agent.learn(2_000)
    rollout = agent.config.num_steps * agent.config.num_envs
    assert 2_000 <= agent.global_step <= 2_000 + 2 * rollout  # each worker stops within a rollout of the end
    assert agent.num_updates == agent.global_step // rollout and agent.episodes_done > 0
    assert any(not torch.equal(before[k], v) for k, v in params(agent).items())
    assert not agent.trainer.workers  # all joined
    agent.close()
    loaded = actorcritic.load(tmp_path / "run")
    assert_same(params(loaded), params(agent))
    assert (tmp_path / "run" / "plots" / "returns.png").exists()


@pytest.mark.parametrize("cls", [A2C, PPO, REINFORCE, A3C])
def test_one_seed_at_a_time_and_no_compile(cls):
    with pytest.raises(UserError, match="one seed"):
        cls("CartPole-v1", seed=[0, 1])
    with pytest.raises(UserError, match="compile"):
        cls("CartPole-v1", compile=True)


@pytest.mark.parametrize(
    "cls, kwargs, words",
    [
        (PPOConfig, {"num_minibatches": 10_000}, "num_minibatches"),
        (PPOConfig, {"clip_coef": 0.0}, "clip_coef"),
        (A2CConfig, {"gae_lambda": 1.5}, "gae_lambda"),
        (A2CConfig, {"num_steps": 0}, "num_steps"),
        (A3CConfig, {"num_workers": 0}, "num_workers"),
        (A3CConfig, {"normalize_obs": True}, "normalize_obs"),
        (A3CConfig, {"anneal_lr": True}, "anneal_lr"),
        (REINFORCEConfig, {"episodes_per_update": 0}, "episodes_per_update"),
    ],
)
def test_bad_configs_are_user_errors(cls, kwargs, words):
    with pytest.raises(UserError, match=words):
        cls(**kwargs)


def test_a3c_evaluates_a_paused_model_and_stops_at_the_target_with_it():
    """Workers hold during an evaluation: stopping at the target keeps the very model that reached it."""
    config = A3CConfig(**SMALL, num_workers=2, eval_interval=1_000, stop_at_target=True, target_return=0.0)
    agent = A3C("CartPole-v1", config, seed=0)
    agent.learn(50_000)
    assert agent.solved_at_step is not None and agent.global_step == agent.solved_at_step < 50_000
    assert agent.clock.last_eval_step == agent.global_step  # no further worker step, so no second final evaluation
    again = agent.evaluate(round_id=agent.global_step)
    assert again.returns == agent.last_eval.returns  # the same model, the same seeded episodes
    agent.close()


def test_a3c_worker_failure_stops_the_run_with_its_error_not_a_hang():
    """A worker diverges (NaN rewards from its 60th step) while the main process pauses the workers for
    evaluations every 20 steps: the run stops with the worker's error."""
    config = A3CConfig(**SMALL, num_workers=2, num_steps=5, eval_interval=20)
    agent = A3C("toy_envs:NaNRewardEnv", config, seed=0)
    with pytest.raises(TrainingDiverged, match="A3C worker"):
        agent.learn(10_000)
    assert not agent.trainer.workers
    agent.close()


def test_normalize_and_minibatches_handle_uneven_and_single_items():
    assert normalize(torch.tensor([3.0])).item() == 0.0
    agent = PPO("CartPole-v1", PPOConfig(**SMALL, num_envs=4, num_steps=9, num_minibatches=8), seed=0)
    buf = agent.trainer.collector.rollout
    sizes = [len(b.obs) for b in buf.minibatches(8, torch.Generator().manual_seed(0))]
    assert sizes == [5, 5, 5, 5, 4, 4, 4, 4]


def test_ppo_with_tiny_minibatches_trains_without_nan():
    agent = PPO("CartPole-v1", PPOConfig(**SMALL, num_envs=1, num_steps=9, num_minibatches=8), seed=0).learn(200)
    assert all(torch.isfinite(p).all() for p in agent.learner.model.parameters())
