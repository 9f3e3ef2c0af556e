"""Ray, for users who outgrow one machine: joining a cluster (or starting a local instance), a pool of
worker actors that Ray restarts when they die, and moving a run directory between nodes.

Ray is the optional extra ``[ray]``; everything here imports it lazily and says so when it is missing.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actorcritic.core.seeding import Stream, stream_seed
from actorcritic.errors import TrainingDiverged, UserError

# How often Ray restarts a worker actor whose process died (killed, out of memory, node lost), and retries
# the task it was running. A worker that raises an exception is not restarted: the run stops with it.
MAX_RESTARTS = 20
# Ray's single-machine mode (its default on macOS and Windows): every server listens on 127.0.0.1 only.
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def require_ray() -> Any:
    """The ``ray`` module, or a user error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise UserError("the Ray back end needs the [ray] extra: pip install 'actorcritic[ray]'") from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Connect to Ray once per process: join the cluster at ``address`` ("auto", or HOST:PORT of its head),
    or, without one, start a local instance whose servers listen on 127.0.0.1 only. Returns ``ray``."""
    if address is None:
        os.environ.setdefault(_LOOPBACK_ONLY, "0")  # read when ray is imported, and by the processes it starts
    ray = require_ray()
    if address is not None and address != "auto" and not address.startswith("ray://"):
        _check_reachable(address)  # ray.init retries an unreachable head for minutes
    if ray.is_initialized():
        return ray
    if address is None:
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = os.environ[_LOOPBACK_ONLY] != "0"  # ray may have been imported first
        # ERROR: a private instance on 127.0.0.1 needs no notice about cluster authentication tokens
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.ERROR)
        return ray
    try:
        ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as e:
        reason = str(e).splitlines()[0]
        if address == "auto" and "Could not find any running Ray instance" in reason:
            reason = "no Ray cluster runs here (start one with `ray start --head`, or give HOST:PORT of its head)"
        raise UserError(f"cannot join the Ray cluster at '{address}': {reason}") from None
    return ray


def _check_reachable(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise UserError(f"--ray-address wants auto or HOST:PORT (the head node's GCS port, e.g. 6379), got '{address}'")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise UserError(f"cannot join the Ray cluster at '{address}': {e.strerror or e}") from None


def ours(error: Any) -> Exception | None:
    """The error a Ray task raised, when it is one of this project's (a user error, diverged training) and
    so should reach the user as it is; None for anything else."""
    return error.cause if isinstance(error.cause, UserError | TrainingDiverged) else None


class PoolWorker:
    """The base of a ``WorkerPool``'s actor classes: it answers every task with its process id, so the pool
    counts the restarts, and it gives a restarted worker a new seed, so that it does not replay the
    episodes it already collected."""

    @staticmethod
    def seed_after_restart(seed: int) -> int:
        """``seed`` in the first process of this actor; a new one in a process Ray restarted it in."""
        import ray

        with warnings.catch_warnings():  # Ray's own property warns about Ray's own deprecated API
            warnings.simplefilter("ignore")
            restarted = ray.get_runtime_context().was_current_actor_reconstructed
        return stream_seed(seed, Stream.RESTART, os.getpid()) if restarted else seed

    def call(self, method: str, *args: Any) -> tuple[int, Any]:
        return os.getpid(), getattr(self, method)(*args)

    def pid(self) -> int:
        return os.getpid()


class WorkerPool:
    """Ray actors of one ``PoolWorker`` class and the tasks asked of them; results come back in the order
    they finish, with the index of the worker that sent them.

    A worker whose process dies is restarted by Ray (its constructor runs again with the same arguments)
    and the tasks it had not finished are retried, up to ``MAX_RESTARTS`` times; training never sees it,
    but ``restarts`` counts it (a result from a new process id), on top of the ``restarts`` it was given.
    """

    def __init__(self, cls: type[PoolWorker], args: Sequence[tuple], what: str = "worker", restarts: int = 0):
        ray = init_ray()
        remote = ray.remote(cls).options(
            max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS, scheduling_strategy="SPREAD"
        )
        self.ray, self.what = ray, what
        self.actors = [remote.remote(*a) for a in args]
        self.pending: dict[Any, int] = {}  # task ref -> worker index, in the order they were asked for
        self.pids: list[set[int]] = [set() for _ in args]  # the processes each worker's results came from
        self.earlier_restarts = restarts  # counted before this pool (earlier learn() calls, a resumed run)

    @property
    def restarts(self) -> int:
        return self.earlier_restarts + sum(max(len(pids) - 1, 0) for pids in self.pids)

    def submit(self, worker: int, method: str, *args: Any) -> None:
        """Ask ``worker`` for ``method(*args)``; a worker runs the tasks it is given one after another."""
        self.pending[self.actors[worker].call.remote(method, *args)] = worker

    def next(self) -> tuple[int, Any]:
        """(worker index, result) of the task asked for first among those finished. (``ray.wait`` alone can
        answer a worker's newest task again and again while another worker's results wait unread.)"""
        refs = list(self.pending)
        self.ray.wait(refs, num_returns=1)
        ready = set(self.ray.wait(refs, num_returns=len(refs), timeout=0)[0])
        ref = next(r for r in refs if r in ready)
        worker = self.pending.pop(ref)
        try:
            pid, result = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as e:  # the worker raised: stop the run with its message
            cause = ours(e)
            message = f"{self.what} {worker} failed: " + (str(cause) if cause else str(e).strip().splitlines()[-1])
            raise (type(cause) if cause else RuntimeError)(message) from None
        except self.ray.exceptions.RayActorError as e:
            raise RuntimeError(f"{self.what} {worker} died and could not be restarted: {e}") from None
        self.pids[worker].add(pid)
        return worker, result

    def stop(self) -> None:
        """Let the tasks in flight finish (their results are dropped), then end every worker."""
        if self.pending:
            self.ray.wait(list(self.pending), num_returns=len(self.pending), timeout=10)
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors, self.pending = [], {}


def pack_dir(path: Path) -> bytes:
    """A directory as gzipped tar bytes, to send to another node."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname=".")
    return buffer.getvalue()


