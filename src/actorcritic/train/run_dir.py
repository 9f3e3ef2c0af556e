"""Run directories: ``runs/<env>__<algo>__seed<seed>__<timestamp>/`` unless the user names one."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from actorcritic.errors import UserError

CONFIG, METRICS, EPISODES, SUMMARY = "config.json", "metrics.csv", "episodes.csv", "summary.json"


def default_run_dir(env_id: str, algo: str, seed: int, root: str | Path = "runs") -> Path:
    env_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", env_id)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{env_name}__{algo}__seed{seed}__{stamp}"
    suffix = 1
    while path.exists():  # two runs started in the same second
        suffix += 1
        path = Path(root) / f"{env_name}__{algo}__seed{seed}__{stamp}-{suffix}"
    return path


def check_new_run_dir(path: str | Path) -> Path:
    """``path``, if it can be a new run directory: an existing non-empty one is never reused."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(
            f"run directory '{path}' already exists and is not empty; "
            "resume it with `actorcritic train --resume` or choose another --run-dir"
        )
    return path


def create_run_dir(path: str | Path) -> Path:
    """Create a new run directory; an existing non-empty one is never reused or overwritten."""
    path = check_new_run_dir(path)
    (path / "checkpoints").mkdir(parents=True, exist_ok=True)
    (path / "plots").mkdir(exist_ok=True)
    return path


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def write_new_file(path: str | Path, write: Callable[[str], None], tmp_suffix: str = ".tmp") -> Path:
    """Create ``path`` atomically, never replacing a file: ``write(tmp)`` fills a temp file in the same
    directory (named with ``tmp_suffix``, for writers that choose the format by suffix), which is fsynced
    and renamed to ``path``. An existing ``path`` is a UserError, checked before and after writing."""
    path = Path(path)
    refuse_existing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=tmp_suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        refuse_existing(path)  # created meanwhile
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def refuse_existing(path: Path) -> None:
    if path.exists():
        raise UserError(f"'{path}' already exists; remove it or choose another path")
