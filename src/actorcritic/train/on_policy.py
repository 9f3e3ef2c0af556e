"""The on-policy loop, shared by REINFORCE, A2C, PPO (and each A3C worker): collect a rollout with the
current policy, learn from it once, throw it away.

A rollout is ``num_steps`` vector steps of ``num_envs`` envs (REINFORCE: whole episodes). At each step it
stores the observation, the sampled action, log pi(a|s) and V(s); where an episode is truncated it also
stores V(final observation), so the return bootstraps there; where it terminates nothing is
bootstrapped. GAE(lambda) then gives advantages and value targets. An algorithm subclass owns only its
``update(rollout)``; evaluation, logging and checkpoints are ``Agent``'s (train/agent.py).

Optional normalisers (PPO's usual wrappers, done here so that evaluation and checkpoints see the same
statistics): observations by a running mean and std, rewards by the running std of the discounted return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from gymnasium.wrappers.utils import RunningMeanStd

from actorcritic.core.buffers import RolloutBuffer
from actorcritic.core.optim import gradient_step
from actorcritic.core.policies import ActorCritic
from actorcritic.envs.make import episode_seed
from actorcritic.errors import UserError
from actorcritic.train.agent import Agent, AgentConfig, need

OBS_CLIP = 10.0  # normalised observations are clipped to +-10 (as gymnasium's and SB3's normalisers do)


@dataclass(frozen=True)
class OnPolicyConfig(AgentConfig):
    """Settings shared by the on-policy algorithms: rollouts, the actor-critic network, the loss."""

    num_envs: int = 8
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and value MLPs."""
    activation: Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"] = "tanh"
    """Hidden-layer activation."""
    max_grad_norm: float | None = 0.5
    """Clip the gradient norm to this value (None: no clipping)."""
    eval_interval: int = 10_000
    """Evaluate the deterministic policy every this many env steps (0: only at the end)."""
    log_interval: int = 5_000
    """Write a metrics row (CSV + TensorBoard) every this many env steps."""
    # --- rollouts and returns
    num_steps: int = 5
    """Steps of each env per rollout (the n of n-step returns); a rollout is num_steps * num_envs steps."""
    gae_lambda: float = 1.0
    """GAE lambda: 1 = Monte Carlo returns bootstrapped at the rollout's end, 0 = one-step TD targets."""
    # --- the loss and the optimizer
    learning_rate: float = 7e-4
    """Learning rate of the policy and value networks."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Adam (eps 1e-5), or RMSprop (alpha 0.99, eps 1e-5) as in the A2C/A3C papers."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the run's total steps."""
    ent_coef: float = 0.01
    """Entropy bonus beta: the loss subtracts beta * H(pi(.|s))."""
    vf_coef: float = 0.5
    """Weight of the value loss 0.5 * (V(s) - G)^2."""
    normalize_advantage: bool = False
    """Standardise advantages within each (mini)batch."""
    # --- the network
    shared_trunk: bool = False
    """Policy and value share their hidden layers (two heads on one trunk) instead of two MLPs."""
    state_dependent_std: bool = False
    """Gaussian policies: the log-std is a head of the network, not a learned vector."""
    squash: bool = False
    """Gaussian policies: squash actions with tanh (otherwise they are clipped to the bounds)."""
    init_log_std: float = 0.0
    """Gaussian policies: initial log-std (state-independent)."""
    # --- normalisation
    normalize_obs: bool = False
    """Normalise observations by a running mean and std (kept in checkpoints, used in evaluation)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return (training only)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.num_steps >= 1, f"num_steps must be >= 1, got {self.num_steps}")
        need(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        need(self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}")
        need(self.ent_coef >= 0 and self.vf_coef >= 0, "ent_coef and vf_coef must be >= 0")


class OnPolicyAgent(Agent):
    """An on-policy actor-critic agent and its loop (one seed; Discrete or bounded Box actions).

    Subclasses set ``algo``, ``config_cls`` and ``metric_names``, and define ``update(rollout)``.
    """

    config_cls: ClassVar[type[OnPolicyConfig]]
    config: OnPolicyConfig
    checkpointed = ("model", "optim")
    discrete_actions = True

    def __init__(
        self,
        env: str = "CartPole-v1",
        config: OnPolicyConfig | None = None,
        seed: int = 0,
        run_dir: str | Path | None = None,
        checkpoint_interval: int | None = None,
        device: str = "cpu",
        compile: bool = False,
        env_kwargs: dict[str, Any] | None = None,
    ):
        if not isinstance(seed, int | np.integer):
            raise UserError(f"{self.algo.upper()} trains one seed at a time (--seeds is for DDPG, TD3 and SAC)")
        if compile:
            raise UserError(f"--compile is for DDPG, TD3 and SAC; {self.algo.upper()}'s updates run eagerly")
        super().__init__(env, config, int(seed), run_dir, checkpoint_interval, device, env_kwargs)
        cfg = self.config
        self.discrete = self.scaler is None
        self.rollout = RolloutBuffer(
            cfg.num_steps, cfg.num_envs, self.obs_dim, self.action_shape, self.discrete, self.device
        )
        self.obs_rms = RunningMeanStd(shape=(self.obs_dim,)) if cfg.normalize_obs else None
        self.return_rms = RunningMeanStd(shape=()) if cfg.normalize_reward else None
        self.discounted_return = np.zeros(cfg.num_envs)
        self._obs_stats: tuple[torch.Tensor, torch.Tensor] | None = None  # obs_rms as tensors, refreshed per step

    def build(self, obs_dim: int, action_dim: int) -> None:
        cfg = self.config
        kind = {"num_actions": action_dim} if self.scaler is None else {"action_dim": action_dim}
        with torch.random.fork_rng():  # the initial weights come from the seed alone
            torch.manual_seed(episode_seed(self.members[0].seed, 0))
            self.model = ActorCritic(
                obs_dim, cfg.hidden_sizes, cfg.activation, **kind, shared_trunk=cfg.shared_trunk,
                state_dependent_std=cfg.state_dependent_std, squash=cfg.squash, init_log_std=cfg.init_log_std,
            ).to(self.device)  # fmt: skip
        self.params = list(self.model.parameters())
        self.optim = make_optimizer(cfg, self.params)

    # ----------------------------------------------------------------- algorithm interface
    def update(self, rollout: RolloutBuffer) -> dict[str, torch.Tensor]:
        """Learn from one finished rollout; returns detached scalar metrics named by ``metric_names``."""
        raise NotImplementedError

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.model.act(self.normalize_obs(obs), deterministic, self.generator)

    def gradient_step(self, loss: torch.Tensor) -> None:
        """One optimizer step on ``loss``, the gradient norm clipped to max_grad_norm."""
        gradient_step(self.optim, loss, self.params, self.config.max_grad_norm)
        self.num_updates += 1

    def actor_critic_loss(
        self, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor, returns: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The advantage actor-critic loss (REINFORCE with baseline, A2C, A3C):

        L = -mean A log pi(a|s)  +  vf_coef * mean 0.5 (V(s) - G)^2  -  ent_coef * mean H(pi(.|s))
        """
        cfg = self.config
        log_prob, entropy, value = self.model.evaluate_actions(obs, actions)
        if cfg.normalize_advantage:
            advantages = normalize(advantages)
        policy_loss = -(advantages * log_prob).mean()
        value_loss = 0.5 * (value - returns).pow(2).mean()
        loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy.mean()
        metrics = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy.mean()}
        return loss, {k: v.detach() for k, v in metrics.items()}

    # ----------------------------------------------------------------- the loop
    def _advance(self) -> None:
        rollout = self.collect()
        started = time.perf_counter()
        if self.config.anneal_lr and self.planned_total_steps:
            remaining = max(0.0, 1.0 - self.global_step / self.planned_total_steps)
            for group in self.optim.param_groups:
                group["lr"] = self.config.learning_rate * remaining
        metrics = self.update(rollout)
        if not bool(torch.isfinite(torch.stack(list(metrics.values()))).all()):  # one sync per rollout
            self._diverged("loss")
        self._record_metrics(metrics)
        self.update_seconds += time.perf_counter() - started

    @torch.no_grad()
    def collect(self) -> RolloutBuffer:
        """Run the current policy for num_steps vector steps; the rollout with advantages and returns."""
        cfg, rollout = self.config, self.rollout
        rollout.step = 0  # a collection interrupted earlier (Ctrl-C in a notebook) starts over
        for _ in range(cfg.num_steps):
            obs, actions, log_probs, values, rewards, terminated, truncated, final_values = self._collect_step()
            rollout.final_values[rollout.step] = final_values
            rollout.add(obs, actions, log_probs, values, rewards, terminated, truncated)
        rollout.finish(self.model.value(self.normalize_obs(self._as_tensor(self.obs))), cfg.gamma, cfg.gae_lambda)
        return rollout

    def _collect_step(self) -> tuple:
        """One vector step with the current policy: (obs (normalised), actions, log pi(a|s), V(s), rewards
        (scaled), terminated, truncated, V(final observation) where truncated and 0 elsewhere)."""
        obs = self.normalize_obs(self._as_tensor(self.obs), update=True)
        actions, log_probs, values = self.model.sample(obs, self.generator)
        _, next_obs, rewards, terminated, truncated = self._step_envs(actions.cpu().numpy())
        final_values = torch.zeros(len(truncated), device=self.device)
        if truncated.any():  # bootstrap from the true final observation
            final = self.normalize_obs(self._as_tensor(next_obs[truncated]))
            final_values[torch.as_tensor(truncated)] = self.model.value(final)
        rewards = self.scale_rewards(rewards, terminated | truncated)
        return obs, actions, log_probs, values, rewards, terminated, truncated, final_values

    def _as_tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(obs, dtype=torch.float32, device=self.device)

    def normalize_obs(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """(obs - mean) / std by the running statistics, clipped to +-10 (unchanged without normalize_obs).

        ``update`` first adds the batch to the statistics (collection does; evaluation never does)."""
        if self.obs_rms is None:
            return obs
        if update:
            self.obs_rms.update(obs.reshape(-1, self.obs_dim).cpu().numpy().astype(np.float64))
            self._obs_stats = None
        if self._obs_stats is None:
            self._obs_stats = self.obs_mean_std()
        mean, std = self._obs_stats
        return ((obs - mean) / std).clamp(-OBS_CLIP, OBS_CLIP)

    def obs_mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The observation normaliser's mean and std (sqrt(var + 1e-8)), float32, as normalize_obs uses them."""
        mean = torch.as_tensor(self.obs_rms.mean, dtype=torch.float32, device=self.device)
        std = torch.as_tensor(np.sqrt(self.obs_rms.var + 1e-8), dtype=torch.float32, device=self.device)
        return mean, std

    def scale_rewards(self, rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
        """r / std(discounted return), the return tracked per env and reset at episode ends."""
        if self.return_rms is None:
            return rewards
        self.discounted_return = self.discounted_return * self.config.gamma + rewards
        self.return_rms.update(self.discounted_return)
        self.discounted_return[done] = 0.0
        return rewards / np.sqrt(self.return_rms.var + 1e-8)

    def _resume_mid_episode(self, mask: np.ndarray) -> None:
        self.discounted_return[mask] = 0.0  # those envs start a fresh episode
        super()._resume_mid_episode(mask)

    # ----------------------------------------------------------------- state
    def _extra_state(self, member: int, include_buffer: bool) -> dict[str, Any]:
        rms = {
            name: {"mean": r.mean.tolist(), "var": r.var.tolist(), "count": float(r.count)}
            for name, r in (("obs", self.obs_rms), ("return", self.return_rms))
            if r is not None
        }
        return {"normalizers": rms, "discounted_return": self.discounted_return.tolist()}

    def _load_extra_state(self, states: list[dict[str, Any]]) -> None:
        state = states[0]
        for name, r in (("obs", self.obs_rms), ("return", self.return_rms)):
            if r is not None:
                saved = state["normalizers"][name]
                r.mean, r.var, r.count = np.asarray(saved["mean"]), np.asarray(saved["var"]), saved["count"]
        self._obs_stats = None
        self.discounted_return = np.asarray(state["discounted_return"], dtype=np.float64)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Standardise to mean 0, std 1 (advantage normalisation); a single value is only centred."""
    centred = x - x.mean()
    return centred / (x.std() + 1e-8) if x.numel() > 1 else centred


def make_optimizer(config: OnPolicyConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Adam (eps 1e-5), or RMSprop (alpha 0.99, eps 1e-5) as in the A2C/A3C papers."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, config.learning_rate, alpha=0.99, eps=1e-5)
    return torch.optim.Adam(params, config.learning_rate, eps=1e-5)
