"""A3C's workers, and the local back end that runs them as processes on this machine.

``A3CWorker`` is one worker: its own envs, its own copy of the actor-critic, a rollout collector. Its
``turn`` takes the global parameters, collects a rollout and returns the gradient of A2C's loss on it.
Any back end that can call ``turn`` runs A3C: processes here, Ray actors in ``backends/ray/a3c.py``.

The local back end: the global network and the optimizer's statistics live in shared memory; each worker
process applies its gradient itself under a lock that makes each optimizer step whole. The main process
only evaluates, logs and checkpoints, holding the workers while it does.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import signal
import time
from typing import Any

import torch

from actorcritic.algos.a2c import make_optimizer
from actorcritic.algos.a3c import A3CConfig, A3CLearner, apply_gradients
from actorcritic.core.seeding import Stream, stream_generator, stream_seed
from actorcritic.errors import TrainingDiverged, UserError
from actorcritic.runtime.clock import Clock
from actorcritic.runtime.collectors import RolloutCollector
from actorcritic.runtime.denormals import flush_denormals
from actorcritic.runtime.envs import EnvRunner, probe_env
from actorcritic.runtime.heap import keep_freed_memory
from actorcritic.runtime.trainers import Trainer

REPORT_SECONDS = 0.1  # how often a worker process sends its finished episodes and summed metrics


class A3CWorker:
    """One worker: its own envs and its own copy of the actor-critic. Made from picklable arguments only."""

    def __init__(self, env: str, config: A3CConfig, seed: int, env_kwargs: dict[str, Any] | None = None,
                 device: str = "cpu"):  # fmt: skip
        flush_denormals()  # as the loop does: this process's thread computes gradients and Adam steps
        keep_freed_memory()
        env_kwargs = dict(env_kwargs or {})
        spec = probe_env(env, env_kwargs, "A3C", discrete_ok=True)
        init, policy = stream_generator(seed, Stream.INIT), stream_generator(seed, Stream.POLICY, device=device)
        self.learner = A3CLearner(config, spec.obs_dim, spec.action_dim, [init], [policy], torch.device(device),
                                  discrete=spec.scaler is None)  # fmt: skip
        self.clock = Clock()
        self.runner = EnvRunner(env, env_kwargs, [seed], config.num_envs, "sync", spec.to_env, self.clock)
        self.episodes: list[tuple[float, int]] = []
        self.runner.on_episode = lambda member, env_index, ret, length: self.episodes.append((ret, length))
        self.collector = RolloutCollector(self.runner, self.learner, spec.obs_dim, spec.action_shape,
                                          config.num_steps, config.gamma, config.gae_lambda)  # fmt: skip
        self.runner.start()
        self.steps_per_rollout = config.num_steps * config.num_envs

    def turn(self, params: list[torch.Tensor]) -> tuple[list[torch.Tensor], dict[str, torch.Tensor], list, int]:
        """Take ``params``, collect a rollout, and return the gradient of the loss on it, the metrics, the
        episodes finished, and the env steps taken."""
        self.learner.set_parameters(params)
        grads, metrics = self.learner.compute_gradients(self.collector.collect())
        episodes, self.episodes = self.episodes, []
        return grads, metrics, episodes, self.steps_per_rollout

    def close(self) -> None:
        self.runner.close()


class A3CProcesses:
    """The local back end: ``num_workers`` worker processes stepping one shared model."""

    name, config = "local", None

    def check(self, agent: Any, seeds: list[int]) -> None:
        if agent.device.type != "cpu":
            raise UserError("A3C's workers share the model through CPU shared memory; use --device cpu")

    def make_trainer(self, agent: Any) -> Trainer:
        return ProcessTrainer(agent)


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


class ProcessTrainer(Trainer):
    """The main process's side: start the workers, take their reports, hold them for evaluations."""

    def __init__(self, agent: Any):
        self.agent, self.learner, self.clock = agent, agent.learner, agent.clock
        self.workers: list[mp.Process] = []
        self.shared: _Shared | None = None

    def start(self) -> None:
        if self.workers:
            return
        agent, learner = self.agent, self.learner
        learner.model.share_memory()
        _materialize_optimizer_state(learner.optim)
        ctx = _context()
        self.shared = _Shared(ctx, self.clock.global_step, self.clock.num_updates, self.clock.total_steps or 0)
        states = [learner.optim.state[p] for p in learner.params]
        for w in range(agent.config.num_workers):
            seed = stream_seed(agent.seed, Stream.A3C_WORKER, w, self.clock.global_step)  # after a resume, new episodes
            args = (agent.env_id, agent.config, seed, agent.env_kwargs, w, learner.model, states, self.shared)
            process = ctx.Process(target=_worker_process, args=args, daemon=True)
            process.start()
            self.workers.append(process)

    def turn(self) -> None:
        """Wait for the workers' next reports, and take the step counts from the shared counters."""
        shared = self.shared
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
            self._take(report)
        self._read_counters()
        if not reports and not any(p.is_alive() for p in self.workers):
            raise RuntimeError("every A3C worker process has exited")
        if self.clock.global_step >= shared.end.value:
            self.stop()

    def _read_counters(self) -> None:
        with self.shared.lock:
            self.clock.global_step, self.clock.num_updates = self.shared.steps.value, self.shared.updates.value

    def _take(self, report: tuple) -> None:
        worker, episodes, metric_sums, count, error = report
        if error is not None:
            self.stop()
            diverged, message = error
            raise (TrainingDiverged if diverged else UserError)(f"A3C worker {worker} failed: {message}")
        for ret, length in episodes:
            self.agent.members[0].record_episode(self.clock.global_step, worker, ret, length)
        if count:
            self.agent.metrics.add_sums(metric_sums, count)

    def pause(self) -> None:
        """Hold the workers before their next rollout; wait for those mid-rollout to apply it."""
        if not self.workers:
            return
        shared = self.shared
        shared.running.clear()
        while True:
            with shared.lock:
                if shared.busy.value == 0:
                    break
            with contextlib.suppress(queue.Empty):  # a failed worker's report stops the run here
                self._take(shared.reports.get(timeout=0.001))
            if not all(p.is_alive() for p in self.workers):
                self.stop()
                raise RuntimeError("an A3C worker process died (killed?); the last checkpoint is kept")
        self._read_counters()

    def resume(self) -> None:
        if self.workers:
            self.shared.running.set()

    def stop(self) -> None:
        if not self.workers:
            return
        self.shared.stop.set()
        deadline = time.monotonic() + 30
        while any(p.is_alive() for p in self.workers) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):  # drain, so no worker blocks on a full queue
                self._take(self.shared.reports.get(timeout=0.05))
        for p in self.workers:
            p.join(timeout=1)
            if p.is_alive():
                p.kill()
        self._read_counters()
        self.workers = []


def _context() -> mp.context.BaseContext:
    """Fork-server processes where there are (quick to start: the server has imported torch once, and
    it never ran a torch op, so forking it is safe); spawned ones elsewhere."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["actorcritic.backends.a3c"])
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
        names = A3CLearner.metric_names
        metric_sums, count, last_report = torch.zeros(len(names)), 0, time.monotonic()
        episodes: list[tuple[float, int]] = []
        while _take_turn(shared):
            try:
                grads, metrics, finished, steps = worker.turn(params)
                with shared.lock:
                    apply_gradients(optim, params, grads)
                    shared.steps.value += steps
                    shared.updates.value += 1
            finally:  # a failed turn must not hold a pause forever
                with shared.lock:
                    shared.busy.value -= 1
            episodes += finished
            metric_sums += torch.stack([metrics[k] for k in names])
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
            if shared.running.is_set():  # checked under the lock that pause() reads busy under
                shared.busy.value += 1
                return True
