"""`actorcritic swarm simulate` and `phase-diagram`, run in-process at tiny sizes."""

import csv
import json

import pytest

from actorcritic.cli.swarm import noise_values, run_swarm_cli
from actorcritic.errors import UserError


def test_simulate_json(capsys):
    assert (
        run_swarm_cli(["simulate", "--n", "150", "--box-size", "6", "--noise", "0.3", "--steps", "30", "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"mean_order", "std_order", "final_order", "steps", "n"}
    assert (result["steps"], result["n"]) == (30, 150)
    assert 0 <= result["mean_order"] <= 1 and 0 <= result["final_order"] <= 1 and result["std_order"] >= 0


def test_simulate_zero_noise_3d_knn_stays_ordered(capsys):
    args = ["simulate", "--preset", "small", "--dim", "3", "--mode", "knn", "--k", "5", "--noise", "0", "--json"]
    assert run_swarm_cli([*args, "--steps", "10", "--update", "old"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 100 and result["std_order"] < 0.05


def test_simulate_text_and_gif(tmp_path, capsys):
    gif = tmp_path / "swarm.gif"
    assert run_swarm_cli(["simulate", "--n", "40", "--steps", "4", "--animate", str(gif)]) == 0
    assert gif.read_bytes()[:3] == b"GIF"
    assert "order parameter" in capsys.readouterr().out
    with pytest.raises(UserError, match="exists"):
        run_swarm_cli(["simulate", "--n", "40", "--steps", "4", "--animate", str(gif)])


def test_phase_diagram_writes_csv_and_png(tmp_path, capsys):
    out = tmp_path / "pd"
    args = ["phase-diagram", "--noise", "0:2:1", "--n", "60", "--steps", "10", "--repeats", "2", "--output", str(out)]
    assert run_swarm_cli([*args, "--no-progress"]) == 0
    with (out / "phase_diagram.csv").open() as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["noise", "mean_order", "std_order", "repeats"]
    assert [float(r["noise"]) for r in table] == [0.0, 1.0, 2.0] and all(r["repeats"] == "2" for r in table)
    assert (out / "phase_diagram.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(UserError, match="exists"):
        run_swarm_cli(args)


def test_noise_ranges():
    assert noise_values("0:5:0.25").tolist() == pytest.approx([0.25 * i for i in range(21)])
    assert noise_values("1:2:0.3").tolist() == pytest.approx([1.0, 1.3, 1.6, 1.9])
    assert noise_values("0.7").tolist() == [0.7]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["dance"], "choose one of: simulate, phase-diagram, evaluate"),
        (["simulate", "--n", "many"], "many"),
        (["simulate", "--steps", "0"], "steps"),
        (["simulate", "--mode", "knn"], "needs k"),
        (["simulate", "--dim", "3", "--noise", "2"], "3D noise"),
        (["simulate", "--dim", "3", "--animate", "x.gif"], "2D"),
        (["simulate", "--animate", "x.png"], ".gif or .mp4"),
        (["phase-diagram", "--noise", "5:0:1", "--output", "pd"], "STOP >= START"),
        (["phase-diagram", "--noise", "a:b", "--output", "pd"], "START:STOP:STEP"),
        (["phase-diagram", "--noise", "0:1:0.5", "--repeats", "0", "--output", "pd"], "repeats"),
        (["phase-diagram", "--noise", "0:1.5:0.5", "--dim", "3", "--output", "pd"], "3D noise"),
    ],
)
def test_bad_flags_raise_user_error(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=words):
        run_swarm_cli(args)
    assert not (tmp_path / "pd").exists()


def test_usage(capsys):
    assert run_swarm_cli([]) == 0
    assert "phase-diagram" in capsys.readouterr().out
