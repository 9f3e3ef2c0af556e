"""A compiled update saved whole, so that the next process loads it instead of tracing it again.

With torch's compile caches warm, a run still pays about 4.4 s at its first update (DDPG, 256-256, one
thread): dynamo traces the update's bytecode again (2.35 s, most of it inside ``torch.func.grad``), then
inductor loads its cached graph. torch's precompiled functions (``torch.compile(...).aot_compile`` and
``torch.compiler.load_compiled_function``, marked experimental in torch 2.13) save dynamo's output too: the
bytecode that reads the function's tensors, its guards and the compiled graph. Loading one took 0.04 s in
a process that had imported torch's compiler, 1.05 s in one that had not.

The file is keyed by everything the graph was built from (``key``): torch's and Python's versions, the
CPU's instruction sets, this package's source, torch's environment variables, the learner (its class, its
settings, the shapes and dtypes of every tensor it holds), the shapes and dtypes of the other arguments'
tensors, and the call's own key (its flags, shapes, grad mode, autocast and thread count). A learner's
settings are the only Python values its update reads, and the replay buffer's sizes follow from them and
from its tensors' shapes. So a file is only ever loaded for the graph it holds; any change to the code
or the settings misses, and compiles and saves a new file.

The files live beside torch's own compile cache (``TORCHINDUCTOR_CACHE_DIR``), so clearing that clears them.
Like that cache, they hold compiled code that loading runs: put nothing there you did not build. Anything
that goes wrong (an unreadable or stale file, a torch without the API, a guard that fails) falls back to
the plain ``torch.compile`` path, which is only slower.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from actorcritic.core.files import atomic_path

PACKAGE = Path(__file__).resolve().parent.parent
# torch's settings from the environment, as the process started: compiling sets some of its own (its
# worker pool's), which would change the key of every later graph in the process
PLAIN = (bool, int, float, str, torch.dtype, torch.device)  # values a key shows as they are
TORCH_ENVIRONMENT = repr(sorted((k, v) for k, v in os.environ.items() if k.startswith(("TORCH", "INDUCTOR"))))


@functools.cache
def source_digest() -> str:
    """A digest of this package's Python source: any change to the code gives new files."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def machine() -> str:
    """The platform and the CPU's instruction sets, which inductor's kernels are built for."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    except OSError:
        pass
    return f"{platform.machine()} {torch.backends.cpu.get_cpu_capability()} {flags}"


def describe(obj: Any, values: bool = True, depth: int = 6, seen: set[int] | None = None) -> str:
    """What a compiled graph may depend on in ``obj``: its tensors' shapes, dtypes and devices, its modules'
    structure, and (with ``values``) its Python settings; never a tensor's values."""
    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        return f"T{tuple(obj.shape)}{obj.dtype}{obj.device.type}{int(obj.requires_grad)}"
    if obj is None or isinstance(obj, PLAIN):
        return repr(obj) if values else "-"
    if depth == 0:
        return type(obj).__qualname__
    inner = functools.partial(describe, values=values, depth=depth - 1, seen=seen)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return repr(obj) if values else type(obj).__qualname__
    if isinstance(obj, (list, tuple)):
        return f"{type(obj).__qualname__}[{','.join(inner(x) for x in obj)}]"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{inner(k)}:{inner(v)}" for k, v in obj.items()) + "}"
    if callable(obj) and not isinstance(obj, torch.nn.Module):  # a function, or a compiled one (its graphs
        return getattr(obj, "__qualname__", type(obj).__qualname__)  # are what is being keyed)
    if id(obj) in seen:  # an object met before (a module that an optimizer holds too)
        return type(obj).__qualname__
    seen.add(id(obj))
    if isinstance(obj, torch.nn.Module):
        tensors = [*obj.named_parameters(), *obj.named_buffers()]
        return f"{obj!r}<{','.join(f'{n}:{inner(t)}' for n, t in tensors)}>"
    attributes = getattr(obj, "__dict__", None)
    if attributes is None:
        return type(obj).__qualname__
    return f"{type(obj).__qualname__}({','.join(f'{k}={inner(v)}' for k, v in sorted(attributes.items()))})"


def key(owner: Any, args: tuple[Any, ...], call_key: Any, options: Any) -> str:
    """The file name of a precompiled function of ``owner`` (the bound object, whose settings count) called
    with ``args`` (whose tensors' layouts count), for the call's own key."""
    parts = [torch.__version__, sys.version, machine(), source_digest(), TORCH_ENVIRONMENT, _plain(call_key),
             _plain(sorted((options or {}).items())), describe(owner), describe(args, values=False)]  # fmt: skip
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _plain(obj: Any) -> str:
    """``obj``'s repr, with each object in it that is not a plain value (a replay buffer in a call's key, a
    function in the options) as its type's name: where it matters, ``describe`` has it."""
    if isinstance(obj, (list, tuple)):
        return f"({','.join(_plain(x) for x in obj)})"
    if obj is None or isinstance(obj, PLAIN):
        return repr(obj)
    return getattr(obj, "__qualname__", type(obj).__qualname__)


def folder() -> Path:
    """Where the files go: beside torch inductor's cache."""
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    return Path(cache_dir()) / "actorcritic-precompiled"


def load(path: Path) -> Any:
    """The precompiled function saved at ``path``."""
    from torch._guards import TracingContext, tracing

    # Building its guards installs one on an imported module, which asks for a tracing context (torch 2.13).
    with open(path, "rb") as f, tracing(TracingContext(None)):
        return torch.compiler.load_compiled_function(f)


def aot_compile(fn: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    """``fn`` compiled for ``args`` (inductor with ``options``, whole graph, static shapes), as a function
    torch can save.

    Torch keeps in the file the dicts whose key order its guards would check only when every guard is one
    it can check without the function's arguments (``keep_portable_guards_unsafe``); the update's guards
    are filtered to its own arguments (``options["guard_filter_fn"]``), but the module dicts it iterates
    would still be looked up on the learner while loading, which the loader does not have. The keys are
    those of the learner's modules, fixed once built, so the check is waived while this compiles."""
    compiled = torch.compile(fn, fullgraph=True, dynamic=False, options=dict(options))  # it pops the guard filter
    portable = torch.compiler.keep_portable_guards_unsafe
    torch.compiler.keep_portable_guards_unsafe = lambda entries: [True] * len(entries)
    try:
        return compiled.aot_compile((args, {}))
    finally:
        torch.compiler.keep_portable_guards_unsafe = portable


def precompiled(fn: Callable[..., Any], args: tuple[Any, ...], call_key: Any, options: dict[str, Any]) -> Any | None:
    """``fn`` (a method's function: ``args[0]`` is its object) compiled for ``args``: loaded from its file if
    one was saved, else compiled and saved. None where torch cannot compile it so (an older torch, a
    function it cannot precompile): the caller compiles as usual."""
    if not hasattr(torch.compiler, "load_compiled_function"):  # pragma: no cover - an older torch
        return None
    path = folder() / f"{key(args[0], args[1:], call_key, options)}.bin"
    if path.exists():
        try:
            return load(path)
        except Exception:  # stale or torn: compile it again below
            pass
    try:
        aot = aot_compile(fn, args, options)
    except Exception:  # torch could not precompile it: plain torch.compile
        return None
    with contextlib.suppress(Exception), atomic_path(path) as tmp:  # unsaved (a full disk), it still runs
        aot.save_compiled_function(str(tmp))
    return aot
