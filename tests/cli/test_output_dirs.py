"""`sweep --sweep-dir`, `tune --tune-dir` and `swarm phase-diagram --output` write many files into one
directory: each refuses a file, a training run or a folder of the user's there, in one line and before it
writes anything, and still takes a new or empty directory or its own earlier output."""

import json

import pytest

from actorcritic.cli import main
from actorcritic.experiments.sweep import check_sweep_dir
from actorcritic.experiments.tune import check_tune_dir

SWEEP = ["sweep", "ddpg", "--grid", "tau=0.1", "--seeds", "1", "--total-steps", "400", "--workers", "1",
         "--no-progress", "--sweep-dir"]  # fmt: skip
TUNE = ["tune", "ddpg", "--trials", "1", "--total-steps", "400", "--tune-dir"]
PHASE = ["swarm", "phase-diagram", "--noise", "0:1:1", "--n", "20", "--steps", "4", "--repeats", "1",
         "--no-progress", "--output"]  # fmt: skip
COMMANDS = {"sweep": (SWEEP, "sweep"), "tune": (TUNE, "study"), "phase-diagram": (PHASE, "phase diagram's")}

# A training run's directory as `actorcritic train` leaves it (the checkpoints' contents do not matter here)
RUN = {".lock": b"", "config.json": b'{"algo": "ddpg"}\n', "summary.json": b'{"total_steps": 400}\n',
       "metrics.csv": b"step,eval_mean_return\n400,-1200.5\n", "episodes.csv": b"step,return\n200,-1500\n",
       "events.out.tfevents.1.host.1.0": b"\x00\x01", "checkpoints/latest.pt": b"PK\x03\x04latest",
       "checkpoints/best.pt": b"PK\x03\x04best", "plots/returns.png": b"\x89PNG run"}  # fmt: skip


def make(root, files):
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def snapshot(root):
    """Every file's bytes and every directory under ``root``, by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


@pytest.fixture
def targets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake under a relative path shows in the snapshot too
    make(tmp_path / "run", RUN)
    make(tmp_path / "notes", {"notes.txt": b"my notes\n", "data/a.csv": b"1,2\n"})
    (tmp_path / "afile").write_bytes(b"a file of the user's\n")
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("run", ["is not empty and is not a {what} directory", "choose a new or empty directory"]),
        ("notes", ["is not empty and is not a {what} directory", "choose a new or empty directory"]),
        ("afile", ["is a file, not a directory", "choose a new or empty directory"]),
    ],
)
def test_a_file_a_run_or_a_users_folder_is_refused_untouched(targets, capsys, command, target, words):
    args, what = COMMANDS[command]
    before = snapshot(targets)
    code = main([*args, target])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {args[-1]} '{target}' "), err
    for word in words:
        assert word.format(what=what) in err, err
    assert snapshot(targets) == before  # nothing changed, nothing added, not even an empty directory


def test_a_phase_diagram_refused_before_its_runs_are_read(targets, capsys):
    before = snapshot(targets)
    code = main([*PHASE, "notes", "--policy", "run"])  # the fake run would fail to load: the output is checked first
    err = capsys.readouterr().err
    assert code == 2 and "'notes' is not empty" in err and snapshot(targets) == before


def test_a_phase_diagram_is_refused_before_it_prints_anything(targets, capsys):
    assert main([*PHASE, "run"]) == 2
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("command", ["sweep", "tune"])
def test_the_header_is_not_printed_for_a_refused_directory(targets, capsys, command):
    assert main([*COMMANDS[command][0], "run"]) == 2
    assert capsys.readouterr().out == ""


def test_a_phase_diagram_takes_an_empty_directory_and_refuses_its_own_files(targets, capsys):
    (targets / "empty").mkdir()
    assert main([*PHASE, "empty"]) == 0
    assert sorted(p.name for p in (targets / "empty").iterdir()) == ["phase_diagram.csv", "phase_diagram.png"]
    before = snapshot(targets)
    capsys.readouterr()
    assert main([*PHASE, "empty"]) == 2  # its own earlier output: refused file by file, as always
    err = capsys.readouterr().err
    assert err == "error: 'empty/phase_diagram.png' already exists; remove it or choose another path\n"
    assert snapshot(targets) == before


def test_a_sweep_or_study_directory_is_taken_when_new_empty_or_its_own(tmp_path):
    for check, marker in ((check_sweep_dir, "sweep.json"), (check_tune_dir, "tune.json")):
        check(tmp_path / "new")
        (tmp_path / "empty").mkdir(exist_ok=True)
        check(tmp_path / "empty")
        own = tmp_path / marker.split(".")[0]
        make(own, {marker: json.dumps({"algo": "ddpg"}).encode(), ".lock": b"", "runs/x/seed0/summary.json": b"{}"})
        check(own)  # resumed, or refused by the definition's check if it is a different one
        (tmp_path / "locked").mkdir(exist_ok=True)
        (tmp_path / "locked" / ".lock").write_bytes(b"")  # left by a claim interrupted before its definition
        check(tmp_path / "locked")
    assert not (tmp_path / "new").exists()


def test_a_sweep_directory_and_a_study_directory_are_not_each_others(tmp_path, capsys):
    make(tmp_path / "study", {"tune.json": b"{}", "study.db": b"SQLite"})
    make(tmp_path / "sweep", {"sweep.json": b"{}", "sweep.csv": b"config\n"})
    before = snapshot(tmp_path)
    assert main([*SWEEP, str(tmp_path / "study")]) == 2
    assert "is not a sweep directory (it has no sweep.json)" in capsys.readouterr().err
    assert main([*TUNE, str(tmp_path / "sweep")]) == 2
    assert "is not a study directory (it has no tune.json)" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
