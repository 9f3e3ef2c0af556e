"""A3C, asynchronous advantage actor-critic (Mnih et al. 2016).

``num_workers`` workers run in parallel, each with its own env and its own copy of the network. Each
worker repeats:

    take the global parameters                     theta_w <- theta
    collect a rollout of num_steps (20) steps      (n-step returns, as A2C)
    compute the gradient of A2C's loss on it       g = grad_theta_w L(theta_w)   (norm clipped)
    send it to the global model                    theta <- Adam(theta, g)   (shared optimizer statistics)

so the global model moves with whichever worker finishes first, on gradients computed with slightly stale
parameters. Here the workers are processes on one machine; the global network and the optimizer's
statistics live in shared memory, and a lock makes each optimizer step whole. The main process only
evaluates, logs and checkpoints.

``A3CWorker`` is a plain class (collect a rollout, compute gradients, take new parameters), so any
back end that can call its three methods, a process pool or a cluster, can run it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import signal
import time
from dataclasses import dataclass
from typing import Any, Literal

import torch

from actorcritic.algos.a2c import A2C, A2CConfig
from actorcritic.core.buffers import RolloutBuffer
from actorcritic.core.optim import clip_grad_norm_per_member_
from actorcritic.envs.make import episode_seed
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.train.agent import need
from actorcritic.train.on_policy import make_optimizer

REPORT_SECONDS = 0.1  # how often a worker sends its finished episodes and summed metrics


@dataclass(frozen=True)
class A3CConfig(A2CConfig):
    """A3C settings: each worker runs num_envs envs and 20-step rollouts (the defaults solve CartPole-v1
    with 2 workers)."""

    num_workers: int = 2
    """Worker processes, each with its own env(s) and network copy (one per core is fastest)."""
    num_envs: int = 1
    """Envs per worker."""
    num_steps: int = 20
    """Steps per rollout, t_max: each gradient a worker sends comes from num_steps * num_envs steps."""
    learning_rate: float = 1e-3
    """Learning rate of the shared optimizer."""
    backend: Literal["local", "ray"] = "local"
    """Run the workers as processes on this machine ('local') or as Ray actors, on a cluster too ('ray')."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(self.num_workers >= 1, f"num_workers must be >= 1, got {self.num_workers}")
        need(self.vectorization == "sync", "A3C workers are processes already; use vectorization sync")
        need(
            not (self.normalize_obs or self.normalize_reward),
            "A3C does not support normalize_obs or normalize_reward (each worker would keep its own statistics)",
        )
        need(not self.anneal_lr, "A3C does not support anneal_lr (its workers step one shared optimizer)")


class A3CWorker:
    """One worker: its own envs and its own copy of the actor-critic.

    The interface a back end drives: ``set_parameters`` (take the global parameters), ``collect`` (a
    rollout), ``compute_gradients`` (A2C's loss on it, its gradient clipped), and ``pop_episodes`` (the
    episodes finished since the last call). It is made from picklable arguments only.
    """

    def __init__(
        self, env: str, config: A3CConfig, seed: int, env_kwargs: dict[str, Any] | None = None, device: str = "cpu"
    ):
        self.agent = A2C(env, config, seed=seed, device=device, env_kwargs=env_kwargs)
        self.params = list(self.agent.model.parameters())
        self.episodes: list[tuple[float, int]] = []
        self.agent.members[0].logger = self  # the agent reports finished episodes to log_episode
        self.agent._start_envs()

    def log_episode(self, step: int, env: int, ret: float, length: int) -> None:
        self.episodes.append((ret, length))

    @torch.no_grad()
    def set_parameters(self, params: list[torch.Tensor]) -> None:
        """Copy in the global parameters, given in the order of ``model.parameters()``."""
        torch._foreach_copy_(self.params, list(params))

    def collect(self) -> RolloutBuffer:
        return self.agent.collect()

    def compute_gradients(self, rollout: RolloutBuffer) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        """The gradient of A2C's loss on ``rollout`` for every parameter (norm clipped), and the metrics."""
        b = rollout.batch()
        loss, metrics = self.agent.actor_critic_loss(b.obs, b.actions, b.advantages, b.returns)
        for p in self.params:
            p.grad = None
        loss.backward()
        if self.agent.config.max_grad_norm is not None:  # the clipping every other update uses
            clip_grad_norm_per_member_(self.params, self.agent.config.max_grad_norm)
        return [p.grad for p in self.params], metrics

    def pop_episodes(self) -> list[tuple[float, int]]:
        episodes, self.episodes = self.episodes, []
        return episodes

    def turn(self, params: list[torch.Tensor]) -> tuple[list[torch.Tensor], dict[str, torch.Tensor], list, int]:
        """One turn of A3C's worker loop: take ``params``, collect a rollout, and return the gradient of the
        loss on it, the metrics, the episodes finished, and the env steps taken."""
        self.set_parameters(params)
        grads, metrics = self.compute_gradients(self.collect())
        return grads, metrics, self.pop_episodes(), self.steps_per_rollout

    @property
    def steps_per_rollout(self) -> int:
        return self.agent.config.num_steps * self.agent.config.num_envs

    def close(self) -> None:
        self.agent.members[0].logger = None
        self.agent.close()


