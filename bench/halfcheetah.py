"""One MuJoCo training run per algorithm (default: HalfCheetah-v5, 100k env steps), with CleanRL's
published hyperparameters, so the return can be compared with CleanRL/SB3 learning curves at the
same step count. Needs the [mujoco] extra.

    python bench/halfcheetah.py --algo td3 [--env HalfCheetah-v5] [--steps 100000] [--seed 0] [--threads 1] [--run-dir DIR]
    python bench/halfcheetah.py --algo ddpg --library sb3 [...]     # the same job with Stable-Baselines3 ([bench] extra)
    python bench/halfcheetah.py --algo sac --steps 50000 --precision bf16   # ours with bfloat16 matrix products
    python bench/halfcheetah.py --plot curves.png RUN.json ...     # eval curves of saved outputs, one panel per algo

Prints the eval curve (every 10k steps, 10 deterministic episodes) and the final evaluation as JSON.

``--library sb3`` trains SB3's DDPG/TD3/SAC with the same settings (256-256 MLPs, batch 256, buffer 1e6,
tau 0.005, gamma 0.99, one update per env step, Gaussian exploration sigma 0.1, the same learning starts)
and evaluates it the same way, so a library's published curve can be checked side by side on this
machine and env version. SB3 has one learning rate for actor and critic: SAC gets 3e-4 for both.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from actorcritic import ALGOS

# CleanRL's defaults for MuJoCo (ddpg_continuous_action.py, td3_continuous_action.py, sac_continuous_action.py).
# CleanRL's DDPG also delays its actor (policy_frequency=2); our DDPG is the paper's, with delay 1.
CLEANRL = {
    "ddpg": {"actor_lr": 3e-4, "critic_lr": 3e-4, "learning_starts": 25_000, "noise_sigma": 0.1},
    "td3": {"actor_lr": 3e-4, "critic_lr": 3e-4, "learning_starts": 25_000, "noise_sigma": 0.1},
    "sac": {"actor_lr": 3e-4, "critic_lr": 1e-3, "learning_starts": 5_000},
}
EVAL_INTERVAL, EVAL_EPISODES = 10_000, 10


def train_ours(args: argparse.Namespace) -> dict:
    cls = ALGOS[args.algo]
    config = cls.config_cls(**CLEANRL[args.algo], eval_interval=EVAL_INTERVAL, eval_episodes=EVAL_EPISODES,
                            precision=args.precision)  # fmt: skip
    agent = cls(args.env, config, seed=args.seed, run_dir=args.run_dir).learn(args.steps)
    summary = {"library": "actorcritic", "precision": args.precision, **agent.summary()}
    if args.run_dir:
        from actorcritic.runtime.logging import read_csv

        rows = read_csv(f"{args.run_dir}/metrics.csv")
        summary["eval_curve"] = [
            (int(r["step"]), round(r["eval_return_mean"], 1))
            for r in rows
            if r["eval_return_mean"] == r["eval_return_mean"]
        ]
    return summary


def train_sb3(args: argparse.Namespace) -> dict:
    import gymnasium as gym
    import stable_baselines3 as sb3
    from _sb3 import model as sb3_model
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    settings = CLEANRL[args.algo]
    model = sb3_model(args.algo, gym.make(args.env), seed=args.seed, learning_starts=settings["learning_starts"],
                      lr=settings["actor_lr"], noise_sigma=settings.get("noise_sigma", 0.1))  # fmt: skip
    eval_env = Monitor(gym.make(args.env))
    eval_env.reset(seed=args.seed + 10_000)
    curve = []
    while model.num_timesteps < args.steps:
        model.learn(min(EVAL_INTERVAL, args.steps - model.num_timesteps), reset_num_timesteps=False)
        mean, std = evaluate_policy(model, eval_env, n_eval_episodes=EVAL_EPISODES, deterministic=True)
        curve.append((model.num_timesteps, round(float(mean), 1)))
    return {"library": f"stable-baselines3 {sb3.__version__}", "algo": args.algo, "env": args.env, "seed": args.seed, "total_steps": model.num_timesteps,
            "final_eval_mean": round(float(mean), 1), "final_eval_std": round(float(std), 1), "eval_curve": curve}  # fmt: skip


def plot(out: str, paths: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [json.loads(Path(path).read_text()) for path in paths]
    algos = sorted({run["algo"] for run in runs}, key=list(CLEANRL).index)
    fig, axes = plt.subplots(1, len(algos), figsize=(4.2 * len(algos), 3.4), sharey=True, squeeze=False)
    for ax, algo in zip(axes[0], algos, strict=True):
        panel = [r for r in runs if r["algo"] == algo]
        for run in panel:
            steps, returns = np.array(run["eval_curve"]).T
            ax.plot(steps, returns, marker="o", markersize=3, label=f"{run['library']}, seed {run['seed']}")
        ax.set(title=f"{algo.upper()}, {panel[0]['env']}", xlabel="env steps")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0][0].set_ylabel(f"eval return ({EVAL_EPISODES} episodes)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=sorted(CLEANRL))
    parser.add_argument("--library", default="ours", choices=["ours", "sb3"])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--run-dir", default=None)
    parser.add_argument(
        "--precision", default="float32", choices=["float32", "bf16"], help="ours: the update's matrix products"
    )
    parser.add_argument("--plot", nargs="+", metavar=("OUT.png", "RUN.json"), help="plot saved outputs instead")
    args = parser.parse_args()
    if args.plot:
        return plot(args.plot[0], args.plot[1:])
    if args.algo is None:
        parser.error("--algo is required")
    if args.threads:
        torch.set_num_threads(args.threads)

    started = time.perf_counter()
    summary = (train_ours if args.library == "ours" else train_sb3)(args)
    summary["wall_clock_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
