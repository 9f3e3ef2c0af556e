"""Soak: a long run must not leak. Trains DDPG (64-64 networks, a 100k replay buffer) for ``--steps`` env
steps through ``actorcritic train`` and samples, every ``--every`` seconds, the process's resident memory
and the size of every file in the run directory. Reports:

- RSS growth after the replay buffer is full (goal: under 5%),
- metrics.csv, episodes.csv and the TensorBoard events: bytes per 1k env steps in the first and the
  second half after the buffer is full (linear growth: about equal), and any other file that grows.

It runs in parts: stop it (Ctrl-C) and run the same command again; the run resumes from its checkpoint
and the samples file (soak.csv beside the run) is appended to.

    python bench/soak.py [--steps 1000000] [--run-dir runs/soak] [--every 10]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def last_step(run_dir: Path) -> int:
    metrics = run_dir / "metrics.csv"
    if not metrics.exists():
        return 0
    lines = metrics.read_text().strip().splitlines()
    return int(lines[-1].split(",")[0]) if len(lines) > 1 else 0


def sizes(run_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(run_dir)): p.stat().st_size for p in run_dir.rglob("*") if p.is_file()}


def report(samples: list[dict[str, str]], buffer_size: int) -> None:
    full = [s for s in samples if int(s["step"]) >= buffer_size]
    if len(full) < 4:
        print(f"not enough samples after the buffer filled ({len(full)}); run longer")
        return
    end = max(int(s["step"]) for s in full)  # at the last step the run evaluates, plots (matplotlib) and ends
    training = [s for s in full if int(s["step"]) < end] or full
    first, last = full[0], training[-1]
    print(f"RSS at the end, with the final evaluation and plots: {float(full[-1]['rss_mb']):.0f} MB")
    growth = 100 * (float(last["rss_mb"]) / float(first["rss_mb"]) - 1)
    print(f"RSS after the buffer filled (step {first['step']}): {float(first['rss_mb']):.0f} MB -> "
          f"{float(last['rss_mb']):.0f} MB at step {last['step']} ({growth:+.1f}%; goal < 5%)")  # fmt: skip
    mid = full[len(full) // 2]
    for name in sorted({k for s in full for k in s if k.startswith("file:")}):
        a, b, c = (int(s.get(name) or 0) for s in (first, mid, last))
        steps1, steps2 = int(mid["step"]) - int(first["step"]), int(last["step"]) - int(mid["step"])
        if steps1 <= 0 or steps2 <= 0:
            continue
        r1, r2 = 1e3 * (b - a) / steps1, 1e3 * (c - b) / steps2
        if r1 or r2:
            print(f"  {name[5:]:40s} {r1:9.1f} then {r2:9.1f} bytes per 1k steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/soak"))
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--buffer-size", type=int, default=100_000)
    args = parser.parse_args()
    samples_file = args.run_dir.with_name(args.run_dir.name + "-soak.csv")
    if args.run_dir.exists():
        cmd = ["train", "--resume", str(args.run_dir), "--total-steps", str(args.steps)]
    else:
        cmd = ["train", "ddpg", "--run-dir", str(args.run_dir), "--total-steps", str(args.steps), "--hidden-sizes",
               "64", "64", "--buffer-size", str(args.buffer_size), "--eval-interval", "20000",
               "--checkpoint-interval", "50000"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "actorcritic", *cmd, "--no-progress"], stdout=subprocess.DEVNULL)
    started = time.monotonic()
    samples = list(csv.DictReader(samples_file.open())) if samples_file.exists() else []
    try:
        while proc.poll() is None:
            time.sleep(args.every)
            if proc.poll() is not None or not args.run_dir.exists():
                continue
            row = {"time": f"{time.monotonic() - started:.0f}", "step": str(last_step(args.run_dir)),
                   "rss_mb": f"{rss_mb(proc.pid):.1f}", **{f"file:{k}": str(v) for k, v in sizes(args.run_dir).items()}}  # fmt: skip
            samples.append(row)
            print(f"step {row['step']:>8}  RSS {row['rss_mb']} MB", flush=True)
    except KeyboardInterrupt:
        proc.wait()
    finally:
        keys = sorted({k for s in samples for k in s}, key=lambda k: (k.startswith("file:"), k))
        tmp = samples_file.with_suffix(".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(samples)
        os.replace(tmp, samples_file)
    report(samples, args.buffer_size)


if __name__ == "__main__":
    main()
