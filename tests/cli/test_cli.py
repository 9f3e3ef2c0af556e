"""The `actorcritic` command: a working path through train/eval/plot/resume, and every bad input
giving one `error:` line, exit code 2, and nothing overwritten."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from actorcritic.cli import main

TINY = ["--total-steps", "300", "--learning-starts", "100", "--batch-size", "32", "--hidden-sizes", "16", "16",
        "--eval-interval", "150", "--eval-episodes", "2", "--no-progress"]  # fmt: skip


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    assert (
        main(
            [
                "train",
                "ddpg",
                "--run-dir",
                str(run_dir),
                "--seed",
                "1",
                "--checkpoint-interval",
                "200",
                *TINY,
            ]
        )
        == 0
    )
    return run_dir


def test_train_writes_a_complete_run_directory(trained_run):
    for name in ("config.json", "metrics.csv", "episodes.csv", "summary.json", "checkpoints/latest.pt",
                 "checkpoints/best.pt", "plots/returns.png", "plots/losses.png"):  # fmt: skip
        assert (trained_run / name).is_file(), name
    assert any(p.name.startswith("events.out.tfevents") for p in trained_run.iterdir())
    summary = json.loads((trained_run / "summary.json").read_text())
    keys = {"algo", "env", "seed", "total_steps", "final_eval_mean_return", "final_eval_std_return",
            "best_eval_mean_return", "solved_at_step", "wall_seconds", "updates_per_second"}  # fmt: skip
    assert keys <= summary.keys()
    assert summary["algo"] == "ddpg" and summary["total_steps"] == 300 and summary["seed"] == 1
    config = json.loads((trained_run / "config.json").read_text())
    assert config["config"]["hidden_sizes"] == [16, 16] and config["config"]["batch_size"] == 32


def test_eval_json_and_text(trained_run, capsys):
    code, out, _ = run_cli(capsys, "eval", trained_run, "--episodes", "2", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["episodes"] == 2 and result["step"] == 300 and result["mean_length"] == 200
    code, out, _ = run_cli(capsys, "eval", trained_run, "--episodes", "1", "--checkpoint", "best")
    assert code == 0 and "return" in out


def test_plot_overlays_runs(trained_run, tmp_path, capsys):
    out_file = tmp_path / "cmp.png"
    code, _, _ = run_cli(capsys, "plot", trained_run, trained_run, "-o", out_file)
    assert code == 0 and out_file.stat().st_size > 0


def test_output_files_are_checked_before_any_work(trained_run, tmp_path, capsys):
    """A user's file is never replaced, and an output that could not be written (a folder on its way is a file,
    a suffix for another format) is refused before the command evaluates, plots or exports anything."""
    mine, afile = tmp_path / "mine.png", tmp_path / "afile"
    mine.write_text("my precious")
    afile.write_text("")
    before = tree_digest(trained_run)
    refused = [
        (["plot", trained_run, trained_run, "-o", mine], ["already exists"]),
        (["plot", trained_run, "-o", tmp_path], ["already exists"]),
        (["plot", trained_run, "-o", tmp_path / "cmp.txt"], ["should be an image", ".png", "not '.txt'"]),
        (["plot", trained_run, "-o", afile / "cmp.png"], ["afile' is a file, not a directory"]),
        (["export", trained_run, "--format", "torchscript", "-o", tmp_path / "p.onnx"], ["names an onnx file"]),
        (["export", trained_run, "-o", tmp_path / "p.pt"], ["should be an onnx file (.onnx)"]),
        (["export", trained_run, "-o", afile / "p.onnx"], ["is a file, not a directory"]),
        (["eval", trained_run, "--render", "gif", "--video", tmp_path / "v.mp4"], ["should be a video (.gif)"]),
        (["eval", trained_run, "--video", tmp_path / "v.avi"], ["should be a video (.gif, .mp4)"]),
    ]
    for args, words in refused:
        code, out, err = run_cli(capsys, *args)
        assert_user_error(code, err, *words)
        assert out == ""  # refused before it evaluated anything
    assert mine.read_text() == "my precious" and afile.read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "mine.png"]
    assert tree_digest(trained_run) == before


def test_eval_video_alone_records_in_its_suffix_s_format(trained_run, tmp_path, capsys):
    pytest.importorskip("imageio")
    pytest.importorskip("pygame")
    video = tmp_path / "v.gif"
    code, out, err = run_cli(capsys, "eval", trained_run, "--episodes", 1, "--video", video)
    assert code == 0 and f"video: {video}" in out and video.read_bytes()[:3] == b"GIF", err


def test_plot_of_one_run_rewrites_its_own_plots(trained_run, capsys):
    returns_png = trained_run / "plots" / "returns.png"
    returns_png.unlink()
    code, out, _ = run_cli(capsys, "plot", trained_run)
    assert code == 0 and returns_png.stat().st_size > 0 and str(returns_png) in out


def test_resume_continues_to_a_new_total(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--run-dir", str(run_dir), *TINY]) == 0
    code, out, _ = run_cli(capsys, "train", "--resume", run_dir, "--total-steps", "400", "--no-progress")
    assert code == 0, out
    assert json.loads((run_dir / "summary.json").read_text())["total_steps"] == 400
    code, out, _ = run_cli(capsys, "train", "--resume", run_dir, "--no-progress")
    assert code == 0 and "nothing to do" in out


def test_seeds_trains_a_group_with_one_run_directory_per_seed(tmp_path, capsys):
    group = tmp_path / "group"
    code, out, _ = run_cli(capsys, "train", "td3", "--seeds", "2", "--seed", "4", "--run-dir", group, *TINY)
    assert code == 0, out
    assert "seed 4:" in out and "seed 5:" in out and "mean ± std over seeds" in out
    dirs = [group / "seed4", group / "seed5"]
    for seed, run in zip((4, 5), dirs, strict=True):
        assert json.loads((run / "summary.json").read_text())["seed"] == seed
        assert (run / "checkpoints" / "latest.pt").is_file() and (run / "plots" / "returns.png").is_file()
    code, out, _ = run_cli(capsys, "eval", dirs[1], "--json")  # each member is a run of its own
    assert code == 0 and json.loads(out)["step"] == 300
    code, out, _ = run_cli(capsys, "train", "--resume", *dirs, "--total-steps", "400", "--no-progress")
    assert code == 0, out
    assert [json.loads((d / "summary.json").read_text())["total_steps"] for d in dirs] == [400, 400]


def test_seeds_never_go_into_an_existing_run(tmp_path, capsys):
    """--seeds K --run-dir DIR puts DIR/seed<S> in DIR: a DIR that holds a finished run is refused."""
    run = tmp_path / "td3"
    assert main(["train", "td3", "--run-dir", str(run), *TINY]) == 0
    before = sorted(p.name for p in run.iterdir())
    code, _, err = run_cli(capsys, "train", "td3", "--seeds", "2", "--run-dir", run, *TINY)
    assert_user_error(code, err, str(run), "already exists")
    assert sorted(p.name for p in run.iterdir()) == before


def test_seeds_never_touch_an_existing_member_directory(tmp_path, capsys):
    (tmp_path / "group" / "seed1").mkdir(parents=True)
    (tmp_path / "group" / "seed1" / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "train", "--seeds", "2", "--run-dir", tmp_path / "group", *TINY)
    assert_user_error(code, err, "group", "already exists")
    assert sorted(p.name for p in (tmp_path / "group").iterdir()) == ["seed1"]  # seed0 was not created
    assert (tmp_path / "group" / "seed1" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("spelling", [["--algo", "td3"], ["--algo=td3"]])
def test_the_algorithm_as_a_flag_as_in_rl_zoo(spelling, tmp_path, capsys):
    run_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "--run-dir", run_dir, *spelling, *TINY)
    assert code == 0, err
    assert out.startswith("training TD3 ")
    assert json.loads((run_dir / "config.json").read_text())["algo"] == "td3"


def test_config_file_sets_fields_and_flags_override(tmp_path, capsys):
    cfg = tmp_path / "ddpg.yaml"
    cfg.write_text("tau: 0.02\nactor_lr: 0.0003\nnoise: ou\ntotal_steps: 200\nenv: toy_envs:TruncatingEnv\n")
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "--config", cfg, "--actor-lr", "0.0005", "--run-dir", run_dir,
                           "--learning-starts", "50", "--eval-interval", "0", "--eval-episodes", "1", "--no-progress")  # fmt: skip
    assert code == 0, err
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["env"] == "toy_envs:TruncatingEnv"
    assert saved["config"]["tau"] == 0.02 and saved["config"]["noise"] == "ou"
    assert saved["config"]["actor_lr"] == 0.0005  # the flag wins over the file
    assert json.loads((run_dir / "summary.json").read_text())["total_steps"] == 200


BAD_INPUTS = [
    (["train", "--env", "NoSuchEnv-v9"], ["unknown environment"]),
    (["train", "--env", "CartPole-v1"], ["continuous"]),
    (["train", "--env", "no_such_module:Env"], ["cannot import"]),
    (["train", "--tau", "0"], ["tau"]),
    (["train", "--tau", "1.5"], ["tau"]),
    (["train", "--actor-lr", "-0.001"], ["actor_lr"]),
    (["train", "--critic-lr", "-1"], ["critic_lr"]),
    (["train", "--batch-size", "512", "--buffer-size", "256"], ["batch_size"]),
    (["train", "--tau", "abc"], ["tau"]),
    (["train", "--no-such-flag", "1"], ["unrecognized"]),
    (["train", "nosuchalgo"], ["unknown algorithm"]),
    (["train", "--algo", "nosuchalgo"], ["unknown algorithm"]),
    (["train", "--algo"], ["--algo needs a name"]),
    (["sweep", "--algo=", "--grid", "tau=0.1,0.2"], ["--algo needs a name"]),
    (["train", "--algo", "--seed", "1"], ["--algo needs a name"]),
    (["train", "sac", "--algo", "td3"], ["more than once"]),
    (["tune", "--algo=ddpg", "--algo", "sac"], ["more than once: ddpg, sac"]),
    (["eval", "does/not/exist"], ["no such"]),
    (["train", "--resume", "does/not/exist"], ["no such"]),
    (["plot", "does/not/exist"], ["no such"]),
    (["frobnicate"], ["unknown command"]),
    (["train", "--device", "gpu"], ["unknown device"]),
    (["train", "--threads", "0"], ["threads"]),
    (["train", "--seeds", "0"], ["seeds"]),
    (["train", "--processes", "0"], ["processes"]),
    (["train", "--env", "Swarm-v0", "--env-kwargs", "preset"], ["key=value"]),
    (["train", "--env", "Swarm-v0", "--env-kwargs", "preset=huge"], ["preset"]),
    (["train", "--env", "Swarm-v0", "--seeds", "2"], ["seeds"]),
    (["train", "ppo", "--seeds", "2"], ["one seed"]),
    (["train", "a2c", "--compile"], ["compile"]),
    (["train", "a3c", "--num-workers", "0"], ["num_workers"]),
    (["train", "ppo", "--clip-coef", "0"], ["clip_coef"]),
    (["train", "ddpg", "--env", "CartPole-v1"], ["continuous"]),
    (["swarm", "evaluate"], ["RUN_DIR", "--policy"]),
    (["swarm", "evaluate", "--policy", "best"], ["invalid"]),
    (["train", "--threads", "abc"], ["could be instantiated from ['abc']. (see `actorcritic train ddpg --help`)"]),
    (["train", "--tua", "1"], ["unrecognized options: --tua, 1 perhaps you meant: --tau float"]),
    (["swarm", "phase-diagram"], ["phase-diagram: --noise STR --output PATH (see"]),
    (["plot"], ["one or more run directories"]),
    (["train", "--resume"], ["needs a run directory"]),
    (["train", "--resume", "does/not/exist", "--total-steps", "-5"], ["total_steps must be >= 0"]),
    (["train", "--resume", "does/not/exist", "--checkpoint-interval", "-1"], ["checkpoint_interval must be >= 0"]),
]
if not torch.cuda.is_available():
    BAD_INPUTS.append((["train", "--device", "cuda"], ["cuda"]))


@pytest.mark.parametrize(("args", "words"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_error_line(args, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be created where the user runs it
    code, _, err = run_cli(capsys, *args)
    assert_user_error(code, err, *words)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("bad.toml", "tau = [1, 2\n", ["malformed"]),
        ("bad.yaml", "tau: [1, 2\n", ["malformed"]),
        ("bad.json", '{"tau": ', ["malformed"]),
        ("list.yaml", "- 1\n- 2\n", ["malformed"]),
        ("unknown.toml", "taux = 0.1\n", ["unknown", "taux"]),
        ("bad.ini", "tau=0.1\n", [".toml"]),
        ("badtau.toml", "tau = 3.0\n", ["tau"]),
        ("strtau.json", '{"tau": "abc"}', ["tau must be a number, got 'abc'"]),
        ("loss.yaml", "critic_loss: l1\n", ["critic_loss must be one of 'mse', 'huber'"]),
    ],
)
def test_bad_config_file(name, text, words, tmp_path, capsys):
    path = tmp_path / name
    path.write_text(text)
    code, _, err = run_cli(capsys, "train", "--config", path)
    assert_user_error(code, err, *words)


def test_missing_config_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--config", tmp_path / "nope.toml")
    assert_user_error(code, err, "not found")


def test_existing_run_dir_is_never_overwritten(trained_run, capsys):
    before = tree_digest(trained_run)
    code, _, err = run_cli(capsys, "train", "--run-dir", trained_run, *TINY)
    assert_user_error(code, err, "already exists")
    assert tree_digest(trained_run) == before


def test_corrupt_checkpoint_and_run_dir(tmp_path, capsys, trained_run):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x04garbage that is not a checkpoint")
    code, _, err = run_cli(capsys, "eval", bad)
    assert_user_error(code, err, "corrupt")

    run_copy = tmp_path / "run"
    (run_copy / "checkpoints").mkdir(parents=True)
    data = (trained_run / "checkpoints" / "latest.pt").read_bytes()
    (run_copy / "checkpoints" / "latest.pt").write_bytes(data[: len(data) // 2])  # truncated file
    code, _, err = run_cli(capsys, "train", "--resume", run_copy)
    assert_user_error(code, err, "checkpoint")

    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    code, _, err = run_cli(capsys, "eval", not_a_run)
    assert_user_error(code, err, "no checkpoint")

    torch.save({"hello": 1}, tmp_path / "other.pt")
    code, _, err = run_cli(capsys, "eval", tmp_path / "other.pt")
    assert_user_error(code, err, "not an actorcritic checkpoint")


def test_console_script_prints_one_error_line(tmp_path):
    """The installed entry point, in a real process: no traceback, exit code 2."""
    exe = Path(sys.executable).with_name("actorcritic")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "actorcritic"]
    proc = subprocess.run([*cmd, "train", "--tau", "2"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": ""}, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: tau must be in (0, 1], got 2.0"]


def test_user_env_module_in_the_current_directory(tmp_path, capsys, monkeypatch):
    """`--env mymodule:Class` finds a module next to the user, as `python -m` would."""
    (tmp_path / "my_pendulum.py").write_text(
        "from gymnasium.envs.classic_control.pendulum import PendulumEnv\n"
        "from gymnasium.wrappers import TimeLimit\n"
        "class Short(TimeLimit):\n"
        "    def __init__(self):\n"
        "        super().__init__(PendulumEnv(), max_episode_steps=50)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    code, _, err = run_cli(capsys, "train", "--env", "my_pendulum:Short", "--run-dir", "r", *TINY)
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["env"] == "my_pendulum:Short"


def test_gymnasium_module_colon_env_id_syntax(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--env", "gymnasium:Pendulum-v1", "--run-dir", tmp_path / "r", *TINY)
    assert code == 0, err


def test_divergence_is_one_error_line_and_keeps_the_checkpoint(tmp_path, capsys):
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "--env", "toy_envs:NaNRewardEnv", "--run-dir", run_dir,
                           "--checkpoint-interval", "25", "--learning-starts", "10", "--batch-size", "8",
                           "--hidden-sizes", "8", "--eval-interval", "0", "--eval-episodes", "1", "--no-progress")  # fmt: skip
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: NaN or inf in observation or reward"), err
    assert str(run_dir / "checkpoints" / "latest.pt") in lines[0]


def test_swarm_evaluate_baseline_and_trained_run(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "swarm", "evaluate", "--policy", "vicsek", "--episodes", "1", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["policy"] == "vicsek" and result["noise"] == 0.5 and 0.9 < result["mean_order"] <= 1
    run = tmp_path / "swarm"
    code, out, _ = run_cli(capsys, "train", "--env", "Swarm-v0", "--env-kwargs", "episode_steps=20,noise=0.3",
                           "--total-steps", "4000", "--learning-starts", "2000", "--eval-episodes", "1",
                           "--run-dir", run, "--no-progress")  # fmt: skip
    assert code == 0 and "order parameter" in out, out
    config = json.loads((run / "config.json").read_text())
    assert config["env_kwargs"] == {"episode_steps": 20, "noise": 0.3}
    assert config["config"]["hidden_sizes"] == [64, 64] and config["config"]["num_envs"] == 100  # swarm defaults
    code, out, _ = run_cli(capsys, "swarm", "evaluate", run, "--episodes", "1", "--json")
    assert code == 0 and json.loads(out)["policy"] == "trained" and json.loads(out)["episode_steps"] == 20


ON_POLICY_TINY = ["--hidden-sizes", "16", "16", "--eval-interval", "1000", "--eval-episodes", "2", "--no-progress"]


@pytest.mark.parametrize("algo", ["reinforce", "a2c", "ppo", "a3c"])
def test_on_policy_train_eval_resume(algo, tmp_path, capsys):
    run_dir = tmp_path / algo
    extra = ["--num-workers", "2"] if algo == "a3c" else []
    code, out, err = run_cli(capsys, "train", algo, "--env", "CartPole-v1", "--total-steps", 1000, "--run-dir",
                             run_dir, "--checkpoint-interval", 500, *ON_POLICY_TINY, *extra)  # fmt: skip
    assert code == 0, err
    assert f"training {algo.upper()} on CartPole-v1" in out and "final eval" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["algo"] == algo and summary["total_steps"] >= 1000
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"policy_loss", "value_loss", "entropy", "eval_return_mean"} <= set(header)
    code, out, err = run_cli(capsys, "eval", run_dir, "--episodes", 2, "--json")
    assert code == 0 and json.loads(out)["episodes"] == 2
    code, out, err = run_cli(capsys, "train", "--resume", run_dir, "--total-steps", 2000, "--no-progress")
    assert code == 0, err
    assert json.loads((run_dir / "summary.json").read_text())["total_steps"] >= 2000


def test_on_policy_on_the_swarm_uses_the_swarm_defaults_it_has(tmp_path, capsys):
    """The swarm's training defaults are for DDPG; an on-policy algo takes the ones its config has."""
    run_dir = tmp_path / "swarm"
    code, out, err = run_cli(capsys, "train", "ppo", "--env", "Swarm-v0", "--env-kwargs", "preset=small",
                             "--total-steps", 2000, "--num-steps", 10, "--run-dir", run_dir, "--no-progress")  # fmt: skip
    assert code == 0, err
    config = json.loads((run_dir / "config.json").read_text())
    assert config["config"]["hidden_sizes"] == [64, 64] and config["config"]["num_envs"] == 100
    assert "order parameter" in out


