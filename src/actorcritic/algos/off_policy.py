"""What DDPG, TD3 and SAC learners share: an actor and a Q ensemble with its target copy, an Adam optimizer
each, every member's generator, and the critic regression they all run on their own TD target:

    L_Q = sum_i mean (Q_i(s, a) - y)^2          (or Huber), one Adam step, per member

Each algorithm's file adds its own targets, its temperature, the noise an update draws, and ``step``, the
update itself: a function of tensors (the batch, the noise, the loop's two decisions) with no counter and
no random draw of its own, so that ``compile()`` captures it whole, gradients and Adam steps included. The
loop calls ``update_from``, which gathers the sampled transitions from the replay buffer inside that graph.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import types
from collections.abc import Sequence
from typing import Any

import torch

from actorcritic.algos.settings import OffPolicyConfig
from actorcritic.core.buffers import Batch, ReplayBuffer
from actorcritic.core.capture import Captured
from actorcritic.core.members import member_copy
from actorcritic.core.networks import QEnsemble
from actorcritic.core.optim import Adam, ensemble_critic_loss
from actorcritic.core.targets import make_target
from actorcritic.errors import UserError


class OffPolicyLearner:
    """An actor (``make_actor``, the algorithm's) and a Q ensemble of ``cfg.num_critics`` critics."""

    config: Any

    def __init__(self, cfg: OffPolicyConfig, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                 generators: Sequence[torch.Generator], device: torch.device):  # fmt: skip
        self.config, self.generators, self.members = cfg, list(generators), len(generators)
        self.obs_dim, self.action_dim = obs_dim, action_dim
        g = list(init_generators)  # member m's initial weights from its own stream: the actor's, then the critics'
        self.actor = self.make_actor(cfg, obs_dim, action_dim, g, device)
        self.critic = QEnsemble(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, cfg.num_critics,
                                self.members, g).to(device)  # fmt: skip
        self.critic_target = make_target(self.critic)
        self.actor_optim = Adam(self.actor, cfg.actor_lr, cfg.max_grad_norm, self.members)
        self.critic_optim = Adam(self.critic, cfg.critic_lr, cfg.max_grad_norm, self.members)
        self.device = torch.device(device)
        self.device_type = self.device.type
        if cfg.precision == "bf16" and not bf16_supported(self.device_type):
            raise UserError(f"precision bf16 needs a {self.device_type.upper()} with bfloat16 support; this one has none: use float32")  # fmt: skip

    @staticmethod
    def make_actor(cfg: Any, obs_dim: int, action_dim: int, init_generators: Sequence[torch.Generator],
                   device: torch.device | str) -> torch.nn.Module:  # fmt: skip
        raise NotImplementedError

    @staticmethod
    def act(cfg: Any, actor: torch.nn.Module, obs: torch.Tensor, deterministic: bool,
            generators: Sequence[torch.Generator] | None, eps: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """The policy's action at ``obs``; exploring, its random draws come from ``generators``, or are ``eps``
        (``draw_act_noise``), drawn before a compiled graph."""
        raise NotImplementedError

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.act(self.config, self.actor, obs, deterministic, self.generators)

    def deterministic_actor(self, member: int = 0) -> torch.nn.Module:
        """A CPU copy of one member's actor, obs -> its deterministic action in [-1, 1] (for export)."""
        make = lambda: self.make_actor(self.config, self.obs_dim, self.action_dim, [torch.Generator()], "cpu")  # noqa: E731
        return member_copy(make, self.actor, member, self.members)

    def draw_noise(self, batch_size: int) -> Any:
        """The random numbers one update of ``batch_size`` transitions per member needs, from each member's
        generator (outside any compiled graph)."""
        raise NotImplementedError

    def draw_act_noise(self, obs: torch.Tensor) -> torch.Tensor | None:
        """The random numbers one exploration action at ``obs`` [M, n, obs_dim] draws inside the policy, from
        each member's generator (None: the policy is deterministic, and the loop adds its noise)."""
        return None

    def step(self, batch: Batch, noise: Any, update_actor: bool, update_targets: bool) -> dict[str, torch.Tensor]:
        """The update, given its noise; each algorithm's file has it."""
        raise NotImplementedError

    def step_from(self, replay: ReplayBuffer, index: torch.Tensor, noise: Any, update_actor: bool,
                  update_targets: bool) -> dict[str, torch.Tensor]:  # fmt: skip
        """``step`` on the replay buffer's transitions at ``index``: compiled, the gather is in the graph."""
        return type(self).step(self, replay.gather(index), noise, update_actor, update_targets)

    def step_and_act_from(self, replay: ReplayBuffer, index: torch.Tensor, noise: Any, update_actor: bool,
                          update_targets: bool, obs: torch.Tensor,
                          act_noise: torch.Tensor | None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:  # fmt: skip
        """``step_from``, then the exploration action at ``obs`` with the updated actor, in float32 as
        acting is: compiled, one graph for both, which reads the actor's weights while they are in cache."""
        metrics = type(self).step_from(self, replay, index, noise, update_actor, update_targets)
        with torch.no_grad(), self.float32():
            return metrics, self.act(self.config, self.actor, obs, False, None, act_noise)

    def update(self, batch: Batch, update_actor: bool, update_targets: bool) -> dict[str, torch.Tensor]:
        """One update on ``batch``: the critics always; the actor and the targets when the loop says so.
        Metrics per member."""
        with self.precision():
            return self.step(batch, self.draw_noise(batch.rewards.shape[1]), update_actor, update_targets)

    def update_from(self, replay: ReplayBuffer, index: torch.Tensor, update_actor: bool,
                    update_targets: bool) -> dict[str, torch.Tensor]:  # fmt: skip
        """One update on ``replay``'s transitions at ``index`` [M, B] (``ReplayBuffer.draw``), as the loop runs it."""
        with self.precision():
            return self.step_from(replay, index, self.draw_noise(index.shape[1]), update_actor, update_targets)

    def update_and_act_from(self, replay: ReplayBuffer, index: torch.Tensor, update_actor: bool, update_targets: bool,
                            obs: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:  # fmt: skip
        """``update_from``, and the policy's exploration action at ``obs`` [M, n, obs_dim] after it (before
        the loop's noise): what ``policy(obs, deterministic=False)`` would give next, from the same draws.
        After an env step the loop calls this, so that acting costs no call of its own."""
        with self.precision():
            noise = self.draw_noise(index.shape[1])  # the update's draws, then acting's, as when it acts on its own
            return self.step_and_act_from(
                replay, index, noise, update_actor, update_targets, obs, self.draw_act_noise(obs)
            )

    def precision(self) -> contextlib.AbstractContextManager:
        """Matrix products in bfloat16 under ``precision="bf16"``; parameters and Adam stay float32."""
        if self.config.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.bfloat16)

    def float32(self) -> contextlib.AbstractContextManager:
        """Autocast off within ``precision()`` under ``precision="bf16"``; otherwise nothing, so that a float32
        graph holds no autocast op (one is enough for AOTAutograd to bypass its cache: 3 s of each warm start)."""
        if self.config.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, enabled=False)

    def compile(self) -> None:
        """Run ``step``, ``step_from`` and ``step_and_act_from`` through torch.compile: one graph per
        (update_actor, update_targets) the loop asks for, built at the first call of each.

        torch.compile keeps its graphs on the code object it compiles, and at most 8 of them: so each learner
        compiles its own copy of the code, and its graphs go when it goes (with one shared code object the
        fifth TD3 learner in a process failed). A learner's tensors never change shape, dtype, device or
        identity once built (a loaded checkpoint is copied into them), nor do the replay buffer's, and its
        settings are frozen: so a call checks only the guards on its own arguments (the branch flags, the
        index or batch, the noise) and on global state (grad mode, autocast, the thread count), not the
        thousand on the learner, the buffer and the modules' globals. (Skipping those after warm-up by entering
        ``set_stance(skip_guard_eval_unsafe=True)`` on every call made an update 5-7% slower than this.)
        From the third call of a branch on, not even that: the call runs the branch's graph directly, on the
        tensors dynamo handed it (``actorcritic.core.capture.Captured``), which the same facts make sound.
        """
        self.step, self.step_from = self._compiled(type(self).step), self._compiled(type(self).step_from)
        self.step_and_act_from = self._compiled(type(self).step_and_act_from)
        if self.device_type == "cpu":  # inductor's probe of the CPU's vector ISA, 1-1.5 s of waiting on
            threading.Thread(target=_probe_cpu_isa, daemon=True).start()  # subprocesses: now, not at the first update

    def _compiled(self, method: Any) -> Any:
        """``method`` bound to this learner, through torch.compile, on a code object of its own, captured."""
        code = method.__code__.replace()  # equal, but not the same object
        own = types.MethodType(types.FunctionType(code, method.__globals__, method.__name__, None, method.__closure__), self)  # fmt: skip
        arguments = set(code.co_varnames[1 : code.co_argcount]) - {"replay"}  # all but self and the buffer

        def checked(guards: list[Any]) -> list[bool]:
            """Keep a guard on one of the call's own arguments, or on global state (which has no name)."""
            return [not g.name or re.split(r"[.\[]", g.name, maxsplit=1)[0] in arguments for g in guards]

        # No asserts on input sizes either: the arguments' are guarded, the learner's and the buffer's fixed.
        options = {"size_asserts": False}
        if self.device_type == "cuda":  # inductor 2.11's loop reordering failed an assertion on these updates
            from torch._inductor import config as inductor

            options |= {k: False for k in LOOP_REORDERING if hasattr(inductor, k)}
        return Captured(own, self.device_type, options=options, guard_filter_fn=checked, precompile=PRECOMPILE)

    def regress_critic(self, batch: Batch, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of every Q_i(s, a) towards the TD target y; returns (loss [M], Q values [M, n, B])."""

        def loss(critic: Any) -> tuple[torch.Tensor, torch.Tensor]:
            q = critic(batch.obs, batch.actions)
            return ensemble_critic_loss(self.config.critic_loss, q, y), q

        return self.critic_optim.minimize(loss)


# Each compiled update saved whole and loaded by the next process (``actorcritic.core.precompile``), unless
# ACTORCRITIC_PRECOMPILE=0: then each process traces it again, from torch's compile cache.
PRECOMPILE = os.environ.get("ACTORCRITIC_PRECOMPILE", "1") != "0"

# Inductor's fusion passes that reorder or reindex a kernel's loops to fuse it with another. On a GPU, with
# torch 2.11, one of them failed (``reorder_loops_by_dep_pair``: ``assert isinstance(snode, SchedulerNode)``)
# compiling every off-policy update; off, the update compiles (checked on an H200, 2026-12-04).
LOOP_REORDERING = ("loop_ordering_after_fusion", "loop_reindexing_after_fusion")


def _probe_cpu_isa() -> None:
    """Run torch inductor's check of which vector instructions its C++ kernels may use (it builds a test
    library and loads it in one subprocess per instruction set), whose answer it keeps for the process."""
    try:
        from torch._inductor.cpu_vec_isa import valid_vec_isa_list
    except ImportError:  # a torch that moved it: the first compile runs the check itself
        return
    valid_vec_isa_list()


def bf16_supported(device_type: str) -> bool:
    """Whether bfloat16 matrix products run natively here (oneDNN's check on a CPU: AVX-512 BF16 or AMX)."""
    if device_type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device_type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported()
