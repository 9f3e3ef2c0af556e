"""No dead ends: a run interrupted at any moment (Ctrl-C, SIGTERM, even SIGKILL before its first checkpoint)
resumes to completion with the command its message names; a second writer of a run directory is refused;
a full disk during a checkpoint keeps the last good one."""

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actorcritic.cli import main
from actorcritic.runtime.loop import EvaluationStopped, StopSignals

SMALL = ["--learning-starts", "100", "--batch-size", "32", "--hidden-sizes", "16", "16", "--eval-interval", "500",
         "--eval-episodes", "2", "--log-interval", "250", "--no-progress", "--compile", "off"]  # fmt: skip


def default_sigint() -> None:
    """In the child: Ctrl-C's default action. A shell without job control starts a background job (say, this
    suite run with `&`) with SIGINT ignored, children inherit that, and a run rightly leaves an ignored
    signal ignored: the tests below would wait for a run that never stops."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def actorcritic(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "actorcritic", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_sigint, **kwargs)  # fmt: skip


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``path`` exists (the run has started writing), or the process ended."""
    deadline = time.monotonic() + timeout
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def finished(run_dir: Path, total: int) -> bool:
    summary = run_dir / "summary.json"
    return summary.exists() and json.loads(summary.read_text())["total_steps"] == total


