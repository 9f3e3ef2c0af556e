"""A user's env that cannot be imported, is named wrongly, or returns what Gymnasium cannot use: one `error:`
line that names the env, the call and what was wrong, exit code 2, no traceback (sync and async envs)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from actorcritic.cli import main
from actorcritic.envs.make import make_vector_env, result_error
from actorcritic.errors import EnvError

TINY = ["--total-steps", "300", "--learning-starts", "100", "--batch-size", "32", "--hidden-sizes", "16",
        "--no-progress", "--threads", "1"]  # fmt: skip

# A well-formed env with a 3-float observation, and subclasses that each return something malformed.
ENVS = """
import gymnasium as gym
import numpy as np


class Good(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}

    def step(self, action):
        return np.zeros(3, np.float32), 0.0, False, False, {}


class ThreeValues(Good):
    def step(self, action):
        return np.zeros(3, np.float32), 0.0, False


class WrongShape(Good):
    def step(self, action):
        return np.zeros(4, np.float32), 0.0, False, False, {}


class StringReward(Good):
    def step(self, action):
        return np.zeros(3, np.float32), "high", False, False, {}


class ResetWithoutInfo(Good):
    def reset(self, *, seed=None, options=None):
        return np.zeros(3, np.float32)


class Raises(Good):
    def step(self, action):
        raise RuntimeError("kaboom")


class Exits(Good):
    def step(self, action):
        raise SystemExit(3)
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch, request):
    """Writes a module into tmp_path, importable under a name no other test uses; returns its name."""

    def write(source: str) -> str:
        name = "user_env_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        monkeypatch.syspath_prepend(str(tmp_path))
        request.addfinalizer(lambda: sys.modules.pop(name, None))
        return name

    return write


def train(capsys, tmp_path, env: str, *flags: str) -> tuple[int, str]:
    code = main(["train", "ddpg", "--env", env, "--run-dir", str(tmp_path / "run"), *TINY, *flags])
    return code, capsys.readouterr().err


def assert_one_error_line(code: int, err: str, *words: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_a_module_with_a_syntax_error_names_its_file_and_line(user_module, tmp_path, capsys):
    name = user_module("x = 1\ndef f(:\n    pass\n")
    code, err = train(capsys, tmp_path, f"{name}:Env")
    assert_one_error_line(code, err, f"module '{name}'", "SyntaxError", f"{tmp_path / name}.py", "line 2")


def test_a_module_that_raises_on_import_names_the_exception(user_module, tmp_path, capsys):
    name = user_module("raise RuntimeError('boom')\n")
    code, err = train(capsys, tmp_path, f"{name}:Env")
    line = assert_one_error_line(code, err, f"'{name}:Env'", f"module '{name}'", "RuntimeError", "boom")
    assert line == f"error: env '{name}:Env' raised RuntimeError while importing module '{name}': boom"


@pytest.mark.parametrize("spec", [":Env", "toy_envs:", ":", "toy_envs:ConstantRewardEnv:x", ".toy_envs:X", ":Pendulum-v1"])  # fmt: skip
def test_a_malformed_env_spec_is_one_error_line(spec, tmp_path, capsys):
    code, err = train(capsys, tmp_path, spec)
    assert_one_error_line(code, err, f"env '{spec}' is neither module.path:Class")


@pytest.mark.parametrize(
    ("cls", "call", "what"),
    [
        ("ThreeValues", "step", "not enough values to unpack (expected 5, got 3)"),
        ("WrongShape", "step", "ValueError"),
        ("StringReward", "step", "could not convert string to float: 'high'"),
        ("ResetWithoutInfo", "reset", "too many values to unpack (expected 2)"),
    ],
)
def test_a_malformed_result_is_one_env_error_line(cls, call, what, user_module, tmp_path, capsys):
    name = user_module(ENVS)
    code, err = train(capsys, tmp_path, f"{name}:{cls}")
    assert_one_error_line(
        code, err, f"env '{name}:{cls}' returned a malformed result from {call}: ", what, f"{call} must return (obs, "
    )
    assert "Box(-1.0, 1.0, (3,), float32)" in err  # the space the observation must be in


def test_an_async_env_error_is_one_line_without_the_workers_log(user_module, tmp_path):
    """Run as the program: Gymnasium logs a failing worker's traceback on stderr, which pytest would catch."""
    name = user_module(ENVS)
    exe = Path(sys.executable).with_name("actorcritic")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "actorcritic"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "OMP_NUM_THREADS": "1"}
    for cls, expected in [
        ("Raises", f"error: env '{name}:Raises' raised RuntimeError in step: kaboom"),
        ("WrongShape", f"error: env '{name}:WrongShape' returned a malformed result from step: ValueError: could "
                       "not broadcast input array from shape (4,) into shape (3,); step must return"),
    ]:  # fmt: skip
        proc = subprocess.run(
            [*cmd, "train", "ddpg", "--env", f"{name}:{cls}", "--run-dir", f"run_{cls}", "--vectorization", "async",
             "--num-envs", "2", *TINY],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr


def test_only_the_envs_results_are_blamed_on_the_env():
    """An error the library causes (actions of the wrong shape) or Gymnasium's misuse error stays as it is."""
    envs = make_vector_env("Pendulum-v1", 2)
    try:
        envs.reset(seed=[0, 1])
        bad_actions = np.zeros((3, 1), np.float32)  # three envs' actions for two envs
        with pytest.raises(ValueError) as raised:
            envs.step(bad_actions)
        assert result_error(envs, "Pendulum-v1", "step", raised.value, bad_actions) is None
        assert result_error(envs, "Pendulum-v1", "reset", gym.error.ClosedEnvironmentError("closed")) is None
        assert result_error(envs, "Pendulum-v1", "reset", EOFError()) is None  # a worker died: not a bad result
        error = result_error(envs, "Pendulum-v1", "step", ValueError("bad"), np.zeros((2, 1), np.float32))
        assert isinstance(error, EnvError)
        assert str(error).startswith("env 'Pendulum-v1' returned a malformed result from step: ValueError: bad; ")
    finally:
        envs.close()


def test_an_env_that_calls_sys_exit_is_one_error_line(user_module, tmp_path, capsys):
    """Not the program's silent end with the env's exit code."""
    name = user_module(ENVS)
    code, err = train(capsys, tmp_path, f"{name}:Exits")
    assert_one_error_line(code, err, f"env '{name}:Exits' called sys.exit(3) in step")