class A3C(A2C):
    """Asynchronous advantage actor-critic: A2C's loss, computed by parallel workers on their own rollouts
    and applied to one global model as each arrives."""

    algo = "a3c"
    config_cls = A3CConfig
    config: A3CConfig

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.device.type != "cpu":
            raise UserError("A3C's workers share the model through CPU shared memory; use --device cpu")
        self._workers: list[mp.Process] = []
        self.remote_workers: Any = None  # backend ray: the worker actors, started by learn()

    # The global model and the optimizer statistics go to shared memory; every worker process steps them.
    def _start_envs(self) -> None:
        if self.config.backend == "ray":
            if self.remote_workers is None:
                from actorcritic.distributed.a3c import RemoteA3CWorkers

                self.remote_workers = RemoteA3CWorkers(self)
            return
        if self._workers:
            return
        self.model.share_memory()
        _materialize_optimizer_state(self.optim)
        ctx = _context()
        self._shared = _Shared(ctx, self.global_step, self.num_updates, self.planned_total_steps or 0)
        states = [self.optim.state[p] for p in self.params]
        for w in range(self.config.num_workers):
            seed = episode_seed(self.seed, 9, w, self.global_step)  # after a resume, new episodes
            args = (self.env_id, self.config, seed, self.env_kwargs, w, self.model, states, self._shared)
            process = ctx.Process(target=_worker_process, args=args, daemon=True)
            process.start()
            self._workers.append(process)

    def _advance(self) -> None:
        """Wait for the workers' next reports, and take the step counts from the shared counters (on Ray:
        apply the next gradient any worker sends)."""
        if self.remote_workers is not None:
            return self.remote_workers.receive()
        shared = self._shared
        try:
            reports = [shared.reports.get(timeout=1.0)]
        except queue.Empty:
            reports = []
        while True:
            try:
                reports.append(shared.reports.get_nowait())
            except queue.Empty:
                break
        for report in reports:
            self._take_report(report)
        self._read_counters()
        if not reports and not any(p.is_alive() for p in self._workers):
            raise RuntimeError("every A3C worker process has exited")
        if self.global_step >= shared.end.value:
            self._stop_workers()

    def _read_counters(self) -> None:
        with self._shared.lock:
            self.global_step, self.num_updates = self._shared.steps.value, self._shared.updates.value

    def _periodic(self, before: int) -> None:
        """Evaluations and checkpoints see a model no worker is changing: the workers pause for them."""
        if not any(self._due(before)) or not self._workers:
            return super()._periodic(before)
        self._pause_workers()
        super()._periodic(before)
        if not self._solved():  # stopping at the target: the evaluated model is the final one
            self._shared.running.set()

    def _pause_workers(self) -> None:
        """Hold the workers before their next rollout; wait for those mid-rollout to apply it."""
        shared = self._shared
        shared.running.clear()
        while True:
            with shared.lock:
                if shared.busy.value == 0:
                    break
            with contextlib.suppress(queue.Empty):  # a failed worker's report stops the run here
                self._take_report(shared.reports.get(timeout=0.001))
            if not all(p.is_alive() for p in self._workers):
                self._stop_workers()
                raise RuntimeError("an A3C worker process died (killed?); the last checkpoint is kept")
        self._read_counters()

    def _take_report(self, report: tuple) -> None:
        worker, episodes, metric_sums, count, error = report
        if error is not None:
            self._stop_workers()
            diverged, message = error
            raise (TrainingDiverged if diverged else UserError)(f"A3C worker {worker} failed: {message}")
        for ret, length in episodes:
            self._record_episode(0, worker, ret, length)
        if count:
            self._metric_sums += torch.tensor(metric_sums).reshape(-1, 1)
            self._metric_count += count

    def _finish(self) -> None:
        self._stop_workers()  # the final evaluation and checkpoint see a model no worker is changing
        super()._finish()

    def _stop_workers(self) -> None:
        if self.remote_workers is not None:
            self.remote_workers.stop()
            self.remote_workers = None
        if not self._workers:
            return
        self._shared.stop.set()
        deadline = time.monotonic() + 30
        while any(p.is_alive() for p in self._workers) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):  # drain, so no worker blocks on a full queue
                self._take_report(self._shared.reports.get(timeout=0.05))
        for p in self._workers:
            p.join(timeout=1)
            if p.is_alive():
                p.kill()
        self._read_counters()
        self._workers = []


