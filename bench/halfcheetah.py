"""One MuJoCo training run per algorithm (default: HalfCheetah-v5, 100k env steps), with CleanRL's
published hyperparameters, so the return can be compared with CleanRL/SB3 learning curves at the
same step count. Needs the [mujoco] extra.

    python bench/halfcheetah.py --algo td3 [--env HalfCheetah-v5] [--steps 100000] [--seed 0] [--threads 1] [--run-dir DIR]

Prints the eval curve (every 10k steps, 10 deterministic episodes) and the final evaluation.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from actorcritic import ALGOS

# CleanRL's defaults for MuJoCo (ddpg_continuous_action.py, td3_continuous_action.py, sac_continuous_action.py).
CLEANRL = {
    "ddpg": {"actor_lr": 3e-4, "critic_lr": 3e-4, "learning_starts": 25_000, "noise_sigma": 0.1},
    "td3": {"actor_lr": 3e-4, "critic_lr": 3e-4, "learning_starts": 25_000, "noise_sigma": 0.1},
    "sac": {"actor_lr": 3e-4, "critic_lr": 1e-3, "learning_starts": 5_000},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", required=True, choices=sorted(CLEANRL))
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--run-dir", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    cls = ALGOS[args.algo]
    config = cls.config_cls(**CLEANRL[args.algo], eval_interval=10_000, eval_episodes=10)
    started = time.perf_counter()
    agent = cls(args.env, config, seed=args.seed, run_dir=args.run_dir).learn(args.steps)
    summary = agent.summary()
    summary["wall_clock_seconds"] = round(time.perf_counter() - started, 1)
    if args.run_dir:
        from actorcritic.train.logging import read_csv

        rows = read_csv(f"{args.run_dir}/metrics.csv")
        summary["eval_curve"] = [
            (int(r["step"]), round(r["eval_return_mean"], 1))
            for r in rows
            if r["eval_return_mean"] == r["eval_return_mean"]
        ]
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
