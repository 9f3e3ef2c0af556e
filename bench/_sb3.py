"""One SB3 (or SBX) model at the settings every bench script compares us with, built in one place.

256-256 MLPs, batch 256, buffer 1e6, tau 0.005, gamma 0.99, one gradient step per env step, and for DDPG
and TD3 Gaussian exploration noise with sigma a fraction of each action's half-range (our
``--noise-sigma`` convention). SB3 (and SBX, which reuses its collection code) adds the action noise to
the action rescaled to [-1, 1], so that fraction is the sigma it gets, whatever the action's range.
Needs the [bench] extra (``stable-baselines3``; ``sbx-rl`` for SBX).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def model(
    algo: str,
    env: Any,
    *,
    seed: int,
    learning_starts: int,
    lr: float | None = None,
    noise_sigma: float = 0.1,
    library: str = "sb3",
    **kwargs: Any,
) -> Any:
    """``library``'s DDPG, TD3 or SAC on ``env`` (a gymnasium env or its id); ``kwargs`` go to the model."""
    import gymnasium as gym
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.noise import NormalActionNoise

    if library == "sbx":
        import sbx as module
    else:
        import stable_baselines3 as module

        kwargs.setdefault("device", "cpu")
    space = (gym.make(env) if isinstance(env, str) else env).action_space
    if algo != "sac":  # SB3 adds it in [-1, 1] units: sigma noise_sigma there is noise_sigma of the half-range
        zeros = np.zeros(space.shape, dtype=np.float32)
        kwargs["action_noise"] = NormalActionNoise(zeros, zeros + noise_sigma)
    if lr is not None:
        kwargs["learning_rate"] = lr
    built = {"ddpg": module.DDPG, "td3": module.TD3, "sac": module.SAC}[algo](
        "MlpPolicy", env, policy_kwargs={"net_arch": [256, 256]}, batch_size=256, buffer_size=1_000_000,
        learning_starts=learning_starts, tau=0.005, gamma=0.99, train_freq=1, gradient_steps=1, seed=seed,
        **kwargs)  # fmt: skip
    # A logger with no outputs: learn() would otherwise make an empty folder in the temp dir on every call.
    built.set_logger(Logger(folder=None, output_formats=[]))
    return built