def _context() -> mp.context.BaseContext:
    """Fork-server processes where there are (quick to start: the server has imported torch once, and
    it never ran a torch op, so forking it is safe); spawned ones elsewhere."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["actorcritic.algos.a3c"])
        return ctx
    return mp.get_context("spawn")


def _materialize_optimizer_state(optim: torch.optim.Optimizer) -> None:
    """Create the optimizer's per-parameter statistics now (a zero-gradient step moves nothing) and put
    them in shared memory, so that every worker's optimizer steps the same ones."""
    params = [p for group in optim.param_groups for p in group["params"]]
    if any(p not in optim.state for p in params):
        for p in params:
            p.grad = torch.zeros_like(p)
        optim.step()
        for p in params:
            p.grad = None
            optim.state[p]["step"].zero_()
    for p in params:
        for value in optim.state[p].values():
            if isinstance(value, torch.Tensor):
                value.share_memory_()


class _Shared:
    """What the main process and the worker processes share, besides the model and optimizer state."""

    def __init__(self, ctx: mp.context.BaseContext, steps: int, updates: int, end: int):
        self.lock = ctx.Lock()  # guards the optimizer step and the counters below
        self.steps = ctx.Value("q", steps, lock=False)  # env steps, all workers together
        self.updates = ctx.Value("q", updates, lock=False)  # optimizer steps
        self.busy = ctx.Value("q", 0, lock=False)  # workers between taking parameters and applying their gradient
        self.end = ctx.Value("q", end, lock=False)  # the step count to stop at
        self.running, self.stop = ctx.Event(), ctx.Event()  # running cleared: workers hold; stop: workers exit
        self.running.set()
        self.reports = ctx.Queue()  # (worker, episodes, metric sums, count, error), plain data only


def _worker_process(env, config, seed, env_kwargs, index, model, states, shared: _Shared) -> None:
    """A worker's life in a local process: pull, collect, compute gradients, apply them to the global model."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle: it stops the workers
    torch.set_num_threads(1)
    worker = None
    try:
        worker = A3CWorker(env, config, seed, env_kwargs)
        params = list(model.parameters())
        optim = make_optimizer(config, params)
        for p, state in zip(params, states, strict=True):
            optim.state[p] = state  # the shared statistics
        metric_sums, count, last_report = torch.zeros(len(A3C.metric_names)), 0, time.monotonic()
        episodes: list[tuple[float, int]] = []
        while _take_turn(shared):
            try:
                grads, metrics, finished, steps = worker.turn(params)
                with shared.lock:
                    for p, g in zip(params, grads, strict=True):
                        p.grad = g
                    optim.step()
                    shared.steps.value += steps
                    shared.updates.value += 1
            finally:  # a failed turn must not hold a pause forever
                with shared.lock:
                    shared.busy.value -= 1
            episodes += finished
            metric_sums += torch.stack([metrics[k] for k in A3C.metric_names])
            count += 1
            if time.monotonic() - last_report > REPORT_SECONDS:
                shared.reports.put((index, episodes, metric_sums.tolist(), count, None))
                metric_sums.zero_()
                episodes, count, last_report = [], 0, time.monotonic()
        shared.reports.put((index, episodes, metric_sums.tolist(), count, None))
    except Exception as e:  # reported to the main process, which stops the run with the message
        shared.reports.put((index, [], None, 0, (isinstance(e, TrainingDiverged), f"{type(e).__name__}: {e}")))
    finally:
        if worker is not None:
            worker.close()


def _take_turn(shared: _Shared) -> bool:
    """Wait until the workers may run, then count this one busy; False when the run is over."""
    while True:
        if not shared.running.wait(timeout=0.05) and not shared.stop.is_set():
            continue
        with shared.lock:
            if shared.stop.is_set() or shared.steps.value >= shared.end.value:
                return False
            if shared.running.is_set():  # checked under the lock that _pause_workers reads busy under
                shared.busy.value += 1
                return True
