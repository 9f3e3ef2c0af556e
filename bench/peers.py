"""Ours against SB3 and SBX as whole processes on the same job: ms per env step with one update.

Every side trains ``--env`` (Pendulum-v1) with 256-256 MLPs, batch 256, ``--learning-starts`` random steps, then one
update per env step, each run in a fresh process: ``actorcritic train`` eagerly, with ``--compile`` and
with ``--compile --precision bf16``, SB3's and SBX's (SB3 in JAX) ``model.learn``. Each runs for ``--steps``
env steps; the figure is the run's own steady-state rate between env step ``--from-step`` and the last,
read inside the process (ours: the wall times of its metrics rows; SB3 and SBX: a callback's clock at
those steps), so start-up, imports, JIT or torch.compile compilation and the final evaluation are outside
it. Before timing, each compiled side runs once untimed, so that every timed run finds the compile cache
warm. The whole command's wall time is shown too. Sides are interleaved, repeats too; medians, and the
median (and range) of each repeat's own ratio, whose sides ran minutes apart.

    python bench/peers.py [--algos ddpg td3 sac] [--sides ...] [--steps 4000] [--from-step 2000] [--repeats 3] [--threads auto]
    python bench/peers.py --env HalfCheetah-v5 --device cuda --algos td3 sac --sides "ours --compile" SB3   # on a GPU

On a GPU (``--device cuda``) ours and SB3 both keep the networks and the replay buffer there; ours runs its
compiled update as a CUDA graph. SBX (JAX) picks its own device: on a GPU it is left out.

Needs the [bench] extra: pip install -e ".[bench]" (SB3, SBX). A side whose library is missing is skipped.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from actorcritic.algos.off_policy import bf16_supported

PEER = """
import sys, time
sys.path.insert(0, sys.argv[6])
from _sb3 import model
from stable_baselines3.common.callbacks import BaseCallback
lib, algo, steps, starts, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
env, device = sys.argv[7], sys.argv[8]
marks = {}

class Clock(BaseCallback):  # called after each env step; the update of that step follows it
    def _on_step(self):
        if self.num_timesteps in (first, steps):
            marks[self.num_timesteps] = time.perf_counter()
        return True

