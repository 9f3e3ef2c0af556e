"""``Swarm-v0``: the Vicsek swarm as a Gymnasium vector env, one agent per particle, one shared policy.

Every particle is one of the vector env's ``num_envs`` = N sub-envs, so an off-policy algorithm trains
on it unchanged: each step stores N transitions, and one policy steers every particle.

- **Observation** of particle i: the headings of its k nearest neighbours relative to its own, as
  (cos, sin) of the angle difference in 2D so that angles never wrap; in 3D, each neighbour's heading
  in i's own frame (heading, e1, e2). With ``relative_positions``, also each neighbour's displacement
  in that frame, divided by the interaction radius.
- **Action**: a turn. 2D: an angle in [-max_turn, max_turn]. 3D: a vector (t1, t2) in the tangent
  plane, its length the turning angle, clipped to max_turn.
- **Dynamics**: after all particles have turned, the model applies its noise and moves everyone.
- **Reward** (``reward``): ``"delta"`` (default) is the change of the particle's local order parameter
  caused by its own turn, its neighbours' headings held fixed; ``"local"`` is its local order parameter
  after the step; ``"global"`` is the global order parameter after the step, for everyone.
- **Episodes** last ``episode_steps`` steps; all particles are truncated together, never terminated.

``info["order_parameter"]`` carries the global order parameter after each step.
"""

from __future__ import annotations

import math
from typing import ClassVar

import gymnasium as gym
import numpy as np

from actorcritic.envs.swarm.model import DENSITY, PRESETS, VicsekModel, tangent_frame
from actorcritic.errors import UserError

REWARDS = ("delta", "local", "global")


