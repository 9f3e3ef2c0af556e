"""Env steps to solve an env (default Pendulum-v1: deterministic 10-episode eval mean >= -200; CartPole-v1:
>= 475, its reward threshold) with an algorithm's default config.

    python bench/steps_to_solve.py [--algo ALGO] [--env ENV] --seeds 5 [--max-steps 10000] [--eval-interval 500] [--set key=value ...]
    python bench/steps_to_solve.py --algo ppo --env CartPole-v1 --max-steps 100000 --eval-interval 5000

A3C runs its own worker processes: give it --workers 1.
Each seed is a separate training run (in parallel processes, --workers of them); a run stops as soon as
an evaluation reaches the target. Prints one line per seed and the summary (median, solved count).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor


def run_one(algo: str, env: str, seed: int, max_steps: int, eval_interval: int, overrides: dict) -> dict:
    import torch

    torch.set_num_threads(1)  # one core per run; runs go side by side
    from actorcritic import ALGOS

    cls = ALGOS[algo]
    config = cls.config_cls(eval_interval=eval_interval, stop_at_target=True)  # target: the env's (Pendulum: -200)
    config = dataclasses.replace(config, **overrides)
    started = time.perf_counter()
    agent = cls(env, config, seed=seed).learn(max_steps)
    agent.close()
    summary = agent.summary()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", default="ddpg", choices=["ddpg", "td3", "sac", "reinforce", "a2c", "a3c", "ppo"])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=10_000)
    parser.add_argument("--eval-interval", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field",
    )
    args = parser.parse_args()
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}

    with ProcessPoolExecutor(args.workers) as pool:
        futures = [
            pool.submit(run_one, args.algo, args.env, s, args.max_steps, args.eval_interval, overrides)
            for s in range(args.seeds)
        ]
        results = [f.result() for f in futures]
    steps = []
    for r in results:
        solved = r["solved_at_step"]
        steps.append(solved if solved is not None else float("inf"))
        print(
            f"seed {r['seed']}: solved_at_step={solved} best_eval={r['best_eval_mean_return']:.1f} "
            f"final_eval={r['final_eval_mean_return']:.1f} ({r['seconds']}s)"
        )
    print(
        json.dumps(
            {
                "algo": args.algo,
                "env": args.env,
                "overrides": overrides,
                "median_steps_to_solve": statistics.median(steps),
                "solved_within_max": f"{sum(s != float('inf') for s in steps)}/{len(steps)}",
            }
        )
    )


if __name__ == "__main__":
    main()