@pytest.mark.parametrize("seed", range(3))
def test_a_run_interrupted_at_a_random_moment_resumes_to_completion(tmp_path, seed):
    """SIGINT or SIGTERM at a random moment, from before the run directory exists to mid-training: the
    message names the command that goes on, and that command finishes the run."""
    rng = random.Random(seed)
    run_dir, total = tmp_path / "run", 1500
    proc = actorcritic("train", "--run-dir", run_dir, "--total-steps", total, "--checkpoint-interval", 1000, *SMALL)
    if seed:  # seed 0: the signal may come before anything is written
        wait_for(run_dir / "config.json", proc)
    time.sleep(rng.uniform(0.0, 3.0))
    proc.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
    _, err = proc.communicate(timeout=300)
    if finished(run_dir, total):  # training finished first: nothing to resume
        assert proc.returncode == 0 or (proc.returncode == 130 and "after training finished" in one_error_line(err)), (
            err
        )
        return
    if not (run_dir / "config.json").exists():  # stopped before the run began: nothing written, nothing to resume
        assert not run_dir.exists()
        return
    line = one_error_line(err)
    assert proc.returncode == 130 and f"actorcritic train --resume {run_dir}" in line, line
    resumed = subprocess.run([sys.executable, "-m", "actorcritic", "train", "--resume", str(run_dir), "--no-progress"],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert finished(run_dir, total)


def test_the_first_ctrl_c_saves_a_checkpoint_to_resume_from(tmp_path):
    run_dir = tmp_path / "run"
    proc = actorcritic("train", "--run-dir", run_dir, "--total-steps", 50_000, *SMALL)
    wait_for(run_dir / "metrics.csv", proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    line = one_error_line(err)
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    assert proc.returncode == 130 and f"saved {checkpoint}" in line and checkpoint.exists(), line


def test_a_run_killed_before_its_first_checkpoint_starts_over_in_place(tmp_path, capsys):
    run_dir = tmp_path / "run"
    proc = actorcritic("train", "--run-dir", run_dir, "--total-steps", 50_000, *SMALL)
    wait_for(run_dir / "metrics.csv", proc)
    proc.kill()  # SIGKILL: no handler runs, no checkpoint is written
    proc.communicate(timeout=60)
    assert not (run_dir / "checkpoints" / "latest.pt").exists()
    assert main(["train", "--resume", str(run_dir), "--total-steps", "600", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "restarting DDPG" in out and finished(run_dir, 600)
    steps = [int(row.split(",")[0]) for row in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and steps[-1] == 600  # the killed run's rows are gone, not duplicated


def test_a_second_writer_of_a_run_directory_is_refused(tmp_path, capsys):
    run_dir = tmp_path / "run"
    first = actorcritic("train", "--run-dir", run_dir, "--total-steps", 50_000, *SMALL)
    try:
        wait_for(run_dir / "metrics.csv", first)
        assert first.poll() is None
        before = (run_dir / "metrics.csv").read_bytes()
        code = main(["train", "--resume", str(run_dir), "--no-progress"])
        out, err = capsys.readouterr()
        line = one_error_line(err)
        assert code == 2 and "in use by another process" in line and out == ""  # refused before it said more
        assert (run_dir / "metrics.csv").read_bytes()[: len(before)] == before  # the second wrote nothing
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert first.returncode == 130  # the first run went on, and stopped cleanly


def test_a_full_disk_during_a_checkpoint_keeps_the_last_good_one(tmp_path):
    """Resumed under a file-size limit its next checkpoint exceeds: the write fails with EFBIG, the
    previous checkpoint is whole and loads, and the run stops with one error line."""
    run_dir = tmp_path / "run"
    assert main(["train", "--run-dir", str(run_dir), "--total-steps", "400", *SMALL]) == 0
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    good = checkpoint.read_bytes()
    limit = len(good) + 20_000  # room for the CSVs to grow, not for a checkpoint with 2,000 more transitions

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "actorcritic", "train", "--resume", str(run_dir), "--total-steps",
                           "2400", "--checkpoint-interval", "2000", "--no-progress"], capture_output=True,
                          text=True, preexec_fn=small_disk, timeout=600)  # fmt: skip
    line = one_error_line(proc.stderr)
    assert proc.returncode == 2 and "could not write checkpoint" in line and "previous checkpoint is kept" in line
    assert checkpoint.read_bytes() == good
    assert not [p for p in checkpoint.parent.iterdir() if p.name.startswith(".")]  # no temp file left


def test_sigterm_after_training_finished_says_so_in_one_line(tmp_path):
    """The window the random-moment test can hit: a signal while the finished run is being reported."""
    run_dir = tmp_path / "run"
    proc = actorcritic("train", "--run-dir", run_dir, "--total-steps", 300, *SMALL)
    wait_for(run_dir / "summary.json", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert finished(run_dir, 300)
    assert proc.returncode == 0 or (
        "interrupted after training finished" in one_error_line(err) and proc.returncode == 130
    ), err


ENDLESS = """
import time

import gymnasium as gym
import numpy as np


class Endless(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        time.sleep(0.02)  # so that the signal comes inside the env's step, through its wrappers
        return np.zeros(2, np.float32), 0.0, False, False, {}
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_an_evaluation_that_never_would(tmp_path, sig):
    """An env without a time limit whose episodes never end holds an evaluation forever: one signal drops the
    evaluation, the run saves a checkpoint at the step it reached and names the command that goes on."""
    (tmp_path / "endless.py").write_text(ENDLESS)
    run_dir = tmp_path / "run"
    flags = [*SMALL, "--eval-interval", "200", "--eval-episodes", "1"]  # the later flag wins
    proc = actorcritic("train", "--env", "endless:Endless", "--run-dir", run_dir, "--total-steps", 1000, *flags,
                       cwd=tmp_path)  # fmt: skip
    wait_for(run_dir / "config.json", proc)
    time.sleep(7.0)  # 200 steps take about 4 s: by now it evaluates, and would forever
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    line = one_error_line(err)
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    assert proc.returncode == 130 and f"saved {checkpoint}" in line and checkpoint.exists(), line
    assert f"actorcritic train --resume {run_dir}" in line
    rows = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    assert all(row.split(",")[-4] == "" for row in rows)  # no evaluation was recorded


def test_a_second_sigterm_stops_at_once_as_a_second_ctrl_c_does():
    """Signals in this process: the first asks for a stop, inside an evaluation it ends the evaluation at once,
    and a second of either kind raises KeyboardInterrupt (the loop's stop without a checkpoint)."""
    runner = {sig: signal.signal(sig, signal.SIG_DFL) for sig in (signal.SIGINT, signal.SIGTERM)}  # xdist's own
    try:
        with StopSignals() as stop:
            with pytest.raises(EvaluationStopped), stop.dropping():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1.0)  # the handler runs at the next bytecode
            assert stop.requested == "SIGTERM"
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1.0)
            assert stop.last == "SIGTERM"
        with StopSignals() as stop:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            assert stop.requested == "SIGINT"
            with pytest.raises(EvaluationStopped), stop.dropping():  # a stop already asked for: none starts
                pass
            os.kill(os.getpid(), signal.SIGTERM)  # a sweep's SIGTERM to its runs, right after the terminal's Ctrl-C
            time.sleep(0.1)
            assert stop.requested == "SIGINT" and stop.last == "SIGTERM"  # still a stop with a checkpoint
    finally:
        for sig, handler in runner.items():
            signal.signal(sig, handler)


def test_ctrl_c_during_tuning_is_one_line_that_names_the_command_that_goes_on(tmp_path):
    """Optuna's own warning for the stopped trial (a traceback) stays off the terminal."""
    pytest.importorskip("optuna")
    tune_dir = tmp_path / "study"
    proc = actorcritic("tune", "ddpg", "--trials", 2, "--total-steps", 50_000, "--tune-dir", tune_dir)
    wait_for(tune_dir / "trials" / "trial0" / "metrics.csv", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    line = one_error_line(err)
    assert proc.returncode == 130 and f"with --tune-dir {tune_dir}" in line, line
