"""``actorcritic train --seeds K`` over processes: the K seeds split into P shards, each shard a seed group of
its own, trained on one thread in a process of its own, side by side.

Why: a group's matrix products are batched, but its Python (each member's env step and draws, the graph's
call) runs on one core while the others wait. P processes run P groups' Python at once. On a 2-core
machine, 8 seeds at 64-64 took 1.07-1.25x less time per turn as 2 processes of 4 than as one group
(``bench/seed_shards.py``, docs/speed.md). Each member's run directory is what one group would have
written: the same files, the same checkpoints, resumed with ``actorcritic train --resume DIR...``.

The parent validates what it can (the env, every run directory), then starts the shards in two phases, so
that a mistake found while building an agent still leaves nothing behind:

1. each shard builds its agent and says it is ready, or sends its error;
2. only when every shard is ready does the parent let them train; otherwise it stops them all.

Ctrl-C reaches the parent alone (the shards ignore SIGINT); it sends each shard SIGTERM, which stops a run
cleanly with a checkpoint, and prints one line that resumes them all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import connection
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from actorcritic.agents import agent_class, load
from actorcritic.errors import Interrupted, RunFailed, TrainingDiverged, UserError
from actorcritic.runtime.checkpoint import LATEST
from actorcritic.runtime.progress import ProgressBar
from actorcritic.runtime.threads import set_threads, usable_cores

POLL_SECONDS = 0.2  # how often the parent reads the shards' steps, and a shard writes its own
STOP_SECONDS = 60  # after one shard failed, how long the others may take to stop before they are killed
COMPILING = ("compiling the update with torch.compile at the first updates{where}: about 40 s on a first run, "
             "under 10 s once torch's compile cache holds it (--compile off runs it eagerly)")  # fmt: skip


@dataclass(frozen=True)
class Shard:
    """One process's part of the group: what it needs to build and train its agent (sent pickled)."""

    index: int
    algo: str
    env: str
    config: Any
    seeds: list[int]
    run_dirs: list[Path]
    steps: int
    checkpoint_interval: int | None
    device: str
    threads: int | str  # --threads: auto is one thread, each shard a core of its own
    compile: str  # auto, on or off
    env_kwargs: dict[str, Any]
    resume: bool = False  # resume ``run_dirs`` from their checkpoints (one step) up to ``steps`` in all


def auto_processes(seeds: int, device: str, backend: str) -> int:
    """``--processes auto``: one per free core, at most one per seed; one on a GPU or with Ray."""
    if seeds == 1 or device != "cpu" or backend != "local":
        return 1
    return max(1, min(seeds, len(usable_cores())))


