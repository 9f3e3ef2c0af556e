"""Videos of an agent: deterministic evaluation episodes of its first member, as a GIF or an MP4.

Frames are the eval env's ``rgb_array`` renders (a swarm's own renderer for ``Swarm-v0``), one per env
step, taken after the step: an episode of L steps gives L frames (its reset state is not shown), and
``episodes`` episodes give the sum of their lengths, played at ``fps`` frames per second.

- MP4 (imageio-ffmpeg, H.264): exactly one frame per step, streamed to ffmpeg as they come.
- GIF (Pillow): consecutive identical frames are stored once, their display times added up, so a GIF
  may hold fewer frames than steps but plays as long. GIF frame times are whole 1/100 s (fps 30 plays at
  about 33), and every frame is held in memory until the file is written: prefer MP4 for long videos.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from actorcritic.core.files import refuse_existing, write_new_file
from actorcritic.errors import UserError
from actorcritic.runtime.evaluation import close_envs

if TYPE_CHECKING:
    from actorcritic.runtime.agent import Agent

VIDEO_EXTRA = '--render needs the [video] extra: pip install -e ".[video]"'
SUFFIXES = (".gif", ".mp4")


def record_video(agent: Agent, path: str | Path, episodes: int = 1, fps: int = 30, seed: int | None = None) -> Path:
    """Record ``episodes`` deterministic episodes of ``agent`` (its first member) to ``path``, a .gif or .mp4.

    Episodes are seeded as ``agent.evaluate(episodes, round_id=-1, seed=seed)`` seeds them (``seed`` None:
    the member's own seed), so the video shows the episodes that call measures. The file is written
    atomically; an existing ``path`` is never overwritten (a UserError). Returns ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"a video is a .gif or an .mp4 file, got '{path}'")
    if episodes < 1 or fps < 1:
        raise UserError(f"episodes and fps must be >= 1, got episodes={episodes}, fps={fps}")
    refuse_existing(path)
    imageio = _require_imageio(suffix)

    def write(tmp: str) -> None:
        with _frame_writer(imageio, tmp, suffix, fps) as append:
            _evaluate_with_frames(agent, episodes, seed, append)

    return write_new_file(path, write, tmp_suffix=f".tmp{suffix}")  # ffmpeg picks the container by suffix


def _evaluate_with_frames(agent: Agent, episodes: int, seed: int | None, write: Callable[[np.ndarray], None]) -> None:
    """``agent.evaluate`` with every rendered frame of the first member's eval env passed to ``write``."""
    env_id = agent.env_id

    def on_frame(frame: np.ndarray | None) -> None:
        if frame is None:
            raise UserError(f"env '{env_id}' rendered no frame: it does not support render_mode='rgb_array'")
        write(np.ascontiguousarray(frame))

    # Eval envs made earlier (by an evaluation during training) may not render; this one uses its own,
    # made with render_mode="rgb_array", and afterwards the agent's eval envs are the ones it had.
    kept = [m.eval_envs for m in agent.members]
    for m in agent.members:
        m.eval_envs = []
    # Frames are drawn off screen: no window, no sound. Without these, SDL (pygame) probes the desktop and
    # the audio server and prints its own "error: XDG_RUNTIME_DIR ..." lines on a headless machine.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        agent.evaluate(episodes, round_id=-1, on_frame=on_frame, seed=seed)
    except gym.error.DependencyNotInstalled as e:  # e.g. pygame, which the classic-control envs render with
        raise UserError(f"{VIDEO_EXTRA} ({e})") from None
    except NotImplementedError:  # gym.Env.render of an env that defines none
        raise UserError(f"env '{env_id}' cannot render frames (it defines no render())") from None
    finally:
        for m, envs in zip(agent.members, kept, strict=True):
            close_envs(m.eval_envs)
            m.eval_envs = envs


@contextlib.contextmanager
def _frame_writer(imageio: Any, file: str, suffix: str, fps: int) -> Iterator[Callable[[np.ndarray], None]]:
    """A function that appends one [H, W, 3] uint8 frame to the video ``file``; the file is finished on exit."""
    if suffix == ".mp4":
        # macro_block_size 2: H.264 in yuv420p needs even sizes; an odd one is scaled by a pixel, not 16.
        writer = imageio.v2.get_writer(file, format="FFMPEG", mode="I", fps=fps, macro_block_size=2)
        with contextlib.closing(writer):
            yield writer.append_data
        return
    with imageio.v3.imopen(file, "w", plugin="pillow", extension=".gif") as gif:
        yield lambda frame: gif.write(frame, duration=1000 / fps, loop=0)


def _require_imageio(suffix: str) -> Any:
    """imageio, and for an MP4 an ffmpeg binary (imageio-ffmpeg ships one), or the extra to install."""
    try:
        import imageio
        import imageio.v2
        import imageio.v3

        if suffix == ".mp4":
            import imageio_ffmpeg

            imageio_ffmpeg.get_ffmpeg_exe()  # raises when no ffmpeg can be found
    except (ImportError, RuntimeError):
        raise UserError(VIDEO_EXTRA) from None
    return imageio
