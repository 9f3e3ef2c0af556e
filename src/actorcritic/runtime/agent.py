"""An agent: a learner (``algos/``) composed with the parts that train it here.

    Agent
      learner     networks, optimizers, update(batch)            algos/<name>.py
      members     one per seed: RNG streams, noise, run dir       runtime/members.py
      runner      the vector env and its episodes                  runtime/envs.py
      trainer     one turn: collect, then the updates it calls for runtime/trainers.py (or a back end's)
      clock       steps, updates, time                             runtime/clock.py

``learn`` runs the loop (``runtime/loop.py``): turns of the trainer, and evaluation, logging and
checkpoints when they are due. ``seed`` may be a list of seeds (off-policy algorithms): one member per
seed, trained together as one batched computation, each with its own parameters, envs, RNG streams and
run directory (``run_dir/seed<S>``), exactly as if trained alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from actorcritic.algos import AlgoSpec
from actorcritic.algos.settings import AgentConfig
from actorcritic.core.buffers import ReplayBuffer
from actorcritic.core.normalizers import ObsNormalizer, ReturnScaler
from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.envs.make import make_env
from actorcritic.errors import UserError
from actorcritic.runtime import loop, state
from actorcritic.runtime.callbacks import Callback
from actorcritic.runtime.clock import Clock
from actorcritic.runtime.collectors import EpisodeCollector, RolloutCollector, StepCollector, make_noise
from actorcritic.runtime.envs import EnvRunner, probe_env
from actorcritic.runtime.evaluation import EVAL_ENVS, EvalResult, close_envs, evaluate_multi_agent, evaluate_policies
from actorcritic.runtime.members import Member
from actorcritic.runtime.metrics import MetricSums
from actorcritic.runtime.run_dir import member_run_dirs
from actorcritic.runtime.trainers import (
    COMPILE_PAYS_AFTER,
    OffPolicyTrainer,
    OnPolicyTrainer,
    Trainer,
    planned_updates,
)


def _first_member(name: str) -> property:
    """``agent.<name>``: the first member's (for an agent trained alone, its own)."""
    return property(
        lambda self: getattr(self.members[0], name),
        lambda self, value: setattr(self.members[0], name, value),
        doc=f"The first member's {name} (for an agent trained alone, its own).",
    )


def _clock_field(name: str) -> property:
    return property(lambda self: getattr(self.clock, name), doc=f"The clock's {name}.")