def test_export_writes_standalone_files_and_never_overwrites(trained_run, capsys):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import actorcritic

    code, out, err = run_cli(capsys, "export", trained_run)
    assert code == 0, err
    first = trained_run / "export" / "policy.onnx"
    assert str(first) in out and first.exists()
    code, out, _ = run_cli(capsys, "export", trained_run)  # a second export goes next to it
    assert code == 0 and (trained_run / "export" / "policy-2.onnx").exists()
    obs = torch.randn(6, 3).numpy()
    got = ort.InferenceSession(str(first)).run(None, {"obs": obs})[0]
    torch.testing.assert_close(torch.as_tensor(got), torch.as_tensor(actorcritic.load(trained_run).act(obs)),
                               atol=1e-5, rtol=1e-5)  # fmt: skip
    code, out, err = run_cli(capsys, "export", trained_run, "--format", "torchscript", "-o", first)
    assert_user_error(code, err, "already exists")
    code, out, err = run_cli(capsys, "export", trained_run, "--format", "torchscript")
    assert code == 0 and (trained_run / "export" / "policy.pt").exists()


def test_eval_render_writes_a_video(trained_run, capsys):
    pytest.importorskip("imageio")
    pytest.importorskip("pygame")
    code, out, err = run_cli(capsys, "eval", trained_run, "--episodes", 2, "--render", "gif", "--json")
    assert code == 0, err
    video = Path(json.loads(out)["video"])
    assert video.parent == trained_run / "videos" and video.suffix == ".gif" and video.stat().st_size > 0
    code, out, err = run_cli(capsys, "eval", trained_run, "--episodes", 1, "--render", "gif", "--video", video)
    assert_user_error(code, err, "already exists")