class SwarmEnv(gym.vector.VectorEnv):
    """N Vicsek particles, each an agent; see the module docstring."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "autoreset_mode": gym.vector.AutoresetMode.DISABLED}
    metric_names = ("order_parameter",)  # reported in info each step; the training loop logs it

    def __init__(
        self,
        preset: str = "small",
        n: int | None = None,
        box_size: float | None = None,
        noise: float = 0.5,
        speed: float = 0.03,
        radius: float = 1.0,
        dim: int = 2,
        mode: str = "radius",
        k: int | None = None,
        neighbours_observed: int = 12,
        relative_positions: bool = False,
        max_turn: float = math.pi / 4,
        reward: str = "delta",
        episode_steps: int = 200,
        render_mode: str | None = None,
    ):
        if preset not in PRESETS:
            raise UserError(f"unknown swarm preset '{preset}'; choose one of {sorted(PRESETS)}")
        if reward not in REWARDS:
            raise UserError(f"unknown swarm reward '{reward}'; choose one of {list(REWARDS)}")
        if not 0 < max_turn <= math.pi:
            raise UserError(f"max_turn must be in (0, pi], got {max_turn}")
        if episode_steps < 1 or neighbours_observed < 1:
            raise UserError("episode_steps and neighbours_observed must be >= 1")
        n = n if n is not None else PRESETS[preset]["n"]
        self.model_kwargs = {
            "n": n,
            "box_size": box_size if box_size is not None else (n / DENSITY) ** (1 / dim),  # density 4
            "speed": speed, "noise": noise, "radius": radius, "dim": dim, "mode": mode, "k": k,
        }  # fmt: skip
        self.model = VicsekModel(**self.model_kwargs, seed=0)  # validates the arguments
        if neighbours_observed >= self.model.n:
            raise UserError(f"neighbours_observed ({neighbours_observed}) must be below n ({self.model.n})")
        self.dim, self.k_obs, self.relative_positions = dim, neighbours_observed, relative_positions
        self.max_turn, self.reward_kind, self.episode_steps = max_turn, reward, episode_steps
        self.render_mode = render_mode
        self.num_envs = self.model.n
        per_neighbour = (2 if dim == 2 else 3) + (dim if relative_positions else 0)
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (per_neighbour * self.k_obs,), np.float32)
        self.single_action_space = gym.spaces.Box(-max_turn, max_turn, (dim - 1,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.steps = 0

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | list | None = None, options: dict | None = None):
        if isinstance(seed, list | tuple):  # the loop passes one seed per particle: the first one seeds the swarm
            seed = next((s for s in seed if s is not None), None)
        mask = (options or {}).get("reset_mask")
        if mask is not None and not np.all(mask):
            raise ValueError("a swarm resets all particles together (its episodes end together)")
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        self.model = VicsekModel(**self.model_kwargs, seed=seed)
        self.steps = 0
        return self._observe(), {"order_parameter": self.model.order_parameter()}

    def step(self, actions: np.ndarray):
        model = self.model
        actions = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, self.dim - 1)
        turned = self.turn(model.headings, actions)
        if self.reward_kind == "delta":  # particle i's local order with its old heading, then its turned one
            sums, counts = model.heading_sums()
            counts = counts[:, None]  # every set holds the particle itself: never empty
            before = np.linalg.norm(sums / counts, axis=1)
            after = np.linalg.norm((sums + (turned - model.headings)) / counts, axis=1)
        model.advance(turned)
        self.steps += 1
        order = model.order_parameter()
        if self.reward_kind == "delta":
            rewards = after - before
        elif self.reward_kind == "local":
            rewards = model.local_order_parameters()
        else:
            rewards = np.full(model.n, order)
        truncated = np.full(model.n, self.steps >= self.episode_steps)
        terminated = np.zeros(model.n, dtype=bool)
        return self._observe(), rewards.astype(np.float64), terminated, truncated, {"order_parameter": order}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        from actorcritic.envs.swarm.render import render_frame

        return render_frame(self.model)

    # ------------------------------------------------------------------ the swarm's geometry
    def turn(self, headings: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The headings after each particle's turn (unit vectors [N, dim])."""
        if self.dim == 2:
            angle = np.clip(actions[:, 0], -self.max_turn, self.max_turn)
            c, s = np.cos(angle), np.sin(angle)
            return np.stack([c * headings[:, 0] - s * headings[:, 1], s * headings[:, 0] + c * headings[:, 1]], 1)
        e1, e2 = tangent_frame(headings)
        tangent = actions[:, :1] * e1 + actions[:, 1:2] * e2
        angle = np.linalg.norm(tangent, axis=1, keepdims=True)
        direction = np.divide(tangent, angle, out=np.zeros_like(tangent), where=angle > 0)
        angle = np.minimum(angle, self.max_turn)
        return np.cos(angle) * headings + np.sin(angle) * direction

    def _observe(self) -> np.ndarray:
        model = self.model
        idx, disp = model.knn(self.k_obs)  # [N, k] nearest other particles, displacements [N, k, dim]
        own, theirs = model.headings, model.headings[idx]
        if self.dim == 2:
            # (cos, sin) of (their angle - own angle), from dot and cross products.
            cos = np.einsum("nkd,nd->nk", theirs, own)
            sin = own[:, None, 0] * theirs[..., 1] - own[:, None, 1] * theirs[..., 0]
            parts = [np.stack([cos, sin], -1)]
            if self.relative_positions:
                along = np.einsum("nkd,nd->nk", disp, own)
                across = own[:, None, 0] * disp[..., 1] - own[:, None, 1] * disp[..., 0]
                parts.append(np.stack([along, across], -1) / model.radius)
        else:
            e1, e2 = tangent_frame(own)
            frame = np.stack([own, e1, e2], 1)  # [N, 3, 3]: rows are the particle's axes
            parts = [np.einsum("nij,nkj->nki", frame, theirs)]
            if self.relative_positions:
                parts.append(np.einsum("nij,nkj->nki", frame, disp) / model.radius)
        return np.concatenate(parts, -1).reshape(model.n, -1).astype(np.float32)


# ---------------------------------------------------------------------- baseline policies
def vicsek_policy(env: SwarmEnv) -> np.ndarray:
    """The Vicsek rule as actions: turn toward the neighbours' mean heading (as far as max_turn allows)."""
    model, target = env.model, env.model.mean_headings()
    own = model.headings
    if env.dim == 2:
        angle = np.arctan2(own[:, 0] * target[:, 1] - own[:, 1] * target[:, 0], np.sum(own * target, 1))
        return np.clip(angle, -env.max_turn, env.max_turn)[:, None]
    e1, e2 = tangent_frame(own)
    angle = np.arccos(np.clip(np.sum(own * target, 1), -1.0, 1.0))[:, None]
    tangent = np.stack([np.sum(target * e1, 1), np.sum(target * e2, 1)], 1)
    norm = np.linalg.norm(tangent, axis=1, keepdims=True)
    return np.divide(tangent, norm, out=np.zeros_like(tangent), where=norm > 0) * np.minimum(angle, env.max_turn)


def random_policy(env: SwarmEnv) -> np.ndarray:
    return env.np_random.uniform(-env.max_turn, env.max_turn, (env.num_envs, env.dim - 1)) / math.sqrt(env.dim - 1)


def no_turn_policy(env: SwarmEnv) -> np.ndarray:
    return np.zeros((env.num_envs, env.dim - 1))


BASELINES = {"vicsek": vicsek_policy, "random": random_policy, "none": no_turn_policy}
