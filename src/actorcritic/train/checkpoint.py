"""Checkpoints: written atomically, loaded without executing code (``torch.load(weights_only=True)``)."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

from actorcritic.errors import UserError

LATEST, BEST = "latest.pt", "best.pt"


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write to a temp file in the same directory, fsync, then ``os.replace``.

    A kill at any moment leaves either the previous checkpoint or the new one, never a torn file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


def load_checkpoint(path: str | Path, which: str = LATEST) -> dict:
    """Load a checkpoint safely: tensors and plain containers only, no code is executed."""
    file = resolve_checkpoint(path, which)
    try:
        # torch warns about unusual pickle protocols before refusing them; the error says enough.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load raises many types on a torn or foreign file
        kind = type(e).__name__
        raise UserError(f"cannot read checkpoint '{file}': corrupt or not a checkpoint ({kind})") from None
    if not isinstance(state, dict) or "algo" not in state or "format" not in state:
        raise UserError(f"'{file}' is not an actorcritic checkpoint")
    return state
