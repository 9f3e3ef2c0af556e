"""What every agent shares, whichever loop trains it: envs, members, evaluation, logging, checkpoints.

A family's loop (``off_policy.py``, ``on_policy.py``) subclasses ``Agent`` and defines ``_advance`` (one
turn of its loop: an env step and maybe an update, or a rollout and its update). ``Agent.learn`` owns
the rest of time: when to evaluate, log and checkpoint, the progress bar, and the end of the run.

Episode ends under Gymnasium 1.x: the vector env runs with autoreset disabled and ``_step_envs``
resets a finished env itself, so the observation returned with ``terminated``/``truncated`` is the true
final observation. Truncation can then bootstrap from it, termination never does, and no transition
ever crosses a reset.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from actorcritic.config import config_to_dict
from actorcritic.core.members import member_state, stack_states
from actorcritic.core.spaces import ActionScaler, flat_box_dim
from actorcritic.envs.make import episode_seed, make_env, make_vector_env
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.train import checkpoint as ckpt
from actorcritic.train.evaluation import EvalResult, evaluate_multi_agent, evaluate_policies
from actorcritic.train.run_dir import CONFIG, SUMMARY, check_new_run_dir, create_run_dir, write_json

CHECKPOINT_FORMAT = 2  # 2: stacked member-major networks (seed groups)

# Envs Gymnasium registers without a reward_threshold, and the threshold the field uses for them.
KNOWN_THRESHOLDS = {"Pendulum-v1": -200.0}  # "solved" at return > -200 (seed 002, common practice)


def need(ok: bool, msg: str) -> None:
    """Raise a UserError with ``msg`` unless ``ok`` (config validation)."""
    if not ok:
        raise UserError(msg)


@dataclass(frozen=True)
class AgentConfig:
    """Settings every algorithm has: the envs, the networks' shape, evaluation and logging."""

    num_envs: int = 1
    """Parallel envs (gymnasium.vector); each vector step adds num_envs env steps."""
    vectorization: Literal["sync", "async"] = "sync"
    """Run the envs in this process ('sync') or one subprocess each ('async', for slow envs)."""
    gamma: float = 0.99
    """Discount factor."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and critic MLPs."""
    activation: Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"] = "relu"
    """Hidden-layer activation."""
    max_grad_norm: float | None = None
    """Clip each network's gradient norm to this value (None: no clipping)."""
    eval_interval: int = 1000
    """Evaluate the deterministic policy every this many env steps (0: only at the end)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    target_return: float | None = None
    """Mean eval return that counts as solved (None: the env's reward_threshold, if known)."""
    stop_at_target: bool = False
    """Stop training as soon as an evaluation reaches target_return."""
    log_interval: int = 1000
    """Write a metrics row (CSV + TensorBoard) every this many env steps."""

    def __post_init__(self) -> None:
        need(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("num_envs", "eval_episodes", "log_interval"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        need(self.eval_interval >= 0, f"eval_interval must be >= 0, got {self.eval_interval}")
        need(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm must be positive")
        need(
            len(self.hidden_sizes) >= 1 and min(self.hidden_sizes) >= 1,
            "hidden_sizes must be positive",
        )


class Member:
    """One agent of a group: its seed, RNG streams, exploration noise, run directory and statistics.

    Its networks, optimizer moments and replay data are block m of the group's stacked ones.
    """

    def __init__(self, seed: int, device: torch.device, run_dir: Path | None, noise: Any = None):
        self.seed = seed
        self.noise = noise
        self.init_generator = torch.Generator().manual_seed(episode_seed(seed, 0))  # network weights
        self.explore_generator = torch.Generator().manual_seed(episode_seed(seed, 3))  # random warm-up actions
        # Randomness inside the algorithm (action samples, TD3's target smoothing, minibatch order).
        self.generator = torch.Generator(device).manual_seed(episode_seed(seed, 4))
        self.run_dir = run_dir
        self.logger: Any = None
        self.resume_step: int | None = None
        self.eval_env: Any = None
        self.episodes_done = 0
        self.recent_returns: deque[float] = deque(maxlen=20)
        self.recent_lengths: deque[int] = deque(maxlen=20)
        self.last_eval: EvalResult | None = None
        self.best_eval_return = -math.inf
        self.solved_at_step: int | None = None


def _first_member(name: str) -> property:
    """``agent.<name>``: the first member's (for an agent trained alone, its own)."""
    return property(
        lambda self: getattr(self.members[0], name),
        lambda self, value: setattr(self.members[0], name, value),
        doc=f"The first member's {name} (for an agent trained alone, its own).",
    )


class Agent:
    """An agent, its envs and what surrounds its training loop.

    ``seed`` may be a list of seeds (where the family supports it): one member per seed, trained
    together as one batched computation, each with its own parameters, envs, RNG streams and run
    directory (``run_dir/seed<S>``).

    Subclasses set ``algo``, ``config_cls``, ``metric_names`` and ``checkpointed``, and define
    ``build`` (networks and optimizers), ``policy`` and ``_advance``.
    """

    algo: ClassVar[str]
    config_cls: ClassVar[type[AgentConfig]]
    metric_names: ClassVar[tuple[str, ...]]
    checkpointed: ClassVar[tuple[str, ...]]  # attribute names of modules and optimizers to save
    discrete_actions: ClassVar[bool] = False  # whether the family accepts a Discrete action space

    def __init__(
        self,
        env: str = "Pendulum-v1",
        config: AgentConfig | None = None,
        seed: int | Sequence[int] = 0,
        run_dir: str | Path | Sequence[str | Path] | None = None,
        checkpoint_interval: int | None = None,
        device: str = "cpu",
        env_kwargs: dict[str, Any] | None = None,
    ):
        self.config = config if config is not None else self.config_cls()
        if not isinstance(self.config, self.config_cls):
            raise UserError(f"{type(self).__name__} needs a {self.config_cls.__name__}")
        seeds = [int(seed)] if isinstance(seed, int | np.integer) else [int(s) for s in seed]
        if not seeds or len(set(seeds)) != len(seeds):
            raise UserError(f"seeds must be distinct and at least one, got {seeds}")
        self.env_id, self.env_kwargs, self.device = env, dict(env_kwargs or {}), _device(device)
        self.checkpoint_interval = checkpoint_interval

        probe = make_env(env, **self.env_kwargs)  # fails early, with a clear message, on an unknown env
        # A multi-agent env (Swarm-v0) is a vector env of its own, one sub-env per agent, one shared policy.
        self.multi_agent = isinstance(probe, gym.vector.VectorEnv)
        if self.multi_agent:
            if len(seeds) > 1:
                raise UserError(
                    f"--seeds with the multi-agent env '{env}' is not supported; train its seeds one by one"
                )
            self.config = self._with_num_envs(probe.num_envs)
        name = self.algo.upper()
        obs_space = probe.single_observation_space if self.multi_agent else probe.observation_space
        action_space = probe.single_action_space if self.multi_agent else probe.action_space
        self.obs_dim = flat_box_dim(obs_space, "observation", name)
        self._set_action_space(action_space, name)
        self.env_metric_names: tuple[str, ...] = tuple(getattr(probe, "metric_names", ()))
        self.target_return = self.config.target_return
        if self.target_return is None and probe.spec is not None:
            self.target_return = probe.spec.reward_threshold or KNOWN_THRESHOLDS.get(probe.spec.id)
        probe.close()
        self._check_setup(len(seeds))  # before any run directory is made

        run_dirs = _member_run_dirs(run_dir, seeds)
        self.members = [
            Member(s, self.device, d, self._make_noise(episode_seed(s, 2)))
            for s, d in zip(seeds, run_dirs, strict=True)
        ]
        self.num_members = len(seeds)
        self.build(self.obs_dim, self.action_dim)

        self.envs: Any = None  # made on first learn(); an agent loaded for eval needs none
        self.obs: np.ndarray | None = None
        self.global_step = self.vector_steps = self.num_updates = 0
        num_envs = self.num_members * self.config.num_envs  # env j belongs to member j // num_envs
        self.episode_index = np.zeros(num_envs, dtype=np.int64)  # episode running in each env
        self.episode_return = np.zeros(num_envs)
        self.episode_length = np.zeros(num_envs, dtype=np.int64)
        self.last_eval_step = -1
        self.wall_seconds = self.update_seconds = 0.0
        self._metric_sums = torch.zeros(len(self.metric_names), self.num_members, device=self.device)
        self._metric_count = 0
        self._env_metric_sums = np.zeros(len(self.env_metric_names))  # what a multi-agent env reports in info
        self._env_metric_count = 0
        self.planned_total_steps: int | None = None  # the total the current learn() aims for
        self.worker_restarts = 0  # Ray back end: workers Ray restarted after their process died
        # Called after each evaluation during training with (step, the first member's mean return); a tuner
        # reports to its pruner here, and may raise to stop the run.
        self.on_evaluation: Callable[[int, float], None] | None = None

    seed = _first_member("seed")
    run_dir = _first_member("run_dir")
    noise = _first_member("noise")
    generator = _first_member("generator")
    explore_generator = _first_member("explore_generator")
    last_eval = _first_member("last_eval")
    best_eval_return = _first_member("best_eval_return")
    solved_at_step = _first_member("solved_at_step")
    recent_returns = _first_member("recent_returns")
    episodes_done = _first_member("episodes_done")

    @property
    def generators(self) -> list[torch.Generator]:
        """One per member: the algorithm's own randomness (action samples, TD3's target smoothing)."""
        return [m.generator for m in self.members]

    @property
    def init_generators(self) -> list[torch.Generator]:
        """One per member, for ``build``: member m's initial weights come from its own generator."""
        return [m.init_generator for m in self.members]

    # ----------------------------------------------------------------- family and algorithm interface
    def build(self, obs_dim: int, action_dim: int) -> None:
        raise NotImplementedError

    def policy(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """Actions for observations [members, batch, obs_dim]: normalised to [-1, 1] for a Box action
        space (the env's bounds are applied at the env boundary), indices for a Discrete one."""
        raise NotImplementedError

    def _advance(self) -> None:
        """One turn of the family's loop (env steps and the updates they call for)."""
        raise NotImplementedError

    def _check_setup(self, num_seeds: int) -> None:
        """Refuse, with a UserError, what the family cannot train (given the env, seeds and config)."""

    def _stop_workers(self) -> None:
        """End the family's worker processes or actors, if it has any (at the end of learn(), and in close())."""

    def _make_noise(self, seed: int) -> Any:
        """A member's exploration noise (None: the policy explores on its own)."""
        return None

    def _with_num_envs(self, num_envs: int) -> AgentConfig:
        return dataclasses.replace(self.config, num_envs=num_envs)

    def _set_action_space(self, space: gym.Space, name: str) -> None:
        if self.discrete_actions and isinstance(space, gym.spaces.Discrete):
            self.scaler, self.action_dim, self.action_shape = None, int(space.n), ()
            return
        self.scaler = ActionScaler(space, name)
        self.action_dim = int(space.shape[0])
        self.action_shape: tuple[int, ...] = (self.action_dim,)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        """Library actions -> the env's: [-1, 1] -> [low, high] for a Box, indices as they are."""
        return actions.astype(np.int64) if self.scaler is None else self.scaler.to_env(actions)

    def _on_new_episodes(self, mask: np.ndarray) -> None:
        """Envs in ``mask`` start a fresh episode (after an episode end, or on resuming mid-episode)."""
        for m, member_mask in zip(self.members, mask.reshape(self.num_members, -1), strict=True):
            if m.noise is not None and member_mask.any():
                m.noise.reset(torch.as_tensor(member_mask))

    def _resume_mid_episode(self, mask: np.ndarray) -> None:
        """Envs in ``mask`` were mid-episode when the checkpoint was written; they start a new one."""
        self._on_new_episodes(mask)

    def _extra_state(self, member: int, include_buffer: bool) -> dict[str, Any]:
        """What the family adds to a member's checkpoint."""
        return {}

    def _load_extra_state(self, states: list[dict[str, Any]]) -> None:
        """Restore what ``_extra_state`` added."""

    # ----------------------------------------------------------------- public API
    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions in the env's units. Alone: for one observation or a batch of them. In a group: for
        observations with a leading members axis, [M, obs_dim] or [M, B, obs_dim]."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        if self.num_members > 1 and (obs_t.dim() < 2 or obs_t.shape[0] != self.num_members):
            raise UserError(f"a group of {self.num_members} agents acts on observations [members, ..., obs_dim]")
        shape = obs_t.shape
        obs_t = obs_t.reshape(self.num_members, -1, self.obs_dim)
        actions = self.policy(obs_t, deterministic).reshape(tuple(shape[:-1]) + self.action_shape).cpu().numpy()
        return self._to_env(actions)

    def evaluate(
        self, episodes: int | None = None, round_id: int | None = None, on_frame=None, seed: int | None = None
    ) -> EvalResult:
        """Mean and std of return and length over ``episodes`` deterministic episodes (the first member)."""
        return self.evaluate_members(episodes, round_id, on_frame, seed)[0]

    def evaluate_members(
        self, episodes: int | None = None, round_id: int | None = None, on_frame=None, seed: int | None = None
    ) -> list[EvalResult]:
        """Every member's deterministic policy on its own eval env, all members stepping together."""
        for m in self.members:
            if on_frame is not None and m.eval_env is not None and m.eval_env.render_mode != "rgb_array":
                m.eval_env.close()  # made without frames (an evaluation during training): make one that renders
                m.eval_env = None
            if m.eval_env is None:
                m.eval_env = make_env(self.env_id, render_mode="rgb_array" if on_frame else None, **self.env_kwargs)
        seeds = [m.seed for m in self.members] if seed is None else [seed] * self.num_members
        round_id = self.global_step if round_id is None else round_id
        if self.multi_agent:
            env, episodes = self.members[0].eval_env, episodes or self.config.eval_episodes
            return [evaluate_multi_agent(env, self.act, episodes, seeds[0], round_id, self.env_metric_names, on_frame)]
        return evaluate_policies(
            [m.eval_env for m in self.members],
            self.act,
            episodes or self.config.eval_episodes,
            seeds,
            round_id,
            on_frame,
        )

    def learn(self, steps: int, progress: bool = False) -> Agent:
        """Train for ``steps`` more env steps (evaluating, logging and checkpointing on the way)."""
        if steps < 0:
            raise UserError(f"steps must be >= 0, got {steps}")
        end = self.global_step + steps
        self.planned_total_steps = end
        self._start()
        bar = _ProgressBar(self.global_step, end) if progress else None
        started = time.perf_counter()
        try:
            while self.global_step < end:
                before = self.global_step
                self._advance()
                self.wall_seconds += time.perf_counter() - started
                started = time.perf_counter()
                self._periodic(before)
                if bar is not None:
                    bar.update(self)
                if self._solved():
                    break
            self.wall_seconds += time.perf_counter() - started
            self._finish()
        finally:
            self._stop_workers()
            if bar is not None:
                bar.update(self, force=True)
                bar.close()
            for m in self.members:
                if m.logger is not None:
                    m.logger.flush()
        return self

    def save(self, path: str | Path, member: int = 0) -> Path:
        """Write a full checkpoint (resumable) of one member to ``path``, atomically."""
        return ckpt.save_checkpoint(self.state_dict(member), path)

    def close(self) -> None:
        self._stop_workers()
        for env in (self.envs, *(m.eval_env for m in self.members)):
            if env is not None:
                env.close()
        for m in self.members:
            if m.logger is not None:
                m.logger.close()
                m.logger = None

    # ----------------------------------------------------------------- the loop
    def _start(self) -> None:
        for i, m in enumerate(self.members):
            if m.run_dir is not None and m.logger is None:
                from actorcritic.train.logging import RunLogger

                m.logger = RunLogger(m.run_dir, self._log_columns(), m.resume_step)
            if m.run_dir is not None:
                write_json(m.run_dir / CONFIG, self.run_info(i))  # total_steps may have grown
        self._start_envs()

    def _start_envs(self) -> None:
        cfg = self.config
        if self.envs is None:
            self.envs = make_vector_env(
                self.env_id, self.num_members * cfg.num_envs, cfg.vectorization, **self.env_kwargs
            )
        if self.obs is None:
            # A fresh start, or a resume: envs mid-episode start a fresh episode; envs at an episode
            # boundary replay exactly the reset the uninterrupted run would have made.
            mid_episode = self.episode_length > 0
            if mid_episode.any():
                self.episode_index[mid_episode] += 1
                self._resume_mid_episode(mid_episode)
            self.episode_return[:] = 0.0
            self.episode_length[:] = 0
            self.obs, _ = self.envs.reset(seed=self._episode_seeds(np.ones(len(self.episode_index), dtype=bool)))

    def _episode_seeds(self, mask: np.ndarray) -> list[int | None]:
        """The reset seed of the next episode of every env in ``mask`` (env j: member j // num_envs)."""
        n = self.config.num_envs
        return [
            episode_seed(self.members[j // n].seed, j % n, int(k)) if d else None
            for j, (k, d) in enumerate(zip(self.episode_index, mask, strict=True))
        ]

    def _step_envs(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step every env with library ``actions``; reset the envs whose episode ended.

        Returns (obs, next_obs, rewards, terminated, truncated), where ``next_obs`` is the true final
        observation where an episode ended; ``self.obs`` moves on to the reset observation there.
        """
        next_obs, rewards, terminated, truncated, info = self.envs.step(self._to_env(actions))
        if self.env_metric_names:
            self._env_metric_sums += [info[name] for name in self.env_metric_names]
            self._env_metric_count += 1
        if not (np.isfinite(next_obs).all() and np.isfinite(rewards).all()):
            self._diverged("observation or reward")
        obs = self.obs
        self.vector_steps += 1
        self.global_step += self.config.num_envs
        self.episode_return += rewards
        self.episode_length += 1
        done = terminated | truncated
        self.obs = next_obs
        if done.any():
            self._end_episodes(done)
            reset_obs, _ = self.envs.reset(seed=self._episode_seeds(done), options={"reset_mask": done})
            self.obs = np.where(done[:, None], reset_obs, next_obs)
        return obs, next_obs, rewards, terminated, truncated

    def _end_episodes(self, done: np.ndarray) -> None:
        n = self.config.num_envs
        for j in np.flatnonzero(done):
            self._record_episode(j // n, int(j % n), float(self.episode_return[j]), int(self.episode_length[j]))
        self.episode_return[done] = 0.0
        self.episode_length[done] = 0
        self.episode_index[done] += 1
        self._on_new_episodes(done)

    def _record_episode(self, member: int, env: int, ret: float, length: int) -> None:
        """A finished training episode: into the member's statistics and its episodes.csv."""
        m = self.members[member]
        m.recent_returns.append(ret)
        m.recent_lengths.append(length)
        m.episodes_done += 1
        if m.logger is not None:
            m.logger.log_episode(self.global_step, env, ret, length)

    def _record_metrics(self, metrics: dict[str, torch.Tensor]) -> None:
        """Add one update's per-member metrics to the running sums of the next log row (no host sync)."""
        self._metric_sums += torch.stack([metrics[k].reshape(self.num_members) for k in self.metric_names])
        self._metric_count += 1

    def _due(self, before: int) -> tuple[bool, bool, bool]:
        """Whether (evaluate, log, checkpoint) are due, their intervals crossed since step ``before``."""
        step = self.global_step

        def crossed(interval: int | None) -> bool:
            return bool(interval) and step // interval > before // interval

        evaluate = crossed(self.config.eval_interval)
        return evaluate, evaluate or crossed(self.config.log_interval), crossed(self.checkpoint_interval)

    def _periodic(self, before: int) -> None:
        evaluate, log, checkpoint = self._due(before)
        if evaluate:
            self._evaluate_and_track()
        if log:
            self._log(with_eval=evaluate)
        if checkpoint:
            self._checkpoint()

    def _solved(self) -> bool:
        """Whether training stops here: stop_at_target, and every member reached the target."""
        return self.config.stop_at_target and all(m.solved_at_step is not None for m in self.members)

    def _evaluate_and_track(self) -> None:
        results = self.evaluate_members()
        self.last_eval_step = self.global_step
        for i, (m, result) in enumerate(zip(self.members, results, strict=True)):
            m.last_eval = result
            if result.mean_return > m.best_eval_return:
                m.best_eval_return = result.mean_return
                if m.run_dir is not None:
                    self._check_finite()
                    best = m.run_dir / "checkpoints" / ckpt.BEST
                    ckpt.save_checkpoint(self.state_dict(i, include_buffer=False), best)
            if m.solved_at_step is None and self.target_return is not None and result.mean_return >= self.target_return:
                m.solved_at_step = self.global_step
        if self.on_evaluation is not None:
            self.on_evaluation(self.global_step, results[0].mean_return)

    def _log(self, with_eval: bool) -> None:
        means = (self._metric_sums / max(1, self._metric_count)).tolist()  # the one host sync per log
        if self._metric_count and not all(math.isfinite(v) for row in means for v in row):
            self._diverged("loss")
        env_means = self._env_metric_sums / max(1, self._env_metric_count)
        for i, m in enumerate(self.members):
            row: dict[str, Any] = {
                "step": self.global_step,
                "wall_time": round(self.wall_seconds, 3),
                "sps": round(self.global_step / self.wall_seconds, 1) if self.wall_seconds else 0.0,
                "updates": self.num_updates,
                "episodes": m.episodes_done,
                "episodic_return": float(np.mean(m.recent_returns)) if m.recent_returns else None,
                "episodic_length": float(np.mean(m.recent_lengths)) if m.recent_lengths else None,
            }
            row.update(
                {k: (v[i] if self._metric_count else None) for k, v in zip(self.metric_names, means, strict=True)}
            )
            ev = m.last_eval if with_eval else None
            row.update({
                "eval_return_mean": ev.mean_return if ev else None,
                "eval_return_std": ev.std_return if ev else None,
                "eval_length_mean": ev.mean_length if ev else None,
                "eval_length_std": ev.std_length if ev else None,
            })  # fmt: skip
            for name, value in zip(self.env_metric_names, env_means, strict=True):
                row[name] = float(value) if self._env_metric_count else None
                row[f"eval_{name}"] = ev.metrics.get(name) if ev else None
            if m.logger is not None:
                m.logger.log(row)
        self._metric_sums.zero_()
        self._metric_count = 0
        self._env_metric_sums[:] = 0.0
        self._env_metric_count = 0

    def _log_columns(self) -> list[str]:
        """The metrics.csv columns between the loop's own and the evaluation's."""
        env_columns = [c for name in self.env_metric_names for c in (name, f"eval_{name}")]
        return list(self.metric_names) + env_columns

    def _checkpoint(self) -> None:
        if all(m.run_dir is None for m in self.members):
            return
        self._check_finite()
        for i, m in enumerate(self.members):
            if m.run_dir is not None:
                if m.logger is not None:
                    m.logger.flush()
                ckpt.save_checkpoint(self.state_dict(i), m.run_dir / "checkpoints" / ckpt.LATEST)

    def _finish(self) -> None:
        if self.last_eval_step != self.global_step:
            self._evaluate_and_track()
            self._log(with_eval=True)
        self._checkpoint()
        for i, m in enumerate(self.members):
            if m.run_dir is None:
                continue
            from actorcritic.train.plots import plot_run

            m.logger.flush()
            plot_run(m.run_dir)
            write_json(m.run_dir / SUMMARY, self.summary(i))

    def _check_finite(self) -> None:
        params = [p for module in self._modules().values() for p in module.parameters()]
        if not bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
            self._diverged("network parameters")

    def _diverged(self, what: str) -> None:
        kept = [m.run_dir / "checkpoints" / ckpt.LATEST for m in self.members if m.run_dir is not None]
        kept = [str(k) for k in kept if k.exists()]
        where = f"; the last good checkpoint is kept at {', '.join(kept)}" if kept else ""
        raise TrainingDiverged(f"NaN or inf in {what} at step {self.global_step}; training stopped{where}")

    # ----------------------------------------------------------------- state
    def run_info(self, member: int = 0) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "env": self.env_id,
            "seed": self.members[member].seed,
            "env_kwargs": self.env_kwargs,
            "total_steps": self.planned_total_steps,
            "checkpoint_interval": self.checkpoint_interval,
            "config": config_to_dict(self.config),
        }

    def summary(self, member: int = 0) -> dict[str, Any]:
        m = self.members[member]
        ev = m.last_eval
        return {
            "algo": self.algo,
            "env": self.env_id,
            "seed": m.seed,
            "total_steps": self.global_step,
            "planned_total_steps": self.planned_total_steps,
            "final_eval_mean_return": ev.mean_return if ev else None,
            "final_eval_std_return": ev.std_return if ev else None,
            "final_eval_metrics": ev.metrics if ev else None,
            "best_eval_mean_return": m.best_eval_return if ev else None,
            "target_return": self.target_return,
            "solved_at_step": m.solved_at_step,
            "wall_seconds": round(self.wall_seconds, 3),
            "num_updates": self.num_updates,
            "updates_per_second": round(self.num_updates / self.update_seconds, 1) if self.update_seconds else None,
            "steps_per_second": round(self.global_step / self.wall_seconds, 1) if self.wall_seconds else None,
            "trained_with_seeds": [x.seed for x in self.members],
            **({"worker_restarts": self.worker_restarts} if getattr(self.config, "backend", "") == "ray" else {}),
        }

    def _modules(self) -> dict[str, nn.Module]:
        return {k: getattr(self, k) for k in self.checkpointed if isinstance(getattr(self, k), nn.Module)}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {k: getattr(self, k) for k in self.checkpointed if isinstance(getattr(self, k), torch.optim.Optimizer)}

    def state_dict(self, member: int = 0, include_buffer: bool = True) -> dict[str, Any]:
        """Member ``member``'s full state, exactly as if it had trained alone: its blocks of the stacked
        networks and optimizer moments (and the family's own state: replay data, normalisers), its RNG
        streams and statistics."""
        m, n, envs = self.members[member], self.num_members, self._member_envs(member)
        return {
            "format": CHECKPOINT_FORMAT,
            **self.run_info(member),
            "modules": {k: member_state(mod.state_dict(), member, n) for k, mod in self._modules().items()},
            "optimizers": {k: member_state(o.state_dict(), member, n) for k, o in self._optimizers().items()},
            "rng": {"explore": m.explore_generator.get_state(), "policy": m.generator.get_state()},
            "counters": {
                "global_step": self.global_step,
                "vector_steps": self.vector_steps,
                "num_updates": self.num_updates,
                "episode_index": self.episode_index[envs].tolist(),
                "episode_length": self.episode_length[envs].tolist(),
                "episodes_done": m.episodes_done,
                "recent_returns": list(m.recent_returns),
                "recent_lengths": list(m.recent_lengths),
                "best_eval_return": m.best_eval_return,
                "solved_at_step": m.solved_at_step,
                "last_eval": [m.last_eval.returns, m.last_eval.lengths, m.last_eval.metrics] if m.last_eval else None,
                "last_eval_step": self.last_eval_step,
                "wall_seconds": self.wall_seconds,
                "update_seconds": self.update_seconds,
                "worker_restarts": self.worker_restarts,
            },
            "logger_step": self.global_step,  # rows after this are dropped on resume
            **self._extra_state(member, include_buffer),
        }

    def load_state_dict(self, state: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        """Restore from a checkpoint, or from one checkpoint per member (a group's members, or runs
        trained alone, continued together). The members must share their step counts and config."""
        states = [state] if isinstance(state, dict) else list(state)
        if len(states) != self.num_members:
            raise ValueError(f"{len(states)} checkpoints for {self.num_members} members")
        steps = {(s["counters"]["global_step"], s["counters"]["num_updates"]) for s in states}
        if len(steps) > 1:
            raise ValueError(f"the checkpoints are at different steps/updates {sorted(steps)}")
        for k, module in self._modules().items():
            module.load_state_dict(stack_states([s["modules"][k] for s in states]))
        for k, o in self._optimizers().items():
            o.load_state_dict(stack_states([s["optimizers"][k] for s in states]))
        c = states[0]["counters"]
        self.global_step, self.vector_steps, self.num_updates = c["global_step"], c["vector_steps"], c["num_updates"]
        self.last_eval_step = c["last_eval_step"]
        self.wall_seconds, self.update_seconds = c["wall_seconds"], c["update_seconds"]
        self.worker_restarts = c.get("worker_restarts", 0)  # absent from checkpoints of earlier versions
        self.planned_total_steps = states[0].get("total_steps")
        self.checkpoint_interval = states[0].get("checkpoint_interval")
        for i, (m, s) in enumerate(zip(self.members, states, strict=True)):
            c = s["counters"]
            m.explore_generator.set_state(s["rng"]["explore"])
            m.generator.set_state(s["rng"]["policy"])
            envs = self._member_envs(i)
            self.episode_index[envs] = c["episode_index"]
            self.episode_length[envs] = c["episode_length"]
            m.episodes_done = c["episodes_done"]
            m.recent_returns.extend(c["recent_returns"])
            m.recent_lengths.extend(c["recent_lengths"])
            m.best_eval_return, m.solved_at_step = c["best_eval_return"], c["solved_at_step"]
            m.last_eval = EvalResult(*c["last_eval"]) if c["last_eval"] else None
        self._load_extra_state(states)
        self.obs = None  # the next learn() starts fresh episodes where one was in progress

    def _member_envs(self, member: int) -> slice:
        n = self.config.num_envs
        return slice(member * n, (member + 1) * n)

    def resume_in(self, run_dir: str | Path | Sequence[str | Path], checkpoint_interval: int | None = None) -> None:
        """Continue logging and checkpointing into existing run directories (one per member)."""
        dirs = [run_dir] if isinstance(run_dir, str | Path) else list(run_dir)
        if len(dirs) != self.num_members:
            raise UserError(f"{len(dirs)} run directories for {self.num_members} members")
        for m, d in zip(self.members, dirs, strict=True):
            m.run_dir, m.resume_step = Path(d), self.global_step
        if checkpoint_interval is not None:
            self.checkpoint_interval = checkpoint_interval


def _member_run_dirs(run_dir: str | Path | Sequence[str | Path] | None, seeds: list[int]) -> list[Path | None]:
    """Each member's new run directory: ``run_dir`` alone; in a group ``run_dir/seed<S>``, or one
    directory per member when ``run_dir`` is a list."""
    if run_dir is None:
        return [None] * len(seeds)
    if isinstance(run_dir, str | Path):
        dirs = [Path(run_dir)] if len(seeds) == 1 else [Path(run_dir) / f"seed{s}" for s in seeds]
    else:
        dirs = [Path(d) for d in run_dir]
    if len(dirs) != len(seeds) or len(set(dirs)) != len(dirs):
        raise UserError(f"{len(seeds)} seeds need {len(seeds)} distinct run directories, got {len(dirs)}")
    for d in dirs:  # check all before creating any, so a clash leaves nothing behind
        check_new_run_dir(d)
    return [create_run_dir(d) for d in dirs]


def _device(name: str) -> torch.device:
    """A torch device, or a user error that says what is wrong with the name."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device '{name}'; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device '{name}' requested, but this torch build has no usable CUDA")
    return device


class _ProgressBar:
    """A rich progress bar: steps, SPS, last episodic return, last eval."""

    def __init__(self, start: int, end: int):
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            BarColumn(bar_width=12),
            TextColumn("{task.completed}/{task.total} steps  {task.fields[sps]} SPS"),
            TextColumn("return {task.fields[ret]}  eval {task.fields[eval]}"),
            TimeRemainingColumn(),
        )
        self.task = self.progress.add_task("train", total=end, completed=start, sps="-", ret="-", eval="-")
        self.progress.start()
        self.last_refresh = 0.0

    def update(self, agent: Agent, force: bool = False) -> None:
        now = time.perf_counter()
        if now - self.last_refresh < 0.1 and not force:
            return
        self.last_refresh = now
        sps = f"{agent.global_step / agent.wall_seconds:.0f}" if agent.wall_seconds else "-"
        returns = [m.recent_returns[-1] for m in agent.members if m.recent_returns]  # mean over a group
        evals = [m.last_eval.mean_return for m in agent.members if m.last_eval]
        ret = f"{np.mean(returns):.1f}" if returns else "-"
        ev = f"{np.mean(evals):.1f}" if evals else "-"
        self.progress.update(self.task, completed=agent.global_step, sps=sps, ret=ret, eval=ev)

    def close(self) -> None:
        self.progress.stop()
