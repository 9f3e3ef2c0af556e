"""The code blocks of the docs (README.md and docs/): found, and the examples among them run on short budgets.
The README's examples are blocks of site pages too (tests/docs/test_examples.py checks), and run there.

A fenced block's info string is its language, then optional words (the site ignores them:
``relaxed_headers`` in mkdocs.yml):

    ```python / ```sh / ```console    an example: it runs, in page order (tests/docs/test_examples.py)
    ```python notest / ```sh notest    an example that cannot run in the tests (pip, a Ray cluster, ...);
                                       likewise ```console notest
    ```python quote                    lines quoted from src/actorcritic (tests/unit/test_docs.py checks them)
    ```toml title="my.toml"            a file an example reads: written to the page's directory first
    ```text, ```toml, ```json, ...     not code to run: output, a tree, a file's contents

A page's examples run top to bottom in one fresh directory; its Python blocks share one namespace, like a
notebook's cells. An ``actorcritic ...`` line runs through ``actorcritic.cli.main``, the function the
installed command calls, with the budget flags shortened by ``shorten`` (the same table is on the site:
docs/getting-started.md). A ``console`` block holds ``$ actorcritic ...`` lines, each followed by the exact
output it must print. In Python, ``agent.learn(steps)`` trains ``steps`` / 100 steps.

Run as a script, this file runs the examples of the pages it is given, each in a new directory under the
current one, and writes each page's result to results/<i>.json there (``page``, ``ok``, ``log``,
``seconds``, ``cpu_seconds``). Several such processes in one directory share the pages out between them:

    python tests/doc_examples.py docs/cli.md docs/swarm.md
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import resource
import shlex
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KNOWN_LANGS = {"python", "sh", "bash", "console", "text", "toml", "yaml", "json"}
SHELL_LANGS = {"sh", "bash"}
FLAGS = {"notest", "quote"}


@dataclass(frozen=True)
class Fence:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    flags: frozenset[str]
    title: str | None
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        """An example the tests run (or, with a title, a file they write for the examples after it)."""
        return not self.flags & FLAGS and (self.lang in SHELL_LANGS | {"python", "console"} or self.title is not None)


def pages() -> list[Path]:
    """Every page with code blocks: the README and the site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


_OPEN = re.compile(r"^(?P<indent> *)(?P<ticks>```+)(?P<info>[^`]*)$")
_INFO = re.compile(r'(\w+)="([^"]*)"|(\S+)')


