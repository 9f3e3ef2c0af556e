"""Checkpoints: written atomically, loaded without executing code (``torch.load(weights_only=True)``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from actorcritic.core.files import atomic_write
from actorcritic.errors import UserError

LATEST, BEST = "latest.pt", "best.pt"


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write ``state`` atomically (core/files.py: a temp file in the same directory, fsync, ``os.replace``).

    A kill at any moment leaves either the previous checkpoint or the new one, never a torn file.
    """
    return atomic_write(path, lambda f: torch.save(state, f), mode="wb")


def resolve_checkpoint(path: str | Path, which: str = LATEST) -> Path:
    """A checkpoint file, or a run directory whose ``checkpoints/<which>`` is used.

    ``which`` is "latest" or "best" (with or without ".pt").
    """
    path = Path(path)
    which = which if which.endswith(".pt") else f"{which}.pt"
    if path.is_dir():
        candidate = path / "checkpoints" / which
        if not candidate.is_file():
            raise UserError(f"no checkpoint at {candidate} (is '{path}' a run directory?)")
        return candidate
    if not path.is_file():
        raise UserError(f"no such run directory or checkpoint: '{path}'")
    return path


def load_checkpoint(path: str | Path, which: str = LATEST, mmap: bool = False) -> dict:
    """Load a checkpoint safely: tensors and plain containers only, no code is executed. ``mmap``: the
    tensors stay in the file until read, for a look at its clock that does not read its replay buffer."""
    file = resolve_checkpoint(path, which)
    try:
        # torch warns about unusual pickle protocols before refusing them; the error says enough.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:  # torch.load raises many types on a torn or foreign file
        kind = type(e).__name__
        raise UserError(f"cannot read checkpoint '{file}': corrupt or not a checkpoint ({kind})") from None
    if not isinstance(state, dict) or "algo" not in state or "format" not in state:
        raise UserError(f"'{file}' is not an actorcritic checkpoint")
    return state
