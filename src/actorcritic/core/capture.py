"""A compiled function whose graph, once captured, runs without dynamo: on a CPU, what a CUDA graph is on a GPU.

Every call of a ``torch.compile``d function runs Python around its compiled kernels: dynamo's frame (the
guards, and reading every tensor the function touches off its objects), AOTAutograd's runtime wrapper, and
the rebuilding of the return value. For an off-policy update that is about 0.3 ms of 2.7 ms (DDPG,
256-256 networks, batch 256, on a 2-core CPU), run with the caches cold from the update's own kernels.

``Captured`` records what dynamo hands the compiled graph, and from then on calls the graph itself:

1. The first call with a given key (the arguments other than tensors, the tensors' shapes and dtypes, grad
   mode, autocast and torch's thread count) copies the call's tensors into static tensors of its own and
   runs the function through dynamo on those. It records the graph dynamo calls, the inputs it passes the
   graph (the function's own tensors and the static ones) and where the return value's tensors are among
   its outputs. Inductor builds a CPU graph's kernels for the thread count it ran at, and dynamo guards
   the count, so a run whose count changes (``AutoThreads``) captures a graph per count.
2. The second call with that key does the same, and checks that dynamo passed the very same input tensors
   to the same graph.
3. Every later call copies its tensors into the static ones (skipped where it passes those) and calls the
   graph on the recorded inputs, as a CUDA graph replays on its static inputs.

On a GPU it is then one: the third call runs the graph once on a side stream (the warm-up CUDA graphs ask
for), the fourth records its kernels into a ``torch.cuda.CUDAGraph`` and replays that, and every later
call replays it: one launch for the whole update instead of one per kernel. The result's tensors are
copied out of the graph's memory, which the next replay overwrites.

With ``precompile`` (a method, on a CPU), the first call of a key loads what dynamo built for it in an
earlier process, or builds and saves it (``actorcritic.core.precompile``), and its graph is captured from
that function's calls in the same way: the next process traces nothing.

That is sound for a function of tensors that reads the same tensor objects on every call (loading a
checkpoint copies into them), has no effect other than on tensors, and whose Python control flow depends
on the key alone: the off-policy updates are such functions (``OffPolicyLearner.compile``). A key that
fails the check keeps running through dynamo, as does everything on a torch without the compiler wrapper
used here.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils import _pytree as pytree

from actorcritic.core.precompile import precompiled


@dataclass
class _Graph:
    """One key's captured graph: its inputs, the static tensors among them, and how to rebuild the result."""

    graph: Callable[..., Sequence[torch.Tensor]]
    inputs: tuple[Any, ...]
    statics: list[torch.Tensor]
    where: list[int | None]  # per leaf of the result: its position among the graph's outputs (None: a constant)
    constants: list[Any]
    spec: pytree.TreeSpec
    gpu: bool = False  # its inputs are on a GPU, and it runs as a CUDA graph
    calls: int = 0  # on a GPU: 0 not run here yet, 1 warmed up, 2 recorded (into ``cuda_graph``, if it could be)
    cuda_graph: Any = None  # torch.cuda.CUDAGraph
    outputs: Sequence[torch.Tensor] = ()  # the CUDA graph's, in its own memory

    def same(self, other: _Graph) -> bool:
        """Whether dynamo ran the same graph on the same tensors with the same result's layout."""
        return (self.graph is other.graph and len(self.inputs) == len(other.inputs)
                and all(a is b for a, b in zip(self.inputs, other.inputs, strict=True))
                and self.where == other.where and self.spec == other.spec)  # fmt: skip

    def run(self, tensors: list[torch.Tensor]) -> Any:
        for static, tensor in zip(self.statics, tensors, strict=True):
            if static is not tensor:
                static.copy_(tensor)
        if self.cuda_graph is not None:
            self.cuda_graph.replay()
            outputs = self.outputs
        elif not self.gpu or self.calls == 2:
            outputs = self.graph(*self.inputs)
        elif self.calls == 0:
            outputs = self._warm_up()
        else:
            outputs = self._record_cuda_graph()
        copy = self.cuda_graph is not None  # the graph's memory: the next replay overwrites it
        leaves = [c if i is None else outputs[i].clone() if copy else outputs[i]
                  for i, c in zip(self.where, self.constants, strict=True)]  # fmt: skip
        return pytree.tree_unflatten(leaves, self.spec)

    def _warm_up(self) -> Sequence[torch.Tensor]:
        """The graph on a side stream, as CUDA graphs ask before recording one."""
        self.calls = 1
        side, main = torch.cuda.Stream(), torch.cuda.current_stream()
        side.wait_stream(main)
        with torch.cuda.stream(side):
            outputs = self.graph(*self.inputs)
        main.wait_stream(side)
        return outputs

    def _record_cuda_graph(self) -> Sequence[torch.Tensor]:
        """Record the graph's kernels into a CUDA graph and replay it. A graph that cannot be recorded (one
        with a kernel that waits for the host, say) runs as it is, now and from now on."""
        self.calls = 2
        recorded = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(recorded, capture_error_mode="thread_local"):
                outputs = self.graph(*self.inputs)
        except RuntimeError:  # nothing ran while recording
            return self.graph(*self.inputs)
        recorded.replay()
        self.cuda_graph, self.outputs = recorded, outputs
        return outputs


