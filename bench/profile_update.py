"""Where one update's time goes: torch profiler self-times of one algorithm's update, by kind of work.

    python bench/profile_update.py [--algo ddpg] [--seeds 1] [--hidden 256] [--updates 50]

Kinds: matrix products (the floor's work), elementwise activations and their gradients, bias copies
and other copies, the optimizer step, the target update, replay sampling, and everything else (Python,
autograd bookkeeping, small ops). The profiler adds overhead of its own, so the total is above the
unprofiled time per update, which is printed first.
"""

from __future__ import annotations

import argparse
import collections
import time

import torch
from _warm import warm_agent
from torch.profiler import ProfilerActivity, profile

from actorcritic import ALGOS

KINDS = {
    "matrix products": ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"),
    "activations and their gradients": ("aten::clamp_min", "aten::threshold_backward", "aten::tanh",
                                        "aten::tanh_backward", "aten::relu"),
    "copies": ("aten::copy_", "aten::fill_", "aten::zero_", "aten::cat"),
    "optimizer": ("aten::_fused_adam_", "Optimizer.step#Adam.step", "Optimizer.zero_grad#Adam.zero_grad"),
    "target update": ("aten::_foreach_lerp_", "aten::lerp_"),
    "replay sampling": ("aten::randint", "aten::index", "aten::remainder", "aten::div"),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", default="ddpg", choices=sorted(ALGOS))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--updates", type=int, default=50)
    args = parser.parse_args()
    agent = warm_agent(args.algo, list(range(args.seeds)) if args.seeds > 1 else 0, args.hidden)

    def update() -> None:
        agent.trainer.train(1)

    for _ in range(10):
        update()
    started = time.perf_counter()
    for _ in range(args.updates):
        update()
    print(f"{args.algo}, {args.seeds} seed(s), {args.hidden}-{args.hidden}, batch {agent.config.batch_size}, "
          f"{torch.get_num_threads()} threads: {1e3 * (time.perf_counter() - started) / args.updates:.2f} ms per update")  # fmt: skip
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.updates):
            update()
    totals: collections.Counter[str] = collections.Counter()
    for event in prof.key_averages():
        kind = next((k for k, names in KINDS.items() if event.key in names), "everything else")
        totals[kind] += event.self_cpu_time_total
    all_us = sum(totals.values())
    print(f"profiled: {all_us / 1e3 / args.updates:.2f} ms per update")
    for kind, us in totals.most_common():
        print(f"  {kind:34}{us / 1e3 / args.updates:7.2f} ms  {100 * us / all_us:4.0f}%")


if __name__ == "__main__":
    main()
