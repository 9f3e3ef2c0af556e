"""Seed streams: every random stream of a run comes from the run seed and a named stream, never a magic number.

    stream_seed(seed, Stream.ENV_EPISODE, env, episode)    the reset seed of one training episode
    stream_seed(seed, Stream.INIT)                         a member's initial weights

The stream's name and the number of keys are part of the entropy, so no two calls that differ in
stream or keys can collide: ``(REPLAY,)`` differs from ``(REPLAY, 0)``, and a stream never shares its
seeds with another one's episodes.
"""

from __future__ import annotations

import enum

import numpy as np
import torch

_MASK = 0xFFFF_FFFF_FFFF_FFFF  # keys are taken as unsigned 64-bit (negative ones as two's complement)


class Stream(enum.IntEnum):
    """The random streams of a run. The values are part of every seed: never renumber one."""

    INIT = 1  # network weights
    REPLAY = 2  # replay sampling
    NOISE = 3  # exploration noise
    EXPLORE = 4  # uniform warm-up actions
    POLICY = 5  # randomness inside the algorithm: action samples, target smoothing, minibatch order
    ENV_EPISODE = 6  # (env, episode): the reset seed of a training episode
    EVAL_EPISODE = 7  # (round, episode): the reset seed of an evaluation episode
    A3C_WORKER = 8  # (worker, step): an A3C worker's own streams, new after each resume
    ROLLOUT_WORKER = 9  # (worker, step): a Ray rollout worker's own streams
    RESTART = 10  # (process id): a worker restarted by Ray, so that it does not replay its episodes


def stream_seed(seed: int, stream: Stream, *keys: int) -> int:
    """A reproducible 32-bit seed for ``stream`` of run ``seed``, keyed by e.g. (env index, episode)."""
    entropy = [int(seed) & _MASK, int(stream), len(keys), *(int(k) & _MASK for k in keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def stream_generator(seed: int, stream: Stream, *keys: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator seeded for ``stream`` of run ``seed``."""
    return torch.Generator(device).manual_seed(stream_seed(seed, stream, *keys))