class Captured:
    """``fn`` through ``torch.compile`` (inductor with ``options``, whole graph, static shapes), each key's
    graph run directly once captured."""

    def __init__(self, fn: Callable[..., Any], device_type: str, options: dict[str, Any] | None = None,
                 guard_filter_fn: Callable[[list[Any]], list[bool]] | None = None, precompile: bool = False):  # fmt: skip
        self.device_type = device_type
        self.cuda_graphs = True  # on a GPU, record each captured graph into a CUDA graph (False: launch its kernels)
        self.graphs: dict[Hashable, _Graph | None] = {}  # None: the key runs through dynamo
        self._first: dict[Hashable, _Graph] = {}
        self._recording: list[tuple[Any, tuple[Any, ...], Sequence[torch.Tensor]]] | None = None
        self._runners: dict[Hashable, Callable[..., Any]] = {}  # per key: a precompiled function, or ``fn``
        # a method, on a CPU: each key's graph saved whole and loaded by the next process (core/precompile.py)
        self._precompile = precompile and device_type == "cpu" and isinstance(fn, types.MethodType)
        self.method = fn
        dynamo_options = {"guard_filter_fn": guard_filter_fn} if guard_filter_fn else None
        self._aot_options = {**(options or {}), **(dynamo_options or {})}  # what torch.compile(options=...) takes
        inductor_wrapper = getattr(torch, "_TorchCompileInductorWrapper", None)
        self.capturing = inductor_wrapper is not None
        if not self.capturing:  # pragma: no cover - a torch without it: plain torch.compile
            self.fn = torch.compile(fn, dynamic=False, fullgraph=True, options={**(options or {}), **(dynamo_options or {})})  # fmt: skip
            return
        inductor = inductor_wrapper(None, options, False)  # what torch.compile(options=options) would build

        def backend(gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
            return self._recorded(inductor(gm, example_inputs))

        self.fn = torch.compile(fn, backend=backend, dynamic=False, fullgraph=True, options=dynamo_options)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as None: compiled code is no state. Torch pickles what a precompiled function's guards
        might read (``core/precompile.py``), the learner holding this included, and the functions this
        holds once a graph is loaded cannot be pickled."""
        return (type(None), ())

    def _recorded(self, graph: Callable[..., Any]) -> Callable[..., Any]:
        """``graph`` (called as dynamo calls a backend's function: ``graph(*inputs)``), recording each call
        while a call of ``self`` records."""

        def run(*inputs: Any) -> Any:
            outputs = graph(*inputs)
            if self._recording is not None:
                self._recording.append((graph, inputs, outputs))
            return outputs

        return run

    def _runner(self, key: Hashable, args: tuple[Any, ...]) -> Callable[..., Any]:
        """What runs a key's calls until its graph is captured: its precompiled function, loaded or compiled
        and saved (``core/precompile.py``), where there is one; else ``fn`` through dynamo."""
        runner = self._runners.get(key)
        if runner is not None:
            return runner
        runner = self.fn
        aot = precompiled(self.method.__func__, (self.method.__self__, *args), key, self._aot_options) if self._precompile else None  # fmt: skip
        if aot is not None:
            owner, backend_id = self.method.__self__, aot._artifacts.backend_id
            aot.fn.__globals__[backend_id] = self._recorded(aot.fn.__globals__[backend_id])

            def runner(*a: Any) -> Any:
                # a guard that fails (another torch state than the file was built for): through dynamo
                return aot.fn(owner, *a) if aot.guard_check(owner, *a) else self.fn(*a)

        self._runners[key] = runner
        return runner

    def __call__(self, *args: Any) -> Any:
        if not self.capturing:  # pragma: no cover
            return self.fn(*args)
        tensors, key = self._split(args)
        graph = self.graphs.get(key, False)
        if graph:
            return graph.run(tensors)
        if graph is None:
            return self.fn(*args)
        return self._record(key, args, tensors)

    def _split(self, args: tuple[Any, ...]) -> tuple[list[torch.Tensor], Hashable]:
        """The call's tensors (the arguments that are tensors or tuples of them), and its key."""
        tensors: list[torch.Tensor] = []
        key: list[Hashable] = [torch.is_grad_enabled(), torch.is_autocast_enabled(self.device_type),
                               torch.get_num_threads()]  # fmt: skip
        for a in args:
            if isinstance(a, torch.Tensor):
                tensors.append(a)
                key.append((a.shape, a.dtype))
            elif _tensor_tuple(a):
                tensors += a
                key.append((type(a), *((t.shape, t.dtype) for t in a)))
            else:
                key.append(a)
        return tensors, tuple(key)

    def _record(self, key: Hashable, args: tuple[Any, ...], tensors: list[torch.Tensor]) -> Any:
        """Run through dynamo on the key's static tensors, recording the graph; the second time, capture it."""
        first = self._first.get(key)
        if first is None:
            statics = [t.detach().clone() for t in tensors]
        else:
            statics = first.statics
            for static, tensor in zip(statics, tensors, strict=True):
                static.copy_(tensor)
        static_args = _rebuild(args, iter(statics))
        run = self._runner(key, static_args)
        self._recording = []
        try:
            result = run(*static_args)
        finally:
            recorded, self._recording = self._recording, None
        seen = _seen(recorded, statics, result, self.cuda_graphs)
        originals = {id(static): tensor for static, tensor in zip(statics, tensors, strict=True)}
        # An argument handed back is the caller's tensor, as dynamo would return it, not this key's static copy.
        result = pytree.tree_map_only(torch.Tensor, lambda t: originals.get(id(t), t), result)
        if seen is None:  # not one graph, or a result dynamo made itself: this key stays with dynamo
            self.graphs[key] = None
        elif first is None:
            self._first[key] = seen
        else:
            self.graphs[key] = seen if seen.same(first) else None
            del self._first[key]
        return result


def _rebuild(args: tuple[Any, ...], statics: Any) -> tuple[Any, ...]:
    """``args`` with each tensor replaced by the next static tensor, in ``Captured._split``'s order."""
    out = []
    for a in args:
        if isinstance(a, torch.Tensor):
            out.append(next(statics))
        elif _tensor_tuple(a):
            items = [next(statics) for _ in a]
            out.append(type(a)(*items) if hasattr(a, "_fields") else tuple(items))  # a NamedTuple stays one
        else:
            out.append(a)
    return tuple(out)


def _seen(recorded: list[Any], statics: list[torch.Tensor], result: Any, cuda_graphs: bool) -> _Graph | None:
    """The one graph a call ran and where its result's tensors are among the graph's outputs, if it can replay."""
    if len(recorded) != 1:
        return None
    graph, inputs, outputs = recorded[0]
    leaves, spec = pytree.tree_flatten(result)
    where: list[int | None] = []
    constants: list[Any] = []
    for leaf in leaves:
        tensor = isinstance(leaf, torch.Tensor)
        i = next((i for i, out in enumerate(outputs) if out is leaf), None) if tensor else None
        if tensor and i is None:
            return None
        where.append(i)
        constants.append(None if tensor else leaf)
    gpu = cuda_graphs and any(isinstance(t, torch.Tensor) and t.is_cuda for t in inputs)
    return _Graph(graph, tuple(inputs), statics, where, constants, spec, gpu)


def _tensor_tuple(a: Any) -> bool:
    """Whether an argument is a (named) tuple of tensors, whose tensors are inputs of their own."""
    return isinstance(a, tuple) and bool(a) and all(isinstance(t, torch.Tensor) for t in a)
