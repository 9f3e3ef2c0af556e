"""One turn of each family's loop: gather experience, then the updates it calls for. The loop around
(``runtime/loop.py``) owns the rest of time: evaluation, logging, checkpoints, the end of the run.

A trainer decides when: how many updates a turn runs, and for each whether the actor and the targets
move. The learner only receives that decision, so its update keeps no counter and can be compiled whole.
A back end (A3C's worker processes, Ray) brings a trainer of its own with the same methods.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import torch

from actorcritic.core.buffers import ReplayBuffer
from actorcritic.errors import TrainingDiverged
from actorcritic.runtime.clock import Clock
from actorcritic.runtime.collectors import RolloutCollector, StepCollector
from actorcritic.runtime.metrics import MetricSums

COMPILE_PAYS_AFTER = 4_000
"""Updates a run must plan for ``actorcritic train``'s default ``--compile auto`` to compile them. On the
2-core development machine compiling took about 8 s with torch's compile cache warm (40 s cold), and
saved 1.7-5.0 ms per update at 64-64 and 4.4-7.4 ms at 256-256 (DDPG, TD3, SAC, one thread): a warm
compile pays back after 2,000 to 5,000 updates (docs/cli.md)."""


def planned_updates(cfg: Any, start: int, end: int) -> int:
    """The updates an off-policy run makes from env step ``start`` to ``end``: one phase of
    ``gradient_steps`` per ``train_freq`` vector steps once ``learning_starts`` env steps are in."""
    vector_steps = max(0, end - max(start, cfg.learning_starts)) // cfg.num_envs
    return vector_steps // cfg.train_freq * cfg.gradient_steps


class Trainer:
    """What the loop calls; the defaults suit a trainer that steps its envs in this process."""

    def start(self) -> None:
        """Before the first turn of a learn(): make envs, start workers."""

    def turn(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        """Hold any workers (an evaluation or checkpoint needs a model no one is changing)."""

    def resume(self) -> None:
        """Let held workers go on."""

    def stop(self) -> None:
        """End any workers (at the end of learn(), and in close())."""

    def state_dict(self, member: int, include_buffer: bool) -> dict[str, Any]:
        return {}

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        pass


class OffPolicyTrainer(Trainer):
    """A vector step of exploration into the replay buffer (or, from a back end, a fragment of them), then
    ``gradient_steps`` updates every ``train_freq`` vector steps once ``learning_starts`` steps are in.

    The last update of a turn also computes the policy's action at the envs' new observations, in the
    update's own graph when compiled, and the next turn's exploration starts from it: acting then costs
    no call of its own and reads the actor's weights while they are in cache (``update_and_act_from``).
    Its random draws come in the same order, so a run is the one that calls the policy after the update.
    """

    acts_here = True  # its collector steps this process's envs (a Ray trainer's workers act on their own)

    def __init__(self, cfg: Any, learner: Any, buffer: ReplayBuffer, collector: StepCollector, clock: Clock,
                 metrics: MetricSums, compile: bool = False):  # fmt: skip
        self.cfg, self.learner, self.buffer, self.collector = cfg, learner, buffer, collector
        self.clock, self.metrics = clock, metrics
        if compile:  # the update reads no counter, so the only guards are the two decisions below
            learner.compile()
        self.update = functools.partial(learner.update_from, buffer)  # update(index, update_actor, update_targets)
        self.update_and_act = functools.partial(learner.update_and_act_from, buffer)  # (..., obs) -> (metrics, actions)

    def start(self) -> None:
        mid_episode = self.collector.runner.start()
        if mid_episode.any():
            self.buffer.mark_episode_end(mid_episode)  # n-step windows must not run past the interrupted episode

    def gather(self) -> None:
        """Local collection: one vector step into the buffer (a Ray trainer takes a worker's fragment)."""
        self.buffer.add(*self.collector.collect(self.clock.global_step))

    def turn(self) -> None:
        cfg, clock = self.cfg, self.clock
        before = clock.vector_steps
        self.gather()
        if clock.global_step >= cfg.learning_starts:
            phases = clock.vector_steps // cfg.train_freq - before // cfg.train_freq
            if phases:
                self.train(phases * cfg.gradient_steps, act=self.acts_here)

    def train(self, updates: int, act: bool = False) -> None:
        """``updates`` updates; with ``act``, the last one also gives the policy's action at the envs'
        current observations, for the collector's next step."""
        cfg, clock, collector = self.cfg, self.clock, self.collector
        started = time.perf_counter()
        collector.next_actions = None  # the policy is about to move
        for i in range(updates):
            n = clock.num_updates + 1
            update_actor = n % cfg.policy_delay == 0  # TD3's delayed policy updates
            update_targets = update_actor and (n // cfg.policy_delay) % cfg.target_update_period == 0
            index = self.buffer.draw(cfg.batch_size)
            if act and i == updates - 1:
                metrics, actions = self.update_and_act(index, update_actor, update_targets, collector.observations())
                # the array itself, not a copy: the runner replaces it at each step, never writes into it
                collector.next_actions = (collector.runner.obs, actions)
            else:
                metrics = self.update(index, update_actor, update_targets)
            self.metrics.add(metrics)
            clock.num_updates = n
        clock.update_seconds += time.perf_counter() - started

    def state_dict(self, member: int, include_buffer: bool) -> dict[str, Any]:
        state: dict[str, Any] = {"buffer": self.buffer.state_dict(member)} if include_buffer else {}
        ready = self.collector.next_actions
        if ready is not None:  # a run resumed here acts as it would have gone on
            obs = ready[0][self.collector.runner.member_envs(member)]
            state["next_actions"] = {"obs": torch.as_tensor(obs).clone(), "actions": ready[1][member].clone()}
        return state

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        for i, s in enumerate(states):
            if "buffer" in s:
                self.buffer.load_state_dict(s["buffer"], member=i)
        ready = [s.get("next_actions") for s in states]
        self.collector.next_actions = None
        if all(r is not None for r in ready):
            obs = torch.cat([r["obs"] for r in ready]).numpy()
            self.collector.next_actions = (obs, torch.stack([r["actions"] for r in ready]).to(self.collector.device))


class OnPolicyTrainer(Trainer):
    """A rollout (or whole episodes) with the current policy, then one update on it, then it is thrown away."""

    def __init__(self, cfg: Any, learner: Any, collector: RolloutCollector, clock: Clock, metrics: MetricSums):
        self.cfg, self.learner, self.collector, self.clock, self.metrics = cfg, learner, collector, clock, metrics

    def start(self) -> None:
        mid_episode = self.collector.runner.start()
        if mid_episode.any():
            self.collector.interrupted(mid_episode)

    def turn(self) -> None:
        cfg, clock = self.cfg, self.clock
        rollout = self.collector.collect()
        started = time.perf_counter()
        if cfg.anneal_lr and clock.total_steps:
            self.learner.set_learning_rate(cfg.learning_rate * max(0.0, 1.0 - clock.global_step / clock.total_steps))
        metrics = self.learner.update(rollout)
        if not bool(torch.isfinite(torch.stack(list(metrics.values()))).all()):  # one sync per rollout
            raise TrainingDiverged("NaN or inf in loss")
        clock.num_updates += 1
        self.metrics.add(metrics)
        clock.update_seconds += time.perf_counter() - started

    def state_dict(self, member: int, include_buffer: bool) -> dict[str, Any]:
        c = self.collector
        normalizers = {
            name: n.state_dict() for name, n in (("obs", c.obs_normalizer), ("return", c.return_scaler)) if n
        }
        return {"normalizers": normalizers}

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        c, saved = self.collector, states[0]["normalizers"]
        for name, n in (("obs", c.obs_normalizer), ("return", c.return_scaler)):
            if n is not None:
                n.load_state_dict(saved[name])
