"""What callbacks cost: the same DDPG run (Pendulum-v1, default networks) with no callbacks, with the
built-ins that act at evaluations (StopAtTarget and StopOnNoImprovement, never triggered), and with an
``on_step`` callback that does nothing (the loop then calls it every turn). Two phases, each timed apart:

- collect only (learning_starts above the budget): env steps and the loop, nothing else, so a per-turn
  cost shows at its largest;
- with updates (one per env step), the usual run.

Sides are interleaved in each repeat; medians of ``--repeats`` and their ratios to no callbacks.

    python bench/callbacks.py [--steps 3000] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from actorcritic import DDPG, Callback, DDPGConfig, StopAtTarget, StopOnNoImprovement


class NoOpStep(Callback):
    def on_step(self, s):
        return None


SIDES = {
    "none": list,
    "at evaluations": lambda: [StopAtTarget(1e9), StopOnNoImprovement(patience=10**6)],
    "on_step no-op": lambda: [NoOpStep()],
}


def timed(steps: int, learning_starts: int, callbacks: list) -> float:
    config = DDPGConfig(learning_starts=learning_starts, eval_interval=1000, eval_episodes=1)
    agent = DDPG("Pendulum-v1", config, seed=0)
    agent.learn(200, callbacks=[])  # warm-up: first calls, allocations
    start = time.perf_counter()
    agent.learn(steps, callbacks=callbacks)
    elapsed = time.perf_counter() - start
    agent.close()
    return elapsed / steps * 1e6  # µs per env step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    phases = {"collect only": 10**9, "with updates": 0}
    print(
        f"µs per env step, {args.steps} steps, medians of {args.repeats} interleaved repeats, {args.threads} thread(s)"
    )
    for phase, starts in phases.items():
        times: dict[str, list[float]] = {side: [] for side in SIDES}
        for _ in range(args.repeats):
            for side, make in SIDES.items():
                times[side].append(timed(args.steps, starts, make()))
        base = statistics.median(times["none"])
        cells = [f"{side} {statistics.median(t):.1f} ({statistics.median(t) / base:.3f}x)" for side, t in times.items()]
        print(f"{phase:>13}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
