"""``--threads auto`` (``AutoThreads``): torch gets the cores other processes leave free, less one kept for
the next process, re-read as the run goes; the counts it moves between give the same updates, eager and
compiled. Most tests here keep no core (``reserve=0``), to see the load followed on a 2-core machine."""

import os
import subprocess
import sys
import time

import pytest
import torch
from torch._dynamo.utils import counters

from actorcritic import TD3
from actorcritic.runtime.callbacks import RunState
from actorcritic.runtime.threads import AutoThreads, busy_seconds, own_seconds


class FakeMachine:
    """A machine of ``cores`` cores whose other processes use ``others`` cores, and this process ``own``."""

    def __init__(self, cores: int):
        self.cores, self.others, self.own = cores, 0.0, 1.0
        self.t = self.busy = self.cpu = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:  # this run idle, the others at their load
        self.slept.append(seconds)
        self.t += seconds
        self.busy += self.others * seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.cpu += self.own * seconds
        self.busy += (self.own + self.others) * seconds

    def governor(self, **kwargs) -> AutoThreads:
        return AutoThreads(**{"max_threads": self.cores, "cores": list(range(self.cores)), "clock": lambda: self.t,
                              "cpu_clock": lambda: self.cpu, "busy": lambda cores: self.busy, "sleep": self.sleep,
                              "reserve": 0, **kwargs})  # fmt: skip


def start(gov: AutoThreads) -> None:
    gov.on_training_start(RunState(agent=None, step=0, member=0, seed=0, run_dir=None))


@pytest.mark.parametrize(
    ("cores", "others", "threads"),
    [(2, 0.0, 2), (2, 0.2, 2), (2, 1.0, 1), (2, 0.8, 1), (2, 2.0, 1), (16, 0.0, 16), (16, 4.0, 8), (16, 9.0, 1)],
)
def test_threads_are_the_cores_others_leave_free(cores, others, threads):
    machine = FakeMachine(cores)
    gov = machine.governor()
    machine.others = others
    machine.advance(1.0)  # from when it was made to the start of training
    start(gov)
    assert gov.threads == threads == torch.get_num_threads()  # read as training starts
    assert machine.slept == []  # more than first_interval had passed
    machine.others = 0.0 if others else cores - 1.0  # the load changes: read again
    machine.advance(1.0)
    assert gov.update() == (cores if others else 1) == torch.get_num_threads()


