"""Bad input never reaches a traceback: generated bad values for every config field and CLI flag give one
``error:`` line, exit code 2, and nothing written. The fields come from the config dataclasses, so a new
field is fuzzed as soon as it exists."""

import contextlib
import dataclasses
import io
import os
import tempfile
import typing
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actorcritic.agents import ALGOS
from actorcritic.backends.ray.config import RayConfig
from actorcritic.cli import OffPolicyTrainArgs, SweepArgs, TrainArgs, TuneArgs, main

# Values no field of a type accepts.
BAD_FLOAT = ["nan", "inf", "-inf", "1e999", "abc", "0x1p"]
BAD_INT = ["abc", "1.5", "nan", "1e999", "--"]
BAD_BY_NAME = {  # values out of range for fields with a range, and bad strings and paths
    "gamma": ["1.5", "-0.1"], "tau": ["0", "1.5"], "gae_lambda": ["1.5"], "batch_size": ["0", "-3"],
    "buffer_size": ["0"], "total_steps": ["-5"], "learning_starts": ["-1"], "actor_lr": ["0", "-1e-3"],
    "critic_lr": ["0"], "learning_rate": ["-1"], "alpha_lr": ["0"], "num_envs": ["0"], "eval_episodes": ["0"],
    "log_interval": ["0"], "eval_interval": ["-1"], "seeds": ["0"], "threads": ["0", "-2"], "hidden_sizes": ["0"],
    "n_step": ["0"], "policy_delay": ["0"], "target_update_period": ["0"], "noise_sigma": ["-0.1"],
    "train_freq": ["0"], "gradient_steps": ["-1"], "trials": ["0"], "workers": ["0"], "num_workers": ["0"],
    "env": ["NoSuchEnv-v0", "nosuchmodule:Env"], "device": ["mps", "gpu", "cuda:x"], "env_kwargs": ["g", "=1"],
    "run_dir": ["/proc/x/run"], "config": ["/nonexistent/config.yaml"], "sweep_dir": ["/proc/x"],
    "tune_dir": ["/proc/x"], "grid": ["tau", "nosuchfield=1,2"], "settings": ["tau", "nosuchfield=1"],
    "ray_address": ["auto"],  # without --backend ray
}  # fmt: skip
SKIP = {"algo_config", "ray"}  # the nested configs themselves: their fields are fuzzed


def bad_values(name: str, hint: object) -> list[str]:
    text = str(hint)
    values = list(BAD_BY_NAME.get(name, []))
    if "Literal" in text:
        values.append("bogus")
    elif "float" in text:
        values += BAD_FLOAT
    elif "tuple[int" in text:
        values += ["abc", "1.5"]
    elif "int" in text:
        values += BAD_INT
    elif "bool" in text:
        values.append("maybe")
    return values


def flag(name: str) -> str:
    return {"settings": "--set"}.get(name, "--" + name.replace("_", "-"))


def cases() -> list[tuple[list[str], str, str]]:
    """(command, flag, bad value) for every field of every command's settings."""
    out = []
    for algo, cls in ALGOS.items():
        off_policy = cls.spec.off_policy
        for fields_of in [cls.config_cls, OffPolicyTrainArgs if off_policy else TrainArgs] + [RayConfig] * off_policy:
            hints = typing.get_type_hints(fields_of)
            for f in dataclasses.fields(fields_of):
                if f.name not in SKIP:
                    out += [(["train", algo], flag(f.name), v) for v in bad_values(f.name, hints[f.name])]
    for command, fields_of in (("sweep", SweepArgs), ("tune", TuneArgs)):
        hints = typing.get_type_hints(fields_of)
        for f in dataclasses.fields(fields_of):
            out += [([command, "ddpg"], flag(f.name), v) for v in bad_values(f.name, hints[f.name])]
    return out


CASES = cases()
SHORT = {"train": ["--total-steps", "20", "--learning-starts", "10", "--eval-episodes", "1", "--no-progress"],
         "sweep": ["--total-steps", "20", "--seeds", "1", "--no-progress"], "tune": ["--total-steps", "20", "--trials", "1"]}  # fmt: skip


def test_every_field_has_bad_values():
    fuzzed = {f for _, f, _ in CASES}
    for algo, cls in ALGOS.items():
        for f in dataclasses.fields(cls.config_cls):
            hint = typing.get_type_hints(cls.config_cls)[f.name]
            assert flag(f.name) in fuzzed or "str" in str(hint), (algo, f.name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES))
def test_bad_input_gives_one_error_line_and_writes_nothing(case):
    command, name, value = case
    base = [a for i, a in enumerate(SHORT[command[0]]) if name not in SHORT[command[0]][max(0, i - 1) : i + 1]]
    args = [*command, *base, name, value]
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(args)
        finally:
            os.chdir(cwd)
        written = sorted(str(p.relative_to(tmp)) for p in Path(tmp).rglob("*"))
    lines = err.getvalue().strip().splitlines()
    assert code == 2, (args, code, err.getvalue()[-500:])
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err.getvalue(), (args, lines)
    assert not written, (args, written)
