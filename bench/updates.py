"""Milliseconds per DDPG update (256-256 MLPs, batch 256, Pendulum-v1 shapes), side by side with a
CleanRL-style reference update (plain Adam, a Python loop for the soft update, critic weight
gradients computed in the actor step), in the same process, interleaved, medians over repeats.

    python bench/updates.py [--repeats 7] [--updates 200] [--threads N]

Also reports the loop's own cost per env step outside the update (µs), measured with updates off.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from actorcritic import DDPG, DDPGConfig


def reference_update(nets, optims, batch, gamma_tau=(0.99, 0.005)):
    """The update as tutorials write it: separate calls, a Python loop over parameters."""
    actor, critic, actor_t, critic_t = nets
    actor_opt, critic_opt = optims
    _, tau = gamma_tau
    with torch.no_grad():
        y = batch.rewards + batch.discounts * critic_t(batch.next_obs, actor_t(batch.next_obs))
    critic_loss = F.mse_loss(critic(batch.obs, batch.actions), y)
    critic_opt.zero_grad()
    critic_loss.backward()
    critic_opt.step()
    actor_loss = -critic(batch.obs, actor(batch.obs)).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    actor_opt.step()
    with torch.no_grad():
        for net, target in ((actor, actor_t), (critic, critic_t)):
            for p, pt in zip(net.parameters(), target.parameters(), strict=True):
                pt.data.copy_(tau * p.data + (1 - tau) * pt.data)
    return critic_loss.item(), actor_loss.item()  # tutorials log with .item() every step


def time_per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = DDPGConfig(hidden_sizes=(256, 256), batch_size=256, learning_starts=2_000, eval_interval=0)
    agent = DDPG("Pendulum-v1", cfg, seed=0)
    agent._start()
    random_us = time_per_call(agent._env_step, 2_000) * 1e6  # uniform random actions, fills the buffer
    agent.global_step = cfg.learning_starts  # from here on the actor acts, plus noise (no updates)
    policy_us = time_per_call(agent._env_step, 2_000) * 1e6

    nets = tuple(copy.deepcopy(m) for m in (agent.actor, agent.critic, agent.actor_target, agent.critic_target))
    optims = (
        torch.optim.Adam(nets[0].parameters(), lr=1e-3),
        torch.optim.Adam(nets[1].parameters(), lr=1e-3),
    )
    batch = agent.buffer.sample(256)

    ours, ref, sample = [], [], []
    for _ in range(args.repeats):
        ours.append(time_per_call(lambda: agent.update(agent.buffer.sample(256)), args.updates))
        ref.append(time_per_call(lambda: reference_update(nets, optims, batch), args.updates))
        sample.append(time_per_call(lambda: agent.buffer.sample(256), args.updates))
    ms = {k: statistics.median(v) * 1e3 for k, v in {"ours": ours, "ref": ref, "sample": sample}.items()}
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.repeats} repeats x {args.updates} updates (medians)"
    )
    print(f"{'':36}{'ms/update':>10}")
    print(f"{'actorcritic DDPG (incl. sampling)':36}{ms['ours']:10.3f}")
    print(f"{'CleanRL-style reference (no sampling)':36}{ms['ref']:10.3f}")
    print(f"{'  of which: replay sample (ours)':36}{ms['sample']:10.3f}")
    print(f"speed-up vs reference: {ms['ref'] / ms['ours']:.2f}x")
    print(
        f"loop cost per env step outside updates: {random_us:.0f} µs with random actions, "
        f"{policy_us:.0f} µs with the actor acting (env step, buffer add, noise, bookkeeping)"
    )


if __name__ == "__main__":
    main()
