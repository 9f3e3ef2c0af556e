"""``--seeds K --processes P``: the seeds split over P processes, each a group of its own. The members' runs
are those one group would have written; a mistake found in any process leaves nothing behind; Ctrl-C
stops them all with checkpoints and one line that resumes them."""

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_interrupts import SMALL, actorcritic, finished, one_error_line, wait_for

from actorcritic.cli import main
from actorcritic.cli.shards import auto_processes, split

TINY = ["--total-steps", "300", "--learning-starts", "100", "--batch-size", "32", "--hidden-sizes", "16", "16",
        "--eval-interval", "150", "--eval-episodes", "1", "--no-progress", "--compile", "off"]  # fmt: skip


def test_the_seeds_are_split_into_contiguous_shards_of_near_equal_size():
    assert split([0, 1, 2, 3, 4, 5, 6, 7], 3) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert split([4, 5], 8) == [[4], [5]]  # never an empty shard
    assert split([0, 1, 2], 1) == [[0, 1, 2]]


def test_auto_is_one_process_per_core_on_a_cpu_and_one_group_elsewhere():
    assert auto_processes(1, "cpu", "local") == 1
    assert 1 <= auto_processes(8, "cpu", "local") <= 8
    assert auto_processes(8, "cuda", "local") == 1
    assert auto_processes(8, "cpu", "ray") == 1


def test_members_trained_in_two_processes_are_those_of_one_group(tmp_path, capsys):
    """Each member's metrics, row by row, whether its group had 3 members or it shared a process with one."""
    args = ["train", "td3", "--seeds", "3", *TINY]
    assert main([*args, "--processes", "2", "--run-dir", str(tmp_path / "two")]) == 0
    out = capsys.readouterr().out
    assert "in 2 processes (2 + 1 seeds)" in out and "seed 2:" in out and "mean ± std over seeds" in out
    assert main([*args, "--processes", "1", "--run-dir", str(tmp_path / "one")]) == 0
    for seed in range(3):
        rows = [list(csv.DictReader((tmp_path / side / f"seed{seed}" / "metrics.csv").read_text().splitlines()))
                for side in ("two", "one")]  # fmt: skip
        assert len(rows[0]) == len(rows[1]) > 1
        for got, want in zip(*rows, strict=True):
            for k in ("step", "episodic_return", "critic_loss", "q_mean", "eval_return_mean"):
                if want[k]:
                    assert float(got[k]) == pytest.approx(float(want[k]), rel=1e-4, abs=1e-5), (seed, k)
        summary = json.loads((tmp_path / "two" / f"seed{seed}" / "summary.json").read_text())
        assert summary["seed"] == seed and summary["total_steps"] == 300


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA")
def test_a_mistake_found_in_one_process_stops_them_all_before_anything_is_written(tmp_path, capsys):
    """The device is checked when a process builds its agent: both are refused, and no directory is made."""
    code = main(["train", "--seeds", "2", "--processes", "2", "--device", "cuda", "--run-dir", str(tmp_path / "g"),
                 *TINY])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and one_error_line(err).startswith("error: device 'cuda' requested"), err
    assert not (tmp_path / "g").exists()


def test_ctrl_c_stops_every_process_with_a_checkpoint_and_one_line_resumes_them(tmp_path):
    group, total = tmp_path / "group", 3000
    proc = actorcritic("train", "td3", "--seeds", "3", "--processes", "2", "--run-dir", group, "--total-steps", total,
                       "--checkpoint-interval", 1000, *SMALL)  # fmt: skip
    dirs = [group / f"seed{s}" for s in range(3)]
    for d in dirs:
        wait_for(d / "metrics.csv", proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    if all(finished(d, total) for d in dirs):  # training finished first: nothing to resume
        assert proc.returncode == 0, err
        return
    line = one_error_line(err)
    assert proc.returncode == 130 and f"actorcritic train --resume {' '.join(map(str, dirs))}" in line, line
    assert all((d / "checkpoints" / "latest.pt").is_file() for d in dirs)
    resumed = subprocess.run([sys.executable, "-m", "actorcritic", "train", "--resume", *map(str, dirs),
                              "--no-progress"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert all(finished(d, total) for d in dirs)


def test_a_run_that_diverges_in_its_process_is_one_error_line(tmp_path, capsys):
    """NaN rewards from step 60 in every member: each process stops; the first error is the command's."""
    code = main(["train", "--env", "toy_envs:NaNRewardEnv", "--seeds", "2", "--processes", "2", "--run-dir",
                 str(tmp_path / "g"), *TINY])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "nan" in one_error_line(err).lower(), err


def shard_pids(parent: int) -> list[int]:
    """The processes training the shards of the command ``parent``: its spawned children (not the
    resource tracker)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                pids.append(int(stat.parent.name))
    return sorted(pids)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the shards' processes in /proc")
def test_a_shard_killed_mid_run_stops_the_others_and_is_one_error_line(tmp_path):
    """SIGKILL, as the out-of-memory killer sends it, to one shard: nothing of it reaches the parent, which
    stops the other with its checkpoint and ends with one line naming the dead shard, exit code 1."""
    group = tmp_path / "group"
    proc = actorcritic("train", "td3", "--seeds", "2", "--processes", "2", "--run-dir", group, "--total-steps",
                       20000, "--checkpoint-interval", 1000, *SMALL)  # fmt: skip
    for d in (group / "seed0", group / "seed1"):
        wait_for(d / "metrics.csv", proc)
    pids = shard_pids(proc.pid)
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    line = one_error_line(err)
    assert proc.returncode == 1 and "exit code -9" in line, err
    dead = int(line.split("training shard ")[1].split()[0])
    assert (group / f"seed{1 - dead}" / "checkpoints" / "latest.pt").is_file()  # one seed per shard