def split(seeds: list[int], processes: int) -> list[list[int]]:
    """The seeds in ``processes`` contiguous shards whose sizes differ by at most one."""
    k, p = len(seeds), min(processes, len(seeds))
    sizes = [k // p + (i < k % p) for i in range(p)]
    starts = [sum(sizes[:i]) for i in range(p)]
    return [seeds[s : s + n] for s, n in zip(starts, sizes, strict=True)]


def train_shards(shards: list[Shard], progress: bool, announce: str = "") -> list[dict[str, Any]]:
    """Train every shard in its own process, printing ``announce`` once all are built; returns the members'
    summaries in seed order. A shard's error is raised here as the error it was (UserError,
    TrainingDiverged, Interrupted, or RunFailed for a crash) once all have stopped."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch threads or locks carried over
    steps = ctx.Array("q", len(shards), lock=False)
    # One pipe per shard, nothing shared: a shard killed while it wrote (a shared Queue's write lock, held
    # by a process that died, once hung another shard at its exit) ends its own pipe and no one else's.
    pipes = [ctx.Pipe() for _ in shards]
    made = _make_parents([d for s in shards for d in s.run_dirs])  # not by each process: they would race
    with _sigint_ignored():  # the children inherit it: Ctrl-C is the parent's to handle
        procs = [ctx.Process(target=_run, args=(s, steps, end), daemon=True) for s, (_, end) in zip(shards, pipes, strict=True)]  # fmt: skip
        for p in procs:
            p.start()
    for _, end in pipes:
        end.close()  # the parent's copy of the shard's end: the shard's death is then the end of its pipe
    conns = [c for c, _ in pipes]
    outcomes: dict[int, tuple] = {}
    started = False
    completed = lambda: sum(steps[s.index] * len(s.seeds) for s in shards)  # noqa: E731
    try:
        _wait(procs, conns, outcomes)
        failed = [o for o in outcomes.values() if o[0] != "ready"]
        if failed:
            raise _error(failed[0])
        if announce:
            print(announce)
        if any(o[2] for o in outcomes.values()):
            print(COMPILING.format(where=", in each process"))
        outcomes.clear()
        started = _tell(conns, "train")

        stopped: dict[int, float] = {}

        def tick() -> None:
            bar.update(completed())
            if any(o[0] != "done" for o in outcomes.values()):  # one failed: the others stop, with checkpoints
                for i, p in enumerate(procs):
                    if i not in outcomes and i not in stopped and p.is_alive():
                        p.terminate()  # once: SIGTERM asks the loop to stop after its turn
                        stopped[i] = time.monotonic()
                    elif i in stopped and p.is_alive() and time.monotonic() - stopped[i] > STOP_SECONDS:
                        p.kill()

        with ProgressBar(sum(s.steps * len(s.seeds) for s in shards), unit="steps", disable=not progress) as bar:
            _wait(procs, conns, outcomes, tick)
            bar.update(completed(), force=True)
    except KeyboardInterrupt:
        for i, p in enumerate(procs):
            if p.is_alive() and (not started or i not in outcomes):
                p.terminate()  # SIGTERM: a training run stops after its turn, with a checkpoint
        if not started:
            raise Interrupted("interrupted before training started; nothing was written") from None
        _wait(procs, conns, outcomes)
        raise Interrupted(_interrupted(shards)) from None
    finally:
        if not started:  # a shard failed before training: the others stop without writing anything
            _tell(conns, "stop")
        for p in procs:
            p.join(timeout=STOP_SECONDS)
            if p.is_alive():
                p.kill()
        for c in conns:
            c.close()
        if not started:
            for d in reversed(made):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only if empty
    failed = [o for o in outcomes.values() if o[0] not in ("done", "interrupted")] or [
        o for o in outcomes.values() if o[0] != "done"
    ]  # the cause first, then the ones it stopped
    if failed:
        raise _error(failed[0])
    return sorted((summary for o in outcomes.values() for summary in o[2]), key=lambda s: s["seed"])


def _tell(conns: list[Connection], word: str) -> bool:
    """Send every shard still listening ``word``: "train" or "stop"."""
    for c in conns:
        with contextlib.suppress(OSError):  # a shard that has already ended
            c.send(word)
    return word == "train"


def _make_parents(dirs: list[Path]) -> list[Path]:
    """Create the missing parents of ``dirs`` (a group's DIR, or runs/); returns those made, outermost first."""
    made: list[Path] = []
    for parent in dict.fromkeys(d.parent for d in dirs):
        missing = [p for p in (parent, *parent.parents) if not p.exists()]
        for p in reversed(missing):
            p.mkdir()
            made.append(p)
    return made


def _wait(procs: list[Any], conns: list[Connection], outcomes: dict[int, tuple], tick: Any = None) -> None:
    """Collect each shard's next message into ``outcomes`` until every shard has one; a shard whose pipe
    ended without one (killed, out of memory) counts as failed."""
    while len(outcomes) < len(procs):
        waiting = [c for i, c in enumerate(conns) if i not in outcomes]
        for c in connection.wait(waiting, timeout=POLL_SECONDS):
            i = conns.index(c)
            try:
                outcomes[i] = c.recv()
            except (EOFError, OSError):
                procs[i].join(timeout=5)
                outcomes[i] = ("died", i, f"the process training shard {i} ended with exit code {procs[i].exitcode}", 1)  # fmt: skip
        if tick is not None:
            tick()


def _error(outcome: tuple) -> Exception:
    kind, _, message, code = outcome
    if kind == "interrupted":
        return Interrupted(message)
    if code == 2:
        return UserError(message)
    return TrainingDiverged(message) if kind == "diverged" else RunFailed(message)


def _interrupted(shards: list[Shard]) -> str:
    dirs = " ".join(str(d) for s in shards for d in s.run_dirs)
    return f"interrupted by SIGINT; each run saved its checkpoint; resume with `actorcritic train --resume {dirs}`"


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(shard: Shard, steps: Any, conn: Connection) -> None:
    """A shard's process: build its agent, say so, wait for the word, train, send the summaries."""
    set_threads(1 if shard.threads == "auto" else int(shard.threads))
    try:
        if shard.resume:
            agent = load(shard.run_dirs, LATEST, shard.device, compile=shard.compile == "on")
            agent.resume_in(shard.run_dirs, shard.checkpoint_interval)
            to_go = max(0, shard.steps - agent.global_step)
        else:
            agent = agent_class(shard.algo)(
                shard.env, shard.config, seed=shard.seeds, run_dir=shard.run_dirs, device=shard.device,
                checkpoint_interval=shard.checkpoint_interval, compile=shard.compile == "on",
                env_kwargs=shard.env_kwargs)  # fmt: skip
            to_go = shard.steps
        compiling = shard.compile == "on" or (shard.compile == "auto" and agent.compile_pays(to_go))
        if compiling:
            agent.compile_update()
    except UserError as e:
        conn.send(("error", shard.index, str(e), 2))
        return
    except Exception:
        conn.send(("crash", shard.index, traceback.format_exc(), 1))
        return
    conn.send(("ready", shard.index, compiling))
    try:
        if conn.recv() != "train":
            return
    except EOFError:  # the parent is gone
        return
    stop = threading.Event()
    reporter = threading.Thread(target=_report_steps, args=(agent, shard.index, steps, stop))
    reporter.start()
    try:
        try:
            agent.learn(to_go)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # it has stopped: a late SIGTERM must not cut its message
            agent.close()  # as a run alone: its envs, loggers and workers, however it ended
        outcome: tuple = ("done", shard.index, [agent.summary(i) for i in range(agent.num_members)])
    except Interrupted as e:
        outcome = ("interrupted", shard.index, str(e), 130)
    except TrainingDiverged as e:
        outcome = ("diverged", shard.index, str(e), 1)
    except UserError as e:
        outcome = ("error", shard.index, str(e), 2)
    except Exception:
        outcome = ("crash", shard.index, traceback.format_exc(), 1)
    finally:
        stop.set()
        reporter.join()  # ended before the interpreter is (a thread alive then made torch abort the exit)
        steps[shard.index] = agent.clock.global_step
    conn.send(outcome)


def _report_steps(agent: Any, index: int, steps: Any, stop: threading.Event) -> None:
    """Copy the shard's env step into the shared array for the parent's bar: nothing added to the loop."""
    while not stop.wait(POLL_SECONDS):
        steps[index] = agent.clock.global_step
