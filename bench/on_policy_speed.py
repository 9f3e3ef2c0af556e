"""On-policy training speed against Stable-Baselines3 on the same job, side by side.

A2C (8 envs x 5 steps, RMSprop 7e-4) and PPO (4 envs x 128 steps, 4 epochs of 4 minibatches) on
CartPole-v1, 64-64 tanh MLPs, one torch thread, no evaluation. Each side trains in a fresh process for
``--steps`` and for ``--steps + --extra`` env steps; the rate over the extra steps leaves out start-up.
Repeats are interleaved; medians are shown.

    python bench/on_policy_speed.py [--algos a2c ppo] [--steps 20000] [--extra 40000] [--repeats 3]

Needs the [bench] extra for SB3: pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

OURS = """
import sys, torch
torch.set_num_threads(1)
from actorcritic import A2C, PPO, A2CConfig, PPOConfig
algo, steps = sys.argv[1], int(sys.argv[2])
if algo == "a2c":
    agent = A2C("CartPole-v1", A2CConfig(optimizer="rmsprop", eval_interval=0, eval_episodes=1), seed=0)
else:
    agent = PPO("CartPole-v1", PPOConfig(eval_interval=0, eval_episodes=1), seed=0)
agent.trainer.start()
while agent.global_step < steps:
    agent.trainer.turn()
"""

SB3 = """
import sys, torch
torch.set_num_threads(1)
import stable_baselines3 as sb3
from stable_baselines3.common.env_util import make_vec_env
algo, steps = sys.argv[1], int(sys.argv[2])
policy_kwargs = {"net_arch": [64, 64]}
if algo == "a2c":
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = sb3.A2C("MlpPolicy", env, n_steps=5, ent_coef=0.01, policy_kwargs=policy_kwargs, seed=0, device="cpu")
else:
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = sb3.PPO("MlpPolicy", env, n_steps=128, batch_size=128, n_epochs=4, learning_rate=2.5e-4,
                    ent_coef=0.01, policy_kwargs=policy_kwargs, seed=0, device="cpu")
model.learn(steps)
"""


def timed(code: str, algo: str, steps: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, algo, str(steps)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["a2c", "ppo"])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--extra", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"CartPole-v1, 64-64, 1 thread; env steps per second over {args.extra} extra steps; "
          f"medians of {args.repeats} interleaved repeats")  # fmt: skip
    print(f"{'algo':6}{'ours':>9}{'SB3':>9}{'ours/SB3':>10}")
    for algo in args.algos:
        rates: dict[str, list[float]] = {"ours": [], "sb3": []}
        for _ in range(args.repeats):
            for side, code in (("ours", OURS), ("sb3", SB3)):
                short = timed(code, algo, args.steps)
                long = timed(code, algo, args.steps + args.extra)
                rates[side].append(args.extra / (long - short))
        ours, sb3 = statistics.median(rates["ours"]), statistics.median(rates["sb3"])
        print(f"{algo:6}{ours:9.0f}{sb3:9.0f}{ours / sb3:9.2f}x")


if __name__ == "__main__":
    main()
