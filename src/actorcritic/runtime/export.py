"""A trained agent's deterministic policy as one standalone file: ONNX or TorchScript.

The file holds a single function, observations in, the env's actions out::

    obs     float32 [batch, obs_dim]
    action  float32 [batch, action_dim] in the env's units (a Box action space)
            int64   [batch]              action indices (a Discrete action space)

Inside it, in order:

1. the observation normaliser of the on-policy algorithms (``normalize_obs``): ``(obs - mean) / std``
   clipped to +-10, its statistics baked in as constants as they were at export time;
2. the actor's deterministic action: DDPG and TD3 mu(s); SAC tanh(mean(s)); REINFORCE, A2C, A3C and PPO
   the Gaussian's mean (tanh-squashed if trained with ``squash``) or the most probable discrete action;
3. the rescaling from [-1, 1] to the env's bounds, ``center + scale * a`` clipped to [low, high].

That is exactly ``agent.act(obs)`` (up to float32 rounding). Only one agent's weights go in: for a seed
group (``--seeds``), member ``member`` (member 0 by default), the same policy its own checkpoint holds.
Running the file needs neither actorcritic nor the env:

    import numpy as np, onnxruntime as ort
    session = ort.InferenceSession("policy.onnx")
    action = session.run(None, {"obs": obs.astype(np.float32).reshape(-1, obs_dim)})[0]

    import torch
    policy = torch.jit.load("policy.pt")
    action = policy(torch.as_tensor(obs, dtype=torch.float32).reshape(-1, obs_dim))

Both files also carry a JSON description (algorithm, env, seed, step, spaces): ONNX in the model's
``metadata_props["actorcritic"]``, TorchScript in the extra file ``actorcritic.json``
(``torch.jit.load(path, _extra_files={"actorcritic.json": ""})``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from actorcritic.core.files import refuse_existing, write_new_file
from actorcritic.core.normalizers import OBS_CLIP
from actorcritic.core.spaces import ActionScaler
from actorcritic.errors import UserError
from actorcritic.runtime.agent import Agent

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 18
ONNX_EXTRA = 'format onnx needs the [export] extra: pip install -e ".[export]"'
METADATA_KEY = "actorcritic"  # ONNX metadata_props key; TorchScript extra file "actorcritic.json"
PROBE_BATCH = 8  # observations traced with (and checked against agent.act); any batch size runs later


class DeterministicPolicy(nn.Module):
    """obs [B, obs_dim] -> env actions: normalise, the actor's deterministic action, rescale and clip.

    ``actor`` maps (normalised) observations [B, obs_dim] to actions in [-1, 1] [B, action_dim], or to
    indices [B] when ``scaler`` is None (a Discrete action space).
    """

    def __init__(
        self,
        actor: nn.Module,
        obs_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
        scaler: ActionScaler | None = None,
    ):
        super().__init__()
        self.actor = actor
        self.normalize = obs_stats is not None
        if obs_stats is not None:  # ObsNormalizer.mean_std(): the float32 mean and std the agent uses
            self.register_buffer("obs_mean", obs_stats[0].clone())
            self.register_buffer("obs_std", obs_stats[1].clone())
        self.continuous = scaler is not None
        if scaler is not None:
            for name in ("center", "scale", "low", "high"):
                self.register_buffer(name, torch.as_tensor(getattr(scaler, name), dtype=torch.float32))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            obs = ((obs - self.obs_mean) / self.obs_std).clamp(-OBS_CLIP, OBS_CLIP)
        actions = self.actor(obs)
        if not self.continuous:
            return actions
        return torch.clamp(self.center + self.scale * actions, self.low, self.high)


def deterministic_policy(agent: Agent, member: int = 0) -> DeterministicPolicy:
    """A CPU copy of member ``member``'s deterministic policy, normalisation and rescaling included.

    The agent itself is left as it is."""
    if not 0 <= member < agent.num_members:
        raise UserError(f"member must be in [0, {agent.num_members}), got {member}")
    actor = agent.learner.deterministic_actor(member)  # one member's weights, on the CPU
    normalizer = agent.obs_normalizer
    obs_stats = tuple(x.cpu() for x in normalizer.mean_std()) if normalizer is not None else None
    policy = DeterministicPolicy(actor, obs_stats, agent.scaler).eval()
    policy.requires_grad_(False)
    _check_matches(agent, policy, member)
    return policy


def export_policy(agent: Agent, path: str | Path, format: Literal["onnx", "torchscript"], member: int = 0) -> Path:
    """Write member ``member``'s deterministic policy (for a seed group; alone: the agent's) to ``path``
    as an ONNX or TorchScript file (see the module docstring for what is inside and how to run it).

    The file is written atomically; an existing ``path`` is never overwritten (a UserError).
    """
    if format not in FORMATS:
        raise UserError(f"unknown export format '{format}'; choose one of {list(FORMATS)}")
    path = Path(path)
    refuse_existing(path)
    if format == "onnx":
        _require_onnx()
    policy = deterministic_policy(agent, member)
    example = _probe_obs(agent.obs_dim)
    description = json.dumps(_describe(agent, member), default=str)
    if format == "onnx":
        program = _onnx_program(policy, example)
        program.model.metadata_props[METADATA_KEY] = description
        return write_new_file(path, lambda tmp: program.save(tmp, external_data=False))
    extra_files = {f"{METADATA_KEY}.json": description}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)  # torch >= 2.13 deprecates TorchScript
        traced = torch.jit.trace(policy, (example,))
        return write_new_file(path, lambda tmp: torch.jit.save(traced, tmp, _extra_files=extra_files))


# --------------------------------------------------------------------------------------------- helpers
def _probe_obs(obs_dim: int) -> torch.Tensor:
    return torch.randn(PROBE_BATCH, obs_dim, generator=torch.Generator().manual_seed(0))


def _check_matches(agent: Agent, policy: DeterministicPolicy, member: int) -> None:
    """The copy must act as ``agent.act`` does (it would not for an agent whose ``policy`` is its own)."""
    obs = _probe_obs(agent.obs_dim)
    batch = obs.numpy() if agent.num_members == 1 else np.repeat(obs.numpy()[None], agent.num_members, axis=0)
    expected = agent.act(batch)
    expected = expected if agent.num_members == 1 else expected[member]
    with torch.no_grad():
        got = policy(obs).numpy()
    same = np.array_equal(got, expected) if agent.scaler is None else np.allclose(got, expected, atol=1e-5, rtol=1e-5)
    if not same:
        raise UserError(f"cannot export {type(agent).__name__}: its policy is not its actor's deterministic action")


def _describe(agent: Agent, member: int) -> dict[str, Any]:
    """What the file's metadata says about the policy inside."""
    if agent.scaler is None:
        action: dict[str, Any] = {"type": "Discrete", "n": agent.action_dim, "dtype": "int64", "shape": ["batch"]}
    else:
        action = {
            "type": "Box",
            "low": agent.scaler.low.tolist(),
            "high": agent.scaler.high.tolist(),
            "dtype": "float32",
            "shape": ["batch", agent.action_dim],
        }
    return {
        "algo": agent.algo,
        "env": agent.env_id,
        "env_kwargs": agent.env_kwargs,
        "seed": agent.members[member].seed,
        "global_step": agent.global_step,
        "obs": {"dtype": "float32", "shape": ["batch", agent.obs_dim]},
        "action": action,
        "normalize_obs": agent.obs_normalizer is not None,
    }


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401  (torch.onnx's exporter writes through it)
    except ImportError:
        raise UserError(ONNX_EXTRA) from None


def _onnx_program(policy: nn.Module, example: torch.Tensor) -> Any:
    """torch.onnx's torch.export-based exporter (the default since torch 2.9), with a dynamic batch axis."""
    with _quiet():
        return torch.onnx.export(
            policy,
            (example,),
            input_names=["obs"],
            output_names=["action"],
            opset_version=ONNX_OPSET,
            dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            external_data=False,
            verbose=False,
        )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's warnings and log lines (e.g. 'torchvision is not installed') say nothing to a user."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
