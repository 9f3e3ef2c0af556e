"""The swarm as a PettingZoo ``ParallelEnv``: ``SwarmEnv`` seen through dicts keyed by particle.

A view, not a second env: every call goes to one ``SwarmEnv``, so the physics, observations and rewards
are the Gymnasium env's. Particle i is agent ``particle_i`` and row i of the env's arrays; the per-agent
observations are views of the one array ``SwarmEnv`` returns, and the action dict is stacked once.

Imported only from ``actorcritic.envs.swarm.parallel_env``, which checks that PettingZoo (the ``[marl]``
extra) is installed.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from actorcritic.envs.swarm.env import SwarmEnv


class SwarmParallelEnv(ParallelEnv[str, np.ndarray, np.ndarray]):
    """N Vicsek particles as N PettingZoo agents; takes ``SwarmEnv``'s keyword arguments."""

    metadata: ClassVar[dict] = {"name": "swarm_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, **kwargs: Any):
        self.vector_env = SwarmEnv(**kwargs)  # what this view reads; its model and baseline policies work on it
        self.render_mode = self.vector_env.render_mode
        self.possible_agents = [f"particle_{i}" for i in range(self.vector_env.num_envs)]
        self.agents: list[str] = []
        # One space per agent, so that seeding one agent's space leaves the others' streams alone.
        self.observation_spaces = {
            agent: copy.deepcopy(self.vector_env.single_observation_space) for agent in self.possible_agents
        }
        self.action_spaces = {
            agent: copy.deepcopy(self.vector_env.single_action_space) for agent in self.possible_agents
        }

    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.spaces.Box:
        return self.action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        obs, info = self.vector_env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return dict(zip(self.agents, obs, strict=True)), _infos(self.agents, info)

    def step(self, actions: dict[str, np.ndarray]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise ValueError("the swarm's episode has ended (or not begun): call reset()")
        try:  # float64, as SwarmEnv.step wants it: the only copy of the actions
            stacked = np.stack([actions[agent] for agent in self.agents], dtype=np.float64)
        except KeyError as e:
            raise ValueError(f"no action for {e.args[0]}: every particle turns at every step") from None
        obs, rewards, terminated, truncated, info = self.vector_env.step(stacked)
        agents = self.agents
        if np.any(terminated | truncated):  # a swarm's episodes end together
            self.agents = []
        return (
            dict(zip(agents, obs, strict=True)),
            dict(zip(agents, rewards.tolist(), strict=True)),
            dict(zip(agents, terminated.tolist(), strict=True)),
            dict(zip(agents, truncated.tolist(), strict=True)),
            _infos(agents, info),
        )

    def render(self) -> np.ndarray | None:
        return self.vector_env.render()

    def close(self) -> None:
        self.vector_env.close()


def _infos(agents: list[str], info: dict) -> dict[str, dict]:
    # A dict per agent, not one shared: wrappers write into them (SuperSuit's terminal_observation).
    return {agent: dict(info) for agent in agents}
