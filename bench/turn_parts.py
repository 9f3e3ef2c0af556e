"""Where a training turn's time goes, for a group of K seeds and for one seed: each part of the loop's turn
timed with ``time.perf_counter`` around it, in µs per turn.

    python bench/turn_parts.py [--algo td3] [--k 8] [--hidden 64] [--turns 1000] [--threads 2] [--eager]

Both agents run Pendulum-v1 with batch 256 and one update per env step, compiled unless ``--eager``, after
300 untimed turns. The parts nest (the update's graph is inside the update, which is inside train); the
clocks around them add about a microsecond each. A group is worth its K single runs when its turn takes
less than K times a single one; ``bench/seeds.py`` measures that ratio, this shows which parts make it.
"""

from __future__ import annotations

import argparse
import collections
import functools
import time

import torch
from _warm import warm_agent


def timed_turns(agent, turns: int) -> tuple[float, collections.Counter, list[str]]:
    """Seconds per turn, seconds per turn spent in each part, and the parts' labels in order."""
    trainer = agent.trainer
    collector, learner = trainer.collector, trainer.learner
    runner = collector.runner
    spent: collections.Counter = collections.Counter()
    parts = [  # (object, method, label)
        (trainer, "gather", "gather (collect and store)"),
        (collector, "explore", "  exploration (policy, each member's noise)"),
        (runner, "step", "  env runner step"),
        (runner.envs, "step", "    Gymnasium vector env step"),
        (runner, "to_env", "    action rescaling"),
        (trainer.buffer, "add", "  replay buffer add"),
        (trainer, "train", "train"),
        (trainer.buffer, "draw", "  replay positions, drawn per member"),
        (trainer, "update_and_act", "  update and act"),
        (learner, "draw_noise", "    the update's noise, drawn per member"),
        (learner, "step_and_act_from", "    the update's graph"),
        (collector, "observations", "    observations as a tensor"),
        (trainer.metrics, "add", "  metrics"),
    ]

    def clocked(method, label):
        @functools.wraps(method)
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        return call

    originals = [(obj, name, obj.__dict__.get(name)) for obj, name, _ in parts]
    for obj, name, label in parts:
        setattr(obj, name, clocked(getattr(obj, name), label))
    try:
        started = time.perf_counter()
        for _ in range(turns):
            trainer.turn()
        total = time.perf_counter() - started
    finally:
        for obj, name, original in originals:  # the instance's own attribute back, or none
            if original is None:
                delattr(obj, name)
            else:
                setattr(obj, name, original)
    return total / turns, collections.Counter({k: v / turns for k, v in spent.items()}), [p[2] for p in parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", default="td3", choices=["ddpg", "td3", "sac"])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eager", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for seeds in (list(range(args.k)), 0):
        agent = warm_agent(args.algo, seeds, args.hidden, compile=not args.eager)
        for _ in range(300):
            agent.trainer.turn()
        results.append(timed_turns(agent, args.turns))
    (group, group_parts, labels), (single, single_parts, _) = results
    print(f"{args.algo}, {args.hidden}-{args.hidden}, batch 256, {torch.get_num_threads()} threads, "
          f"{'eager' if args.eager else 'compiled'}; µs per turn, the mean of {args.turns} turns after 300")  # fmt: skip
    print(f"{'part':48}{f'{args.k} seeds':>10}{'1 seed':>10}")
    print(f"{'the whole turn':48}{1e6 * group:10.0f}{1e6 * single:10.0f}")
    for label in labels:
        print(f"{label:48}{1e6 * group_parts[label]:10.0f}{1e6 * single_parts[label]:10.0f}")
    print(f"a group turn against K single turns: {args.k * single / group:.2f}x")


if __name__ == "__main__":
    main()