extra = {"device": device} if lib == "sb3" else {}
model(algo, env, seed=0, learning_starts=starts, library=lib, **extra).learn(steps, callback=Clock())  # sigma 0.1 of the half-range, as ours
print(1e3 * (marks[steps] - marks[first]) / (steps - first))
"""

SIDES = {"ours": None, "ours --compile": None, "ours --compile bf16": None, "SB3": "stable_baselines3", "SBX": "sbx"}


def timed(cmd: list[str], run_dir: str | None, first: int) -> tuple[float, float]:
    """(whole command seconds, ms per env step from env step ``first`` to the run's last)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... failed:\n" + "\n".join(done.stderr.splitlines()[-12:]))
    out = done.stdout
    seconds = time.perf_counter() - started
    if run_dir is None:  # SB3 or SBX: the script prints its rate
        return seconds, float(out.strip().splitlines()[-1])
    with open(Path(run_dir) / "metrics.csv") as f:
        rows = {int(r["step"]): float(r["wall_time"]) for r in csv.DictReader(f)}
    last = max(rows)
    return seconds, 1e3 * (rows[last] - rows[first]) / (last - first)


def paired_ratios(rates: dict[str, list[float]], peer: str, sides: list[str]) -> str:
    """The peer's rate over ours (the fastest of ours in that repeat) in each repeat, as "median (min-max)"."""
    ratios = [rates[peer][r] / min(rates[s][r] for s in sides if s.startswith("ours")) for r in range(len(rates[peer]))]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def command(side: str, algo: str, steps: int, starts: int, first: int, threads: str, run_dir: str,
            env: str = "Pendulum-v1", device: str = "cpu") -> list[str]:  # fmt: skip
    if side.startswith("ours"):
        return [sys.executable, "-m", "actorcritic", "train", algo, "--env", env, "--device", device,
                "--batch-size", "256", "--hidden-sizes", "256",
                "256", "--total-steps", str(steps), "--learning-starts", str(starts), "--eval-interval", "0",
                "--eval-episodes", "1", "--run-dir", run_dir, "--no-progress", "--threads", str(threads),
                "--compile", "on" if "compile" in side else "off",
                *(["--precision", "bf16"] if "bf16" in side else [])]  # fmt: skip
    return [
        sys.executable,
        "-c",
        PEER,
        side.lower(),
        algo,
        str(steps),
        str(starts),
        str(first),
        str(Path(__file__).parent),
        env,
        device,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda: ours and SB3 on the GPU (SBX is left out)")
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=list(SIDES))
    parser.add_argument("--steps", type=int, default=4_000)
    parser.add_argument("--from-step", type=int, default=2_000, help="the rate is measured from this env step on")
    parser.add_argument("--learning-starts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="no untimed compiling run first (the rates, read inside each run, are the same)")  # fmt: skip
    parser.add_argument(
        "--threads", default="auto", help="ours: torch threads, auto (the default) or N (SB3 and SBX use every core)"
    )
    args = parser.parse_args()
    if not args.learning_starts < args.from_step < args.steps or args.from_step % 1000 or args.steps % 1000:
        parser.error(
            "need --learning-starts < --from-step < --steps, the two steps multiples of 1000 (ours logs every 1000)"
        )
    device_type = args.device.split(":")[0]
    if "bf16" in " ".join(args.sides) and not bf16_supported(device_type):  # the default list: left out with a note
        print(f"no native bfloat16 on this {device_type.upper()}: the bf16 side is left out")
    sides = [s for s in args.sides if (SIDES[s] is None or importlib.util.find_spec(SIDES[s]))
             and ("bf16" not in s or bf16_supported(device_type)) and (s != "SBX" or device_type == "cpu")]  # fmt: skip
    peers = [s for s in sides if SIDES[s] is not None]
    print(f"{args.env} on {args.device}, 256-256, batch 256, {args.learning_starts} random steps then one update per env step; "
          f"ms per env step between env steps {args.from_step} and {args.steps} inside each run; whole command s; "
          f"ours with --threads {args.threads}; medians of {args.repeats} interleaved repeats")  # fmt: skip
    print(f"{'algo':6}" + "".join(f"{s + ' ms':>23}" for s in sides) + "".join(f"{s + '/ours':>14}" for s in peers)
          + "".join(f" {s + ' s':>17}" for s in sides))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for algo in args.algos:
            compiled = [s for s in sides if "compile" in s and args.warm_up]
            for side in compiled:  # untimed: the timed runs find the compile cache warm
                warm = f"{tmp}/w{algo}"
                subprocess.run(command(side, algo, args.learning_starts + 10, args.learning_starts, args.from_step,
                                       args.threads, warm, args.env, args.device), check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            seconds: dict[str, list[float]] = {s: [] for s in sides}
            rates: dict[str, list[float]] = {s: [] for s in sides}
            for r in range(args.repeats):
                for i, side in enumerate(sides):
                    run_dir = f"{tmp}/{algo}-{r}-{i}"
                    cmd = command(side, algo, args.steps, args.learning_starts, args.from_step, args.threads, run_dir,
                                  args.env, args.device)  # fmt: skip
                    try:
                        t, rate = timed(cmd, run_dir if side.startswith("ours") else None, args.from_step)
                    except RuntimeError as e:  # the side's error, and the rest of the sides
                        print(e)
                        t = rate = math.nan
                    seconds[side].append(t)
                    rates[side].append(rate)
            per_step = {s: statistics.median(v) for s, v in rates.items()}
            ours = [per_step[s] for s in sides if s.startswith("ours")]
            best = min(ours) if ours else math.nan  # no ours side: no ratios
            print(f"{algo:6}" + "".join(f"{per_step[s]:23.2f}" for s in sides)
                  + "".join(f"{per_step[s] / best:13.2f}x" for s in peers)
                  + "".join(f" {statistics.median(seconds[s]):17.1f}" for s in sides))  # fmt: skip
            print("       ms per env step in each repeat: " + "; ".join(f"{s} " + ", ".join(f"{x:.2f}" for x in v) for s, v in rates.items()))  # fmt: skip
            print("       env steps per second: " + "; ".join(f"{s} {1e3 / per_step[s]:.0f}" for s in sides))
            if ours and peers:  # a repeat's sides ran minutes apart: a slow spell of a shared machine cancels there
                print("       each repeat's own ratio to ours, median (range): " + "; ".join(
                    f"{p}/ours {paired_ratios(rates, p, sides)}" for p in peers))  # fmt: skip


if __name__ == "__main__":
    main()
