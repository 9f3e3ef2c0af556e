"""On a GPU: milliseconds per update as the loop runs it, side by side in one process.

- ours eager: every op its own kernel launch from Python;
- ours compiled, graph launched kernel by kernel: the captured inductor graph (``actorcritic.core.capture``)
  called directly, with no CUDA graph;
- ours compiled as a CUDA graph (the default on a GPU): the whole update, sampled batch gathered on the
  device, gradients, Adam steps and target update, one replay;
- SB3 on the same GPU: ``model.train(gradient_steps=N)``, the same networks (256-256), batch and env.

Each of ours is ``agent.trainer.train(1, act=True)``, one update and the policy's next exploration action,
as after every env step of training; the replay buffer (filled with 2000 random steps) is on the GPU.
Times are from ``torch.cuda.synchronize()`` to ``torch.cuda.synchronize()`` around ``--updates`` calls;
sides are interleaved over ``--repeats``, and the table shows medians.

    python bench/gpu_updates.py [--algos ddpg td3 sac] [--updates 500] [--repeats 5]

Needs a CUDA device; SB3 (the [bench] extra) is left out when it is missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from _warm import warm_agent
from updates import sb3_update

HIDDEN, BATCH = 256, 256


def timed(fn: Callable[[], object], n: int) -> float:
    """Milliseconds per call of ``fn`` over ``n`` calls, the GPU's queue drained before and after."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    sync()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    sync()
    return 1e3 * (time.perf_counter() - start) / n


def ours(algo: str, device: str, compile: bool, cuda_graphs: bool = True) -> Callable[[], object]:
    agent = warm_agent(algo, hidden=HIDDEN, batch=BATCH, warmup=2_000, compile=compile, device=device)
    if compile:
        for name in ("step", "step_from", "step_and_act_from"):
            getattr(agent.learner, name).cuda_graphs = cuda_graphs
    return lambda: agent.trainer.train(1, act=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--device", default="cuda", help="cpu only to try the script: there both compiled sides are one"
    )
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("error: bench/gpu_updates.py needs a CUDA device; this torch sees none")
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(f"{where}, torch {torch.__version__}; Pendulum-v1, {HIDDEN}-{HIDDEN}, batch {BATCH}; "
          f"ms per update, medians of {args.repeats} interleaved repeats of {args.updates} updates")  # fmt: skip
    names = ["eager", "compiled, kernels", "compiled, CUDA graph", "SB3"]
    print(f"{'algo':6}" + "".join(f"{n:>22}" for n in names) + f"{'SB3/graph':>11}{'eager/graph':>13}")
    for algo in args.algos:
        sides = {"eager": ours(algo, args.device, False),
                 "compiled, kernels": ours(algo, args.device, True, cuda_graphs=False),
                 "compiled, CUDA graph": ours(algo, args.device, True), "SB3": sb3_update(algo, 1, args.device)}  # fmt: skip
        sides = {k: v for k, v in sides.items() if v is not None}
        for fn in sides.values():
            timed(fn, 20)  # compiles, captures, records the CUDA graphs (each branch's fourth call)
        ms: dict[str, list[float]] = {k: [] for k in sides}
        for _ in range(args.repeats):
            for name, fn in sides.items():
                ms[name].append(timed(fn, args.updates))
        med = {k: statistics.median(v) for k, v in ms.items()}
        graph = med["compiled, CUDA graph"]
        print(f"{algo:6}" + "".join(f"{med[n]:22.3f}" if n in med else f"{'-':>22}" for n in names)
              + (f"{med['SB3'] / graph:10.2f}x" if "SB3" in med else f"{'-':>11}") + f"{med['eager'] / graph:12.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
