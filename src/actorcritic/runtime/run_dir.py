"""Run directories: ``runs/<env>__<algo>__seed<seed>__<timestamp>/`` unless the user names one."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from actorcritic.core.files import atomic_write_json
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
    """``path``, if it can be a new run directory: an existing non-empty one is never reused, and one that
    could not be created (under a file, in a read-only place) is refused now, before anything is written."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(
            f"run directory '{path}' already exists and is not empty; "
            "resume it with `actorcritic train --resume` or choose another --run-dir"
        )
    if not path.exists():
        check_creatable(path)
    return path


def check_creatable(path: Path) -> None:
    """A UserError unless ``path`` exists or can be created. Create the first missing directory on the way to ``path`` and remove it again: the filesystem's
    own answer (a file in the way, no permission, /proc), with nothing left behind."""
    missing = path.absolute()
    while not missing.parent.exists():
        missing = missing.parent
    try:
        missing.mkdir()
    except FileExistsError:  # made meanwhile by someone else: it exists, so it can be used
        return
    except OSError as e:
        raise UserError(f"cannot create '{path}': {e.strerror}") from None
    missing.rmdir()


def check_output_dir(path: str | Path, flag: str, ours: Callable[[set[str]], bool], what: str) -> None:
    """A UserError unless ``path`` can be a command's output directory: new (and creatable), empty, or one
    whose entry names ``ours`` recognizes as that command's own output, which the command then resumes,
    extends or refuses itself. Any other directory is the user's (a run, their files): ours would mix with
    theirs and replace those of the same name. Checked before anything is written; ``what`` names the
    command's kind of directory in the message ("a sweep directory (it has no sweep.json)")."""
    path = Path(path)
    if not path.exists():
        check_creatable(path)
    elif not path.is_dir():
        raise UserError(f"{flag} '{path}' is a file, not a directory; choose a new or empty directory")
    else:
        try:  # hidden names aside: a claim's lock, a temp file left by a killed write
            names = {p.name for p in path.iterdir() if not p.name.startswith(".")}
        except OSError as e:
            raise UserError(f"{flag} '{path}' cannot be read: {e.strerror or e}") from None
        if names and not ours(names):
            raise UserError(f"{flag} '{path}' is not empty and is not {what}; choose a new or empty directory")


def create_run_dir(path: str | Path) -> Path:
    """Create a new run directory; an existing non-empty one is never reused or overwritten."""
    path = check_new_run_dir(path)
    (path / "checkpoints").mkdir(parents=True, exist_ok=True)
    (path / "plots").mkdir(exist_ok=True)
    return path


# The name the training engine imports for config.json and summary.json; the writer is core/files.py.
write_json = atomic_write_json


def member_run_dirs(run_dir: str | Path | Sequence[str | Path] | None, seeds: list[int]) -> list[Path | None]:
    """Each member's new run directory: ``run_dir`` alone; in a group ``run_dir/seed<S>``, or one
    directory per member when ``run_dir`` is a list. All are checked here; the loop creates them when
    training starts, so a refused setting leaves nothing behind."""
    if run_dir is None:
        return [None] * len(seeds)
    if isinstance(run_dir, str | Path):
        if len(seeds) > 1:  # a group's new directory holds its members' runs: never put them into another run
            check_new_run_dir(run_dir)
        dirs = [Path(run_dir)] if len(seeds) == 1 else [Path(run_dir) / f"seed{s}" for s in seeds]
    else:
        dirs = [Path(d) for d in run_dir]
    if len(dirs) != len(seeds) or len(set(dirs)) != len(dirs):
        raise UserError(f"{len(seeds)} seeds need {len(seeds)} distinct run directories, got {len(dirs)}")
    return [check_new_run_dir(d) for d in dirs]
