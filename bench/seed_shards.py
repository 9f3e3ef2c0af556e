"""What splitting a seed group over processes would give: K seeds as one group (``--seeds K``) on every
core, against P processes of K/P seeds each on one thread, started together, against K single runs one
after another.

A group runs its members' Python (env steps, exploration, the compiled graph's call) on one core while
the other core waits for the next kernel; P processes of K/P members run that Python side by side, and
each member's products and elementwise kernels run on one core, without OpenMP's barriers and on tensors
half the size. This script measures what that is worth before ``train --seeds`` is built that way.

Every side is a child process of this script running the real training loop of ``bench/_warm.py``'s agent
(Pendulum-v1, compiled, batch 256, one update per env step, after the same warm-up), timed over
``--turns`` turns once every process of that side is warm: the P shard processes start their clocks
together, and the side's time is the slowest shard's. The single run is seed 0's, times K. Sides are
interleaved (group, shards, single) ``--repeats`` times; medians are shown, and each repeat's own ratio.

    python bench/seed_shards.py [--algos ddpg td3 sac] [--k 8] [--processes 2] [--hidden 64] [--turns 1500]
                                [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(algo: str, first: int, members: int, threads: int | None, hidden: int, turns: int) -> None:
    """Child mode: warm an agent of seeds first..first+members-1, say "ready", wait for a line on stdin,
    time ``turns`` turns and print the seconds."""
    import torch
    from _warm import warm_agent

    if threads:
        torch.set_num_threads(threads)
    seeds = first if members == 1 else list(range(first, first + members))
    agent = warm_agent(algo, seeds, hidden, 256, compile=True)
    for _ in range(30):  # compiles (or loads) every branch of the update, untimed
        agent.trainer.turn()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for _ in range(turns):
        agent.trainer.turn()
    print(time.perf_counter() - started, flush=True)


def side_seconds(shards: list[tuple[int, int]], threads: int | None, algo: str, hidden: int, turns: int) -> float:
    """Seconds per turn of processes training the (first seed, members) ``shards`` at once: the slowest's."""
    cmd = [sys.executable, __file__, "--worker", algo, "--hidden", str(hidden), "--turns", str(turns)]
    if threads:
        cmd += ["--threads", str(threads)]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([*cmd, "--first", str(first), "--k", str(members)], **pipes) for first, members in shards]
    try:
        for p in procs:
            if "ready\n" not in iter(p.stdout.readline, ""):  # whatever the library printed, then "ready"
                raise RuntimeError(f"a worker of {algo} failed before it was warm: exit code {p.wait()}")
        for p in procs:  # every process is warm and waiting: start their clocks together
            p.stdin.write("go\n")
            p.stdin.flush()
        seconds = [float(p.stdout.readline()) for p in procs]
        for p in procs:
            p.wait(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return max(seconds) / turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.first, args.k, args.threads, args.hidden, args.turns)
        return
    if args.k % args.processes:
        parser.error(f"--k {args.k} does not split into {args.processes} processes")
    per = args.k // args.processes
    shards = [(p * per, per) for p in range(args.processes)]
    print(f"Pendulum-v1, {args.hidden}-{args.hidden} MLPs, batch 256, compiled, one update per env step; K = {args.k}; "
          f"{args.repeats} interleaved repeats of {args.turns} turns; ms per turn of all K members")  # fmt: skip
    print(f"{'algo':6}{'group':>9}{f'{args.processes} x {per}, 1 thread':>20}{'single x K':>12}"
          f"{'group speed-up':>16}{'shards speed-up':>17}   per repeat (group; shards)")  # fmt: skip
    for algo in args.algos:
        group, sharded, single = [], [], []
        for _ in range(args.repeats):
            group.append(side_seconds([(0, args.k)], None, algo, args.hidden, args.turns))
            sharded.append(side_seconds(shards, 1, algo, args.hidden, args.turns))
            single.append(args.k * side_seconds([(0, 1)], None, algo, args.hidden, args.turns))
        g, s, one = (1e3 * statistics.median(x) for x in (group, sharded, single))
        per_repeat = "; ".join(f"{o / a:.2f}x {o / b:.2f}x" for a, b, o in zip(group, sharded, single, strict=True))
        print(f"{algo:6}{g:9.2f}{s:20.2f}{one:12.2f}{one / g:15.2f}x{one / s:16.2f}x   {per_repeat}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