def unpack_dir(data: bytes, dest: Path) -> Path:
    """Unpack ``pack_dir`` bytes into ``dest``, replacing what was there only once the new copy is whole."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, filter="data")  # "data": no absolute paths, links or devices from the archive
        else:  # Python 3.11 before 3.11.4 has no filters: only plain files and folders, inside staging
            inside = staging.resolve()
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or not (inside / member.name).resolve().is_relative_to(
                    inside
                ):
                    raise ValueError(f"unsafe entry in a run directory archive: {member.name}")
            tar.extractall(staging)
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        os.replace(dest, old)
        os.replace(staging, dest)
        shutil.rmtree(old)
    else:
        os.replace(staging, dest)
    return dest


TMP = "{tmp}"  # in run_cli_remotely's arguments: the temporary directory it runs in, on whichever node


def run_cli_remotely(args: list[str], config: str, run_dir: bytes | None) -> Any:
    """Start ``actorcritic <args>`` as a Ray task on any node (one CPU, a fresh worker process) in a
    temporary directory that holds ``config.json`` and, when given, ``run`` unpacked from ``run_dir`` (to
    resume it). The task's result is (exit code, console output, the directory ``run`` packed, or None)."""
    ray = init_ray()
    task = ray.remote(num_cpus=1, max_calls=1, scheduling_strategy="SPREAD")(_run_cli_in_temp_dir)
    return task.remote(args, config, run_dir)


def _run_cli_in_temp_dir(args: list[str], config: str, run_dir: bytes | None) -> tuple[int, str, bytes | None]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "config.json").write_text(config)
        if run_dir is not None:
            unpack_dir(run_dir, home / "run")
        # The command in a process of its own (``python -m actorcritic``), its output captured.
        done = subprocess.run([sys.executable, "-m", "actorcritic", *(a.replace(TMP, tmp) for a in args)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)  # fmt: skip
        run = home / "run"
        return done.returncode, done.stdout.replace(tmp, TMP), pack_dir(run) if run.exists() else None
