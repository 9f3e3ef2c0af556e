"""bench/threads.py's bound on what a run can keep of its speed beside one busy process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from threads import SLICE, fair_share_time


def test_a_job_on_one_thread_keeps_its_time_and_a_divided_one_gets_its_fair_share():
    assert fair_share_time(10.0, 10.0, cores=2) == pytest.approx(10.0)  # nothing divides: one core is enough
    # All of it divides: 2 threads and the busy process share 2 cores, 4/3 of a core for the job's two.
    assert fair_share_time(10.0, 5.0, cores=2) == pytest.approx(7.5)
    # 4 cores: 4 threads at 4/5 of a core each (3.2 cores) beat 3 threads on whole cores.
    assert fair_share_time(8.0, 2.0, cores=4) == pytest.approx(2.5)


# No subnormal draws: an earlier test in the same worker may have left denormals flushed to zero.
@given(st.floats(1.0, 100.0), st.floats(0.0, 1.0, allow_subnormal=False), st.integers(2, 64))
def test_the_bound_lies_between_the_times_alone(t1, divided, cores):
    tc = t1 * (1 - divided) + t1 * divided / cores  # a job whose given share divides over the cores
    assert tc - 1e-9 <= fair_share_time(t1, tc, cores) <= t1 + 1e-9


def test_the_short_slice_launcher_gives_the_command_its_slice():
    """The "short slices" settings start the job through ``SLICE``: the command it execs runs with the slice."""
    sched = Path("/proc/self/sched")
    if not sched.exists() or "se.slice" not in sched.read_text():
        pytest.skip("no per-task slice in /proc (not Linux, or not EEVDF)")
    done = subprocess.run([sys.executable, "-c", SLICE, "250", "/bin/cat", str(sched)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(done.stderr.strip())  # a kernel before 6.12, or a machine whose syscall number it lacks
    line = next(line for line in done.stdout.splitlines() if line.startswith("se.slice"))
    assert int(line.split()[-1]) == 250_000
