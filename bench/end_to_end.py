"""End to end through the command line: ``actorcritic train`` against SB3's ``model.learn`` on the same job.

Both train Pendulum-v1 with 256-256 MLPs, batch 256, one update per env step, ``--learning-starts``
random steps first, each in a fresh process. Each command runs twice, for ``--steps`` and for
``--steps + --extra`` env steps: the whole command's time is reported for the first, and the time per
extra env step (the difference over ``--extra``) is the training loop's cost without start-up, import,
final evaluation or plotting. Repeats are interleaved; medians are shown.

    python bench/end_to_end.py [--algos ddpg td3 sac] [--steps 3000] [--extra 2000] [--repeats 3]

Needs the [bench] extra for SB3: pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

SB3 = """
import sys, stable_baselines3 as sb3
algo, steps, starts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cls = {"ddpg": sb3.DDPG, "td3": sb3.TD3, "sac": sb3.SAC}[algo]
kwargs = {}
if algo != "sac":
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise
    kwargs["action_noise"] = NormalActionNoise(np.zeros(1), 0.1 * 2 * np.ones(1))  # sigma 0.1 of the half-range 2
model = cls("MlpPolicy", "Pendulum-v1", policy_kwargs={"net_arch": [256, 256]}, batch_size=256,
            learning_starts=starts, buffer_size=1_000_000, seed=0, device="cpu", **kwargs)
model.learn(steps)
"""


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def ours(algo: str, steps: int, starts: int, run_dir: str) -> list[str]:
    return [sys.executable, "-m", "actorcritic", "train", algo, "--batch-size", "256", "--hidden-sizes", "256",
            "256", "--total-steps", str(steps), "--learning-starts", str(starts), "--eval-interval", "0",
            "--eval-episodes", "1", "--run-dir", run_dir, "--no-progress"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--steps", type=int, default=3_000)
    parser.add_argument("--extra", type=int, default=2_000)
    parser.add_argument("--learning-starts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"Pendulum-v1, 256-256, batch 256, {args.steps} env steps ({args.learning_starts} random, then one update "
          f"per step): whole command; per step: the extra {args.extra} steps of a longer run; medians of "
          f"{args.repeats} interleaved repeats")  # fmt: skip
    print(f"{'algo':6}{'ours s':>9}{'SB3 s':>9}{'SB3/ours':>10}{'ours ms/step':>14}{'SB3 ms/step':>13}{'SB3/ours':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for algo in args.algos:
            t = {key: [] for key in ("ours", "ours+", "sb3", "sb3+")}
            for n in range(args.repeats):
                for key, steps in (("", args.steps), ("+", args.steps + args.extra)):
                    t["ours" + key].append(timed(ours(algo, steps, args.learning_starts, f"{tmp}/{algo}{n}{key}")))
                    t["sb3" + key].append(
                        timed([sys.executable, "-c", SB3, algo, str(steps), str(args.learning_starts)])
                    )
            m = {k: statistics.median(v) for k, v in t.items()}
            a, b = m["ours"], m["sb3"]
            slope_a, slope_b = (m["ours+"] - a) / args.extra, (m["sb3+"] - b) / args.extra
            print(
                f"{algo:6}{a:9.1f}{b:9.1f}{b / a:9.2f}x{1e3 * slope_a:14.2f}{1e3 * slope_b:13.2f}{slope_b / slope_a:9.2f}x"
            )


if __name__ == "__main__":
    main()
