"""Could one run use more than one core beside a busy process? An upper bound for an update split by batch halves.

OpenMP's threads meet at every kernel, so beside one busy process a run on two of them collapses and
``--threads auto`` drops to one. Two Python threads that each run half of the batch through a compiled
graph (its C++ wrapper releases the GIL) meet once an update instead. This times DDPG's gradients (its TD
target, the critic's and the actor's gradients; 256-256 networks, batch 256) three ways, interleaved:

- the full batch on one thread;
- the full batch on OpenMP's two threads;
- two halves of 128 at once on two Python threads of one torch thread each, meeting after every update.

It is an upper bound for a split update: the halves' gradients are not summed and no Adam step is taken,
so a real split would only lose more. Alone, then beside one busy process (a spinning Python process),
medians of the rounds, ms per update.

    python bench/split_update.py [--rounds 12] [--updates 60]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import torch
from threads import busy_process
from torch import nn
from torch.func import functional_call, grad

OBS, ACT, HIDDEN, BATCH, GAMMA = 3, 1, 256, 256, 0.99  # Pendulum-v1, the default job's networks and batch


def mlp(inputs: int, outputs: int, head: nn.Module | None = None) -> nn.Sequential:
    layers = [nn.Linear(inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, outputs)]
    return nn.Sequential(*layers, *([head] if head else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--updates", type=int, default=60, help="updates per side per round")
    args = parser.parse_args()
    torch.manual_seed(0)
    critic, actor = mlp(OBS + ACT, 1), mlp(OBS, ACT, nn.Tanh())
    params = [{k: v.detach() for k, v in net.named_parameters()} for net in (critic, actor)]
    targets = [{k: v.clone() for k, v in p.items()} for p in params]

    def q(critic_p, obs, actions):
        return functional_call(critic, critic_p, (torch.cat([obs, actions], -1),)).squeeze(-1)

    def gradients(critic_p, actor_p, critic_t, actor_t, obs, actions, rewards, next_obs, done):
        """DDPG's two gradients: the critic's on its TD error, the actor's through the critic."""
        with torch.no_grad():
            y = rewards + GAMMA * (1 - done) * q(critic_t, next_obs, functional_call(actor, actor_t, (next_obs,)))

        def critic_loss(p):
            return ((q(p, obs, actions) - y) ** 2).mean()

        def actor_loss(p):
            return -q(critic_p, obs, functional_call(actor, p, (obs,))).mean()

        return grad(critic_loss)(critic_p), grad(actor_loss)(actor_p)

    compiled = torch.compile(gradients, fullgraph=True, dynamic=False, options={"cpp_wrapper": True})

    def batch(size: int) -> tuple[torch.Tensor, ...]:
        return (
            torch.randn(size, OBS),
            torch.rand(size, ACT) * 2 - 1,
            torch.randn(size),
            torch.randn(size, OBS),
            torch.zeros(size),
        )

    full, half_a, half_b = batch(BATCH), batch(BATCH // 2), batch(BATCH // 2)
    run = lambda b: compiled(*params, *targets, *b)  # noqa: E731
    meet = [threading.Barrier(2), threading.Barrier(2)]
    stop = False

    def other_half() -> None:
        while True:
            meet[0].wait()
            if stop:
                return
            run(half_b)
            meet[1].wait()

    def timed(side: str) -> float:
        torch.set_num_threads(2 if side == "OpenMP's two threads" else 1)
        started = time.perf_counter()
        for _ in range(args.updates):
            if side == "halves on two Python threads":
                meet[0].wait()
                run(half_a)
                meet[1].wait()
            else:
                run(full)
        return (time.perf_counter() - started) / args.updates * 1e3

    sides = ["one thread", "halves on two Python threads", "OpenMP's two threads"]
    helper = threading.Thread(target=other_half, daemon=True)
    helper.start()
    for threads, batches in ((1, (full, half_a)), (2, (full,))):  # compile and warm each side's graphs
        torch.set_num_threads(threads)
        for _ in range(10):
            for b in batches:
                run(b)
    print(
        f"torch {torch.__version__}, DDPG's gradients, {HIDDEN}-{HIDDEN}, batch {BATCH}; ms per update, medians of {args.rounds} rounds"
    )
    print(f"{'condition':24}" + "".join(f"{s:>32}" for s in sides) + f"{'halves against one thread':>28}")
    for condition in ("alone", "beside a busy process"):
        times = {s: [] for s in sides}
        with busy_process(condition != "alone"):
            for _ in range(args.rounds):
                for side in sides:
                    times[side].append(timed(side))
        ratio = statistics.median(
            a / b for a, b in zip(times["one thread"], times["halves on two Python threads"], strict=True)
        )
        print(f"{condition:24}" + "".join(f"{statistics.median(times[s]):32.2f}" for s in sides) + f"{ratio:27.2f}x")
    stop = True
    meet[0].wait()


if __name__ == "__main__":
    main()