class Agent:
    """An algorithm's learner, trained on an env by the loop. Public classes (``DDPG``, ``PPO``, ...) name
    the algorithm; a back end (``backend``) may bring its own trainer (A3C's workers, Ray's)."""

    spec: ClassVar[AlgoSpec]
    config_cls: ClassVar[type[AgentConfig]]
    default_env: ClassVar[str] = "Pendulum-v1"

    def __init__(
        self,
        env: str | None = None,
        config: AgentConfig | None = None,
        seed: int | Sequence[int] = 0,
        run_dir: str | Path | Sequence[str | Path] | None = None,
        checkpoint_interval: int | None = None,
        device: str = "cpu",
        compile: bool = False,
        env_kwargs: dict[str, Any] | None = None,
        backend: Any = None,
    ):
        spec, name = self.spec, self.spec.name.upper()
        self.config = config if config is not None else spec.config_cls()
        if not isinstance(self.config, spec.config_cls):
            raise UserError(f"{type(self).__name__} needs a {spec.config_cls.__name__}")
        seeds = [int(seed)] if isinstance(seed, int | np.integer) else [int(s) for s in seed]
        if not seeds or len(set(seeds)) != len(seeds):
            raise UserError(f"seeds must be distinct and at least one, got {seeds}")
        if len(seeds) > 1 and not spec.off_policy:
            raise UserError(f"{name} trains one seed at a time (--seeds is for DDPG, TD3 and SAC)")
        if compile:
            self._check_compilable()
        self.env_id, self.env_kwargs = env or self.default_env, dict(env_kwargs or {})
        self.device, self.checkpoint_interval, self.backend = _device(device), checkpoint_interval, backend
        self.env = probe_env(self.env_id, self.env_kwargs, name, discrete_ok=not spec.off_policy)
        self.env.check_seeds(self.env_id, len(seeds))
        if self.env.agents is not None:  # one sub-env per agent of a multi-agent env, one shared policy
            self.config = dataclasses.replace(self.config, num_envs=self.env.agents)
        if backend is not None:
            backend.check(self, seeds)  # before any run directory is made
        cfg = self.config
        self.target_return = cfg.target_return if cfg.target_return is not None else self.env.target_return
        self.members = [Member(s, self.device) for s in seeds]
        for m, d in zip(self.members, member_run_dirs(run_dir, seeds), strict=True):
            m.run_dir = d
        self.num_members = len(seeds)
        self.learner = self._make_learner()
        self.clock = Clock()
        self.metrics = MetricSums(self.learner.metric_names, self.num_members, self.device)
        self.runner = EnvRunner(self.env_id, self.env_kwargs, seeds, cfg.num_envs, cfg.vectorization,
                                self.env.to_env, self.clock, self.env.env_metric_names)  # fmt: skip
        members, clock = self.members, self.clock  # not self: an agent in no reference cycle is freed at once
        self.runner.on_episode = lambda m, env, ret, length: members[m].record_episode(
            clock.global_step, env, ret, length
        )
        self.obs_normalizer: ObsNormalizer | None = None  # on-policy's normalize_obs
        self.compile = compile
        self.trainer: Trainer = backend.make_trainer(self) if backend is not None else self.make_local_trainer()

    algo = property(lambda self: self.spec.name, doc="The algorithm's name.")
    seed = _first_member("seed")
    run_dir = _first_member("run_dir")
    generator = _first_member("generator")
    last_eval = _first_member("last_eval")
    best_eval_return = _first_member("best_eval_return")
    solved_at_step = _first_member("solved_at_step")
    recent_returns = _first_member("recent_returns")
    episodes_done = _first_member("episodes_done")
    global_step = _clock_field("global_step")
    num_updates = _clock_field("num_updates")
    obs_dim = property(lambda self: self.env.obs_dim)
    action_dim = property(lambda self: self.env.action_dim)
    scaler = property(lambda self: self.env.scaler)

    def _make_learner(self) -> Any:
        init = [m.init_generator for m in self.members]
        policy = [m.generator for m in self.members]
        extra = {} if self.spec.off_policy else {"discrete": self.env.scaler is None}
        return self.spec.learner_cls(
            self.config, self.env.obs_dim, self.env.action_dim, init, policy, self.device, **extra
        )

    def _check_compilable(self) -> None:
        if not self.spec.off_policy:
            raise UserError(f"--compile is for DDPG, TD3 and SAC; {self.spec.name.upper()}'s updates run eagerly")

    def compile_update(self) -> None:
        """Run the update through torch.compile from now on, as ``compile=True`` would have from the start."""
        self._check_compilable()
        if not self.compile:
            self.learner.compile()
            self.compile = True

    def compile_pays(self, steps: int) -> bool:
        """Whether ``steps`` more env steps make enough updates to pay back compiling them
        (``COMPILE_PAYS_AFTER``): ``actorcritic train``'s ``--compile auto``."""
        start = self.clock.global_step
        return self.spec.off_policy and planned_updates(self.config, start, start + steps) >= COMPILE_PAYS_AFTER

    def make_local_trainer(self) -> Trainer:
        """The trainer that steps this process's envs: off-policy steps into a replay buffer, or rollouts."""
        cfg, env, data = self.config, self.env, self.spec.data
        if data == "steps":
            kind, default_clip = self.learner.exploration(cfg)
            for m in self.members:
                m.noise = make_noise(cfg, kind, cfg.num_envs, env.action_dim, stream_seed(m.seed, Stream.NOISE),
                                     self.device, default_clip)  # fmt: skip
            self.buffer = ReplayBuffer(cfg.buffer_size, env.obs_dim, env.action_dim, cfg.num_envs, cfg.n_step, cfg.gamma,
                                       seed=[stream_seed(m.seed, Stream.REPLAY) for m in self.members], device=self.device)  # fmt: skip
            collector = StepCollector(self.runner, self.learner.policy, [m.noise for m in self.members],
                                      [m.explore_generator for m in self.members], cfg.learning_starts, env.action_dim,
                                      self.device)  # fmt: skip
            self.runner.on_new_episodes = collector.new_episodes
            return OffPolicyTrainer(cfg, self.learner, self.buffer, collector, self.clock, self.metrics, self.compile)
        if data == "async":
            raise UserError(
                f"{self.spec.name.upper()} runs its workers on a back end: use actorcritic.{type(self).__name__}"
            )
        self.obs_normalizer = ObsNormalizer(env.obs_dim, self.device) if cfg.normalize_obs else None
        scaler = ReturnScaler(cfg.num_envs, cfg.gamma) if cfg.normalize_reward else None
        shared = {"obs_normalizer": self.obs_normalizer, "return_scaler": scaler}
        if data == "episodes":
            collector: RolloutCollector = EpisodeCollector(self.runner, self.learner, env.obs_dim, env.action_shape,
                                                           cfg.episodes_per_update, cfg.gamma, cfg.gae_lambda, **shared)  # fmt: skip
        else:
            collector = RolloutCollector(self.runner, self.learner, env.obs_dim, env.action_shape, cfg.num_steps,
                                         cfg.gamma, cfg.gae_lambda, **shared)  # fmt: skip
        return OnPolicyTrainer(cfg, self.learner, collector, self.clock, self.metrics)

    # ----------------------------------------------------------------- acting and evaluating
    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """Library actions for observations [members, batch, obs_dim]: normalised to [-1, 1] for a Box
        action space (the env's bounds are applied at the env boundary), indices for a Discrete one."""
        normalizer = self.obs_normalizer
        return self.learner.policy(obs if normalizer is None else normalizer(obs), deterministic)

    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions in the env's units. Alone: for one observation or a batch of them. In a group: for
        observations with a leading members axis, [M, obs_dim] or [M, B, obs_dim]."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        if self.num_members > 1 and (obs_t.dim() < 2 or obs_t.shape[0] != self.num_members):
            raise UserError(f"a group of {self.num_members} agents acts on observations [members, ..., obs_dim]")
        shape = obs_t.shape
        obs_t = obs_t.reshape(self.num_members, -1, self.env.obs_dim)
        actions = self.policy(obs_t, deterministic).reshape(tuple(shape[:-1]) + self.env.action_shape)
        return self.env.to_env(actions.cpu().numpy())

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: Any = None,
                deterministic: bool = False) -> tuple[np.ndarray, None]:  # fmt: skip
        """Stable-Baselines3's ``predict``: ``(act(observation, deterministic), None)``, so that code that calls
        an SB3 model's ``predict`` (SB3's ``evaluate_policy``, say) runs this agent as it is. As in SB3,
        ``deterministic`` defaults to False: the stochastic policies (SAC's and the on-policy algorithms')
        then sample, from the agent's own random streams, so such calls between two ``learn`` calls change
        what is trained next (``act`` defaults to the deterministic action, which draws nothing); DDPG and
        TD3 return the actor's action without exploration noise either way. The policies keep no recurrent state:
        ``state`` and ``episode_start`` are ignored, and the state returned is None."""
        return self.act(observation, deterministic), None

    def evaluate(self, episodes: int | None = None, round_id: int | None = None, on_frame=None,
                 seed: int | None = None) -> EvalResult:  # fmt: skip
        """Mean and std of return and length over ``episodes`` deterministic episodes (the first member)."""
        return self.evaluate_members(episodes, round_id, on_frame, seed)[0]

    def evaluate_members(self, episodes: int | None = None, round_id: int | None = None, on_frame=None,
                         seed: int | None = None) -> list[EvalResult]:  # fmt: skip
        """Every member's deterministic policy on its own eval envs, all members stepping together: up to
        ``EVAL_ENVS`` episodes of each at a time (one, for frames), each seeded by its number."""
        round_id = self.clock.global_step if round_id is None else round_id
        episodes = episodes or self.config.eval_episodes
        multi_agent = self.env.agents is not None  # one vector env, its agents' episodes start and end together
        k = 1 if on_frame is not None or multi_agent else max(1, min(episodes, EVAL_ENVS))
        for m in self.members:
            if on_frame is not None and m.eval_envs and m.eval_envs[0].render_mode != "rgb_array":
                close_envs(m.eval_envs)  # made without frames (an evaluation during training): make one that renders
            while len(m.eval_envs) < k:
                m.eval_envs.append(
                    make_env(self.env_id, render_mode="rgb_array" if on_frame else None, **self.env_kwargs)
                )
        seeds = [m.seed for m in self.members] if seed is None else [seed] * self.num_members
        if multi_agent:
            env, names = self.members[0].eval_envs[0], self.env.env_metric_names
            return [evaluate_multi_agent(env, self.act, episodes, seeds[0], round_id, names, on_frame)]
        return evaluate_policies([m.eval_envs[:k] for m in self.members], self.act, episodes, seeds, round_id, on_frame)

    # ----------------------------------------------------------------- training
    def learn(self, steps: int, progress: bool = False, callbacks: Sequence[Callback] = ()) -> Agent:
        """Train for ``steps`` more env steps (evaluating, logging and checkpointing on the way), calling
        ``callbacks`` (``actorcritic.callbacks``) at the run's events; a callback may stop training early."""
        loop.learn(self, steps, progress, callbacks)
        return self

    def resume_in(self, run_dir: str | Path | Sequence[str | Path], checkpoint_interval: int | None = None) -> None:
        """Continue logging and checkpointing into existing run directories (one per member)."""
        dirs = [run_dir] if isinstance(run_dir, str | Path) else list(run_dir)
        if len(dirs) != self.num_members:
            raise UserError(f"{len(dirs)} run directories for {self.num_members} members")
        for m, d in zip(self.members, dirs, strict=True):
            m.run_dir, m.resume_step = Path(d), self.clock.global_step
        if checkpoint_interval is not None:
            self.checkpoint_interval = checkpoint_interval

    def close(self) -> None:
        self.trainer.stop()
        self.runner.close()
        for m in self.members:
            close_envs(m.eval_envs)
            if m.logger is not None:
                m.logger.close()
                m.logger = None

    # ----------------------------------------------------------------- state
    def save(self, path: str | Path, member: int = 0) -> Path:
        """Write a full checkpoint (resumable) of one member to ``path``, atomically."""
        return state.save(self, path, member)

    def state_dict(self, member: int = 0, include_buffer: bool = True) -> dict[str, Any]:
        """Member ``member``'s full state, exactly as if it had trained alone."""
        return state.state_dict(self, member, include_buffer)

    def load_state_dict(self, states: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        """Restore from a checkpoint, or one per member (a group's members, or runs of one config)."""
        state.load_state_dict(self, [states] if isinstance(states, dict) else list(states))

    def run_info(self, member: int = 0) -> dict[str, Any]:
        return state.run_info(self, member)

    def summary(self, member: int = 0) -> dict[str, Any]:
        return state.summary(self, member)


def _device(name: str) -> torch.device:
    """A torch device, or a user error that says what is wrong with the name."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device '{name}'; use cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"device '{name}' is not supported; use cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device '{name}' requested, but this torch build has no usable CUDA")
    return device