def test_resume_finishes_a_run_killed_after_its_last_checkpoint(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--run-dir", str(run_dir), *TINY]) == 0
    (run_dir / "summary.json").unlink()  # as if killed during the final evaluation
    code, out, err = run_cli(capsys, "train", "--resume", run_dir)
    assert code == 0, err
    assert "finishing" in out and json.loads((run_dir / "summary.json").read_text())["total_steps"] == 300
    code, out, _ = run_cli(capsys, "train", "--resume", run_dir)
    assert code == 0 and "nothing to do" in out


def test_train_follows_the_load_unless_threads_are_given(tmp_path, capsys, monkeypatch):
    import actorcritic.cli as cli

    made = []

    class Recording(cli.AutoThreads):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(cli, "AutoThreads", Recording)
    torch.set_num_threads(3)  # whatever the process had before: the command sets its own
    flags = ("--total-steps", "60", "--learning-starts", "50", "--eval-interval", "0", "--eval-episodes", "1",
             "--no-progress")  # fmt: skip
    code, _, _ = run_cli(capsys, "train", *flags, "--run-dir", tmp_path / "auto")
    assert code == 0 and len(made) == 1
    assert made[0].history[0] == (0.0, 1)  # auto (the default) starts on one thread, then follows the load
    code, _, _ = run_cli(capsys, "train", *flags, "--run-dir", tmp_path / "two", "--threads", "2")
    assert code == 0 and len(made) == 1 and torch.get_num_threads() == 2


def test_a_run_held_below_its_threads_says_so_after_its_result(tmp_path, capsys, monkeypatch):
    """Under --threads auto, the report's note on shared cores (AutoThreads.shared_cores_note, tested in
    tests/runtime/test_threads.py) comes right after the `done:` line; a fixed count has no governor."""
    from actorcritic.runtime.threads import AutoThreads

    note = "threads: other processes kept cores busy for 80% of this run's time, so ..."
    monkeypatch.setattr(AutoThreads, "shared_cores_note", lambda self: note)
    code, out, _ = run_cli(capsys, "train", "--run-dir", tmp_path / "auto", *TINY)
    lines = out.splitlines()
    assert code == 0 and lines[lines.index(note) - 1].startswith("done: 300 steps")
    code, out, _ = run_cli(capsys, "train", "--run-dir", tmp_path / "fixed", "--threads", "1", *TINY)
    assert code == 0 and note not in out