@pytest.mark.parametrize(
    ("cores", "others", "threads"),
    [(2, 0.0, 1), (2, 1.0, 1), (4, 0.0, 2), (4, 1.0, 2), (4, 2.0, 1), (16, 0.0, 8), (16, 7.0, 8), (16, 8.0, 1)],
)
def test_by_default_a_core_is_kept_for_the_next_process(cores, others, threads):
    """So the run's count, and its speed, hold when another busy process starts beside it; on 2 cores
    that is one thread, idle or not."""
    machine = FakeMachine(cores)
    gov = machine.governor(reserve=None)
    assert gov.reserve == 1 and gov.idle_threads == max(1, cores // 2)
    machine.others = others
    machine.advance(1.0)
    start(gov)
    assert gov.threads == threads == torch.get_num_threads()
    machine.others = 0.0 if others else 1.0  # another busy process starts (or the others stop)
    machine.advance(1.0)
    assert gov.update() == max(1, cores // 2)  # what it keeps beside one busy process, as on an idle machine
    assert AutoThreads(cores=[0]).reserve == 0  # one core: nothing to keep


def test_a_run_that_keeps_one_thread_has_no_note():
    """On 2 cores auto keeps one thread, busy machine or not: nothing held it below what an idle one gives."""
    machine = FakeMachine(2)
    machine.others = 1.0
    gov = machine.governor(reserve=None, first_interval=0.5)
    start(gov)
    machine.advance(9.0)
    assert gov.history == [(0.0, 1)] and gov.shared_cores_note() is None


def test_it_follows_the_load_as_it_changes():
    machine = FakeMachine(2)
    gov = machine.governor(interval=1.0, first_interval=1.0)
    start(gov)
    run_state = RunState(agent=None, step=0, member=0, seed=0, run_dir=None)
    for others, expected in [(0.0, 2), (1.0, 1), (1.0, 1), (0.0, 2)]:
        machine.others = others
        machine.advance(0.5)
        gov.on_step(run_state)  # not yet: half an interval
        machine.advance(0.5)
        gov.on_step(run_state)
        assert gov.threads == expected == torch.get_num_threads()
    assert [n for _, n in gov.history] == [1, 2, 1, 2]


def test_the_first_reading_is_taken_as_training_starts():
    """The count is set before the first update (which, compiled, builds a graph for the count it runs on),
    from the load since the governor was made, waiting out first_interval where less time has passed;
    later readings every interval."""
    machine = FakeMachine(2)
    gov = machine.governor(interval=1.0, first_interval=0.1)
    machine.advance(0.04)
    start(gov)
    assert machine.slept == [pytest.approx(0.06)]
    assert gov.threads == 2 == torch.get_num_threads()
    assert gov.history == [(0.0, 1), (0.06, 2)]
    run_state = RunState(agent=None, step=0, member=0, seed=0, run_dir=None)
    machine.others = 1.0
    machine.advance(0.5)
    gov.on_step(run_state)
    assert gov.threads == 2  # half an interval: not yet
    machine.advance(0.5)
    gov.on_step(run_state)
    assert gov.threads == 1 == torch.get_num_threads()


def test_without_proc_stat_it_stays_on_one_thread(tmp_path):
    assert busy_seconds([0], stat=tmp_path / "missing") is None
    machine = FakeMachine(2)
    gov = machine.governor()
    gov.busy = lambda cores: None
    start(gov)
    machine.advance(2.0)
    assert gov.update() == 1 == torch.get_num_threads()


def test_busy_seconds_reads_the_given_cores():
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat")
    assert busy_seconds([0]) > 0.0
    assert busy_seconds([0, 10_000]) == busy_seconds([0])  # a core the machine lacks adds nothing


@pytest.mark.parametrize("compile", [False, True])
def test_thread_counts_give_the_same_updates(compile):
    """A run that changes its thread count mid-way (as auto does) matches one that never did, to float
    rounding (identical bits on the development machine); compiled, each count has its graph and no
    count's graph is built twice."""

    def trained(counts: list[int]) -> list[torch.Tensor]:
        cfg = TD3.config_cls(hidden_sizes=(32, 32), batch_size=32, learning_starts=50)
        agent = TD3("Pendulum-v1", cfg, seed=0, compile=compile)
        agent.trainer.start()
        for _ in range(60):
            agent.trainer.gather()
        for n in counts:
            torch.set_num_threads(n)
            agent.trainer.train(10)
        params = [p.detach().clone() for m in (agent.learner.actor, agent.learner.critic) for p in m.parameters()]
        agent.close()
        return params

    counters.clear()
    switching = trained([1, 2, 1, 2])
    assert counters["stats"].get("unique_graphs", 0) <= (4 if compile else 0)  # 2 branches x 2 counts
    for a, b in zip(trained([1, 1, 1, 1]), switching, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_own_seconds_counts_live_children():
    """torch.compile's worker processes are this run's load, not another process's."""
    if not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
        pytest.skip("no /proc/PID/task/TID/children on this kernel")
    before = own_seconds()
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\ntime.sleep(30)"])  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while own_seconds() - before < 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert own_seconds() - before >= 0.5  # the child's spin, while it is still alive
    finally:
        child.kill()
        child.wait()


def test_a_run_held_to_fewer_threads_says_so():
    """The run's report names the time other processes held it below its thread count, counted from the
    first reading (before it, every run is on one thread), and says nothing on a mostly idle machine."""
    machine = FakeMachine(2)
    gov = machine.governor(interval=1.0, first_interval=1.0)
    start(gov)  # idle for the first second (slept): two threads
    run_state = RunState(agent=None, step=0, member=0, seed=0, run_dir=None)
    machine.others = 1.0
    for _ in range(4):  # busy from the second reading on, 4 s of 1 thread
        machine.advance(1.0)
        gov.on_step(run_state)
    assert gov.history == [(0.0, 1), (1.0, 2), (2.0, 1)]
    assert gov.shared_cores_note() == (
        "threads: other processes kept cores busy for 75% of this run's time, so it ran on fewer threads then "
        "(down to 1 of 2); --threads N fixes the count"
    )
    machine.others = 0.0
    for _ in range(40):  # idle again: its 3 s on one thread are under a tenth of the run
        machine.advance(1.0)
        gov.on_step(run_state)
    assert gov.shared_cores_note() is None


def test_a_run_busy_from_its_first_reading_counts_all_of_it():
    machine = FakeMachine(2)
    machine.others = 1.0
    gov = machine.governor(interval=1.0, first_interval=0.5)
    start(gov)  # the first reading, after 0.5 s asleep, finds a core taken
    machine.advance(9.0)
    assert gov.history == [(0.0, 1)]
    note = gov.shared_cores_note()
    assert "for 100% of this run's time" in note and "(down to 1 of 2)" in note
    assert AutoThreads(max_threads=1, cores=[0]).shared_cores_note() is None  # one core: nothing to say
