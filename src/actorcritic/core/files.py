"""The one way the package writes a file it keeps: atomically, so a crash or a reader sees the old file or
the new one, never a torn one.

The content goes to a temp file in the same directory (so the final rename stays on one filesystem), which
is flushed and fsynced, then moved into place with ``os.replace``; on any failure the temp file is removed
and the old file is untouched. The temp file is created as ``open()`` creates files, mode 0o666 less the
umask (``mkstemp``'s 0o600 would make every result private), without reading the umask: ``os.umask`` is
process-wide, and sweeps and tuning write from several threads.

``held_lock`` keeps a second process out of a directory that one is writing (a run, a sweep, a study).

``atomic_path`` is the core, for writers that want a file name (``torch.jit.save``, ``savefig``, ffmpeg,
which picks the format by suffix: hence ``tmp_suffix``); ``atomic_write`` and the rest build on it.
With ``new=True`` an existing file is never replaced: a UserError, before and after writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

import filelock

from actorcritic.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | Path, tmp_suffix: str = ".tmp", *, new: bool = False) -> Iterator[Path]:
    """Yield the path of an empty temp file beside ``path``; once the block ends without an exception
    it is fsynced and renamed to ``path``. Parent directories are created."""
    path = Path(path)
    if new:
        refuse_existing(path)
    created = [p for p in path.parents if not p.exists()]  # innermost first
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(path, tmp_suffix)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if new:
            _move_new(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in created:  # a failed write leaves no empty folders of its own behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(
    path: str | Path,
    write: Callable[[IO], Any],
    mode: Literal["w", "wb"] = "w",
    tmp_suffix: str = ".tmp",
    *,
    new: bool = False,
) -> Path:
    """Create or replace ``path`` with what ``write(f)`` writes to an open file (text mode: UTF-8, no
    newline translation, as the csv module wants). Returns ``path``."""
    text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    with atomic_path(path, tmp_suffix, new=new) as tmp, open(tmp, mode, **text) as f:
        write(f)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, new: bool = False) -> Path:
    return atomic_write(path, lambda f: f.write(text), new=new)


def atomic_write_json(path: str | Path, data: Any, *, new: bool = False) -> Path:
    """``data`` as indented JSON with a final newline (config.json, summary.json, a sweep's definition)."""
    return atomic_write_text(path, json.dumps(data, indent=2) + "\n", new=new)


def write_new_file(path: str | Path, write: Callable[[str], Any], tmp_suffix: str = ".tmp") -> Path:
    """Create ``path``, never replacing a file: ``write(tmp)`` fills the temp file named ``tmp`` (exports and
    videos, whose writers take a file name). An existing ``path`` is a UserError. Returns ``path``."""
    with atomic_path(path, tmp_suffix, new=True) as tmp:
        write(str(tmp))
    return Path(path)


def refuse_existing(path: str | Path) -> None:
    """A UserError if ``path`` exists: checked before a long write, so no work is lost to it."""
    if Path(path).exists():
        raise _exists(path)


def _exists(path: str | Path) -> UserError:
    return UserError(f"'{path}' already exists; remove it or choose another path")


def _create_temp(path: Path, tmp_suffix: str) -> Path:
    """A new empty hidden file beside ``path``, created with mode 0o666 so the kernel applies the umask."""
    while True:  # a name already taken (by another writer of the same file) is tried again
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{tmp_suffix}")
        with contextlib.suppress(FileExistsError):
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp


def _move_new(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path`` unless ``path`` exists, even if it was created while we wrote: a hard link
    fails on an existing name, where ``os.replace`` would overwrite it."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError:  # a filesystem without hard links: check, then rename
        refuse_existing(path)
        os.replace(tmp, path)


LOCK_NAME = ".lock"


@contextlib.contextmanager
def held_lock(directory: str | Path, what: str) -> Iterator[None]:
    """Hold ``directory/.lock`` while the block runs, or refuse at once (a UserError) if another process
    holds it. The lock is the kernel's (``fcntl.flock`` through filelock), so it dies with its process:
    a killed run never leaves its directory locked."""
    lock = filelock.FileLock(Path(directory) / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise UserError(f"{what} '{directory}' is in use by another process; wait for it to end") from None
    try:
        yield
    finally:
        lock.release()