def fences(page: Path) -> list[Fence]:
    """The fenced code blocks of a Markdown page, in order."""
    lines = page.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        words = _INFO.findall(m["info"])
        lang = words[0][2] if words and words[0][2] else ""
        options = {k: v for k, v, _ in words if k}
        flags = frozenset(w for _, _, w in words[1:] if w)
        indent, close = len(m["indent"]), re.compile(rf"^ {{0,{len(m['indent'])}}}{m['ticks']}`*\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        code = "\n".join(line[indent:] for line in lines[i + 1 : j]) + "\n"
        out.append(Fence(page, i + 1, lang, flags, options.get("title"), code))
        i = j + 1
    return out


# ------------------------------------------------------------------------------------------ shortening
STEP_FLAGS = ("--total-steps", "--checkpoint-interval", "--eval-interval", "--log-interval", "--learning-starts")
MAX_WORKERS = 2  # the test machine's cores
STEPS_DIVISOR = 100  # training budgets: --total-steps and the step intervals, agent.learn(steps)
SWARM_STEPS_DIVISOR = 10  # swarm simulate and phase-diagram --steps
SWARM_EPISODE_STEPS = 20  # Swarm-v0 episodes in training and evaluation, in place of 200


def shorten_steps(steps: int) -> int:
    return max(1, math.ceil(steps / STEPS_DIVISOR))


def _split_equals(args: list[str]) -> list[str]:
    """``--flag=value`` as ``--flag value``, so that one form is looked for."""
    return [part for a in args for part in (a.split("=", 1) if a.startswith("--") and "=" in a else [a])]


def _value(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def _set(args: list[str], flag: str, value: Any) -> list[str]:
    """``args`` with ``flag``'s value replaced by ``value`` (or the flag appended with it)."""
    if flag in args:
        i = args.index(flag)
        return [*args[: i + 1], str(value), *args[i + 2 :]]
    return [*args, flag, str(value)]


def _scale(args: list[str], flag: str, divisor: int, default: int | None) -> list[str]:
    value = _value(args, flag)
    if value is not None:
        return _set(args, flag, max(1, math.ceil(int(value) / divisor)))
    return args if default is None else [*args, flag, str(default)]


def _cap(args: list[str], flag: str, cap: int, default: int | None = None) -> list[str]:
    value = _value(args, flag)
    if value is not None:
        return _set(args, flag, min(int(value), cap))
    return args if default is None else [*args, flag, str(default)]


def shorten(args: list[str]) -> list[str]:
    """The arguments an ``actorcritic`` example runs with in the tests (``args`` without ``actorcritic``):
    its budgets cut as the table in docs/getting-started.md says, everything else as written."""
    args = _split_equals(list(args))
    command = args[0] if args else ""
    sub = args[1] if command == "swarm" and len(args) > 1 else ""
    if command == "train":
        for flag in STEP_FLAGS:
            args = _scale(args, flag, STEPS_DIVISOR, None)
        if "--total-steps" not in args and "--resume" not in args:
            args += ["--total-steps", str(shorten_steps(10_000))]
        if _value(args, "--env") == "Swarm-v0":
            kwargs = _value(args, "--env-kwargs")
            extra = f"episode_steps={SWARM_EPISODE_STEPS}"
            args = _set(args, "--env-kwargs", f"{kwargs},{extra}" if kwargs else extra)
        args += ["--no-progress"]
    elif command == "eval" or (command, sub) == ("swarm", "evaluate"):
        args = _cap(args, "--episodes", 2, default=2)
        args = _cap(args, "--render-episodes", 1)
    elif (command, sub) in (("swarm", "simulate"), ("swarm", "phase-diagram")):
        args = _scale(args, "--steps", SWARM_STEPS_DIVISOR, default=500 // SWARM_STEPS_DIVISOR)
        if sub == "phase-diagram":
            args = _set(args, "--repeats", 1)
    elif command == "sweep":
        args = _set(args, "--seeds", 1)
        args = _scale(args, "--total-steps", STEPS_DIVISOR, default=shorten_steps(10_000))
        args += ["--no-progress"]
    elif command == "tune":
        args = _cap(args, "--trials", 2)
        args = _scale(args, "--total-steps", STEPS_DIVISOR, default=shorten_steps(10_000))
    for flag in ("--num-workers", "--workers"):
        args = _cap(args, flag, MAX_WORKERS)
    return args


def cost(page: Path) -> int:
    """A rough guess at how long a page's examples take (a sweep starts a process per run; Ray starts a
    cluster), so that the longest start first when several processes share the pages."""
    total = 0
    for f in fences(page):
        if f.runs and f.lang in SHELL_LANGS:
            total += sum(10 if w[1:2] == ["sweep"] else 5 if "ray" in w else 1 for w in shell_commands(f.code))
        elif f.runs:
            total += 2
    return total


# ------------------------------------------------------------------------------------------ running
def shell_commands(code: str) -> list[list[str]]:
    """The commands of a shell block: one a line (``\\`` continues one), comments dropped."""
    commands, pending = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        words = shlex.split(pending + line, comments=True)
        pending = ""
        if words:
            commands.append(words)
    return commands


def console_transcript(code: str) -> list[tuple[list[str], list[str]]]:
    """``$ command`` lines of a console block, each with the output lines shown under it."""
    out: list[tuple[list[str], list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            out.append((shlex.split(line[2:], comments=True), []))
        elif out and line.strip():
            out[-1][1].append(line.rstrip())
    return out


def run_cli(words: list[str]) -> tuple[int, str]:
    """Run ``actorcritic ...`` in this process, shortened; the exit code and everything it printed."""
    from actorcritic.cli import main

    if words[:1] != ["actorcritic"]:
        raise AssertionError(f"not an actorcritic command: {shlex.join(words)} (mark its block notest)")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            code = main(shorten(words[1:]))
        except SystemExit as e:  # tyro's --help and usage errors
            code = e.code if isinstance(e.code, int) else 1
    return code, buffer.getvalue()


@contextlib.contextmanager
def shortened_learn() -> Iterator[None]:
    """``Agent.learn(steps, ...)`` trains ``steps`` / 100 steps while an example's Python runs."""
    from actorcritic.runtime.agent import Agent

    learn = Agent.learn

    def short(self: Any, steps: int, *args: Any, **kwargs: Any) -> Any:
        return learn(self, shorten_steps(steps), *args, **kwargs)

    Agent.learn = short
    try:
        yield
    finally:
        Agent.learn = learn


def run_fence(fence: Fence, namespace: dict[str, Any], log: list[str]) -> None:
    """Run one block in the current directory; raises AssertionError (or the example's error) on failure."""
    if fence.title is not None:
        Path(fence.title).write_text(fence.code)
        log.append(f"{fence.where}: wrote {fence.title}")
        return
    if fence.lang == "python":
        started = time.perf_counter()
        with shortened_learn():
            exec(compile("\n" * fence.line + fence.code, fence.where, "exec"), namespace)
        log.append(f"{fence.where}: python block ({time.perf_counter() - started:.1f}s)")
        return
    steps = (
        [(words, None) for words in shell_commands(fence.code)]
        if fence.lang in SHELL_LANGS
        else console_transcript(fence.code)
    )
    for words, expected in steps:
        started = time.perf_counter()
        code, output = run_cli(words)
        ran = shlex.join(["actorcritic", *shorten(words[1:])])
        log.append(f"{fence.where}: {ran} -> exit {code} ({time.perf_counter() - started:.1f}s)")
        if expected is None:
            assert code == 0, f"{fence.where}: `{shlex.join(words)}` exited {code}:\n{output}"
        else:
            lines = [line.rstrip() for line in output.splitlines() if line.strip()]
            assert lines == expected, f"{fence.where}: `{shlex.join(words)}` printed\n{output}\nnot\n" + "\n".join(
                expected
            )


def run_page(page: Path, directory: Path) -> tuple[bool, list[str]]:
    """Run a page's examples in ``directory``, in order, until one fails."""
    directory.mkdir(parents=True)
    log: list[str] = []
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(directory)
    sys.path.insert(0, str(directory))  # `--env myenvs:Class` finds a file an example wrote, as in a shell
    try:
        for fence in fences(page):
            if fence.runs:
                run_fence(fence, namespace, log)
        return True, log
    except Exception:  # report this page, go on with the next
        log.append(traceback.format_exc())
        return False, log
    finally:
        os.chdir(cwd)
        sys.path[:] = path


def _cpu_seconds() -> float:
    """CPU time of this process and the processes it has waited for (a sweep's runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str]) -> int:
    """Run the pages' examples that no other process running this in the same directory has claimed (so
    that several can share the pages); page i's result goes to results/<i>.json."""
    Path("claims").mkdir(exist_ok=True)
    Path("results").mkdir(exist_ok=True)
    for i, name in enumerate(argv):
        try:
            os.close(os.open(f"claims/{i}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        page = Path(name).resolve()
        started, cpu = time.perf_counter(), _cpu_seconds()
        ok, log = run_page(page, Path.cwd() / f"{i:02d}-{page.stem}")
        seconds, cpu = round(time.perf_counter() - started, 1), round(_cpu_seconds() - cpu, 1)
        result = {"page": str(page), "ok": ok, "log": log, "seconds": seconds, "cpu_seconds": cpu}
        Path(f"results/{i}.json").write_text(json.dumps(result))
        print(f"{'ok    ' if ok else 'FAILED'} {seconds:6.1f}s ({cpu:.1f}s CPU) {page.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
