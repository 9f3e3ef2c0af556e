"""Checkpoints (train/checkpoint.py): atomic writes, safe loading, run-directory resolution."""

from __future__ import annotations

import io
import os
import pickle
import random
import shlex

import pytest
import torch

from actorcritic.errors import UserError
from actorcritic.runtime import checkpoint as ckpt
from actorcritic.runtime.checkpoint import (
    BEST,
    LATEST,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
)


def state(version: int) -> dict:
    g = torch.Generator().manual_seed(version)
    return {
        "algo": "ddpg",
        "format": 1,
        "version": version,
        "modules": {"actor": {"w": torch.randn(4, 3, generator=g), "b": torch.zeros(4)}},
        "counters": {"global_step": 10 * version, "returns": [1.5, -2.0], "best": None},
        "generator": g.get_state(),
    }


def assert_state_equal(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    assert got["version"] == want["version"] and got["counters"] == want["counters"]
    for k, v in want["modules"]["actor"].items():
        assert torch.equal(got["modules"]["actor"][k], v)
    assert torch.equal(got["generator"], want["generator"])


# --------------------------------------------------------------------------- save / load


def test_save_then_load_round_trips_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "run" / "checkpoints" / LATEST  # parent directories are created
    assert save_checkpoint(state(1), path) == path
    assert_state_equal(load_checkpoint(path), state(1))
    save_checkpoint(state(2), path)  # overwrite
    assert_state_equal(load_checkpoint(path), state(2))
    assert os.listdir(path.parent) == [LATEST]


class DiskFull(Exception):
    pass


@pytest.mark.parametrize("error", [DiskFull("disk full"), KeyboardInterrupt()])
def test_save_is_atomic_when_writing_fails_midway(tmp_path, monkeypatch, error):
    path = tmp_path / LATEST
    save_checkpoint(state(1), path)
    good_bytes = path.read_bytes()
    real_save = torch.save

    def torn_save(obj, f, *args, **kwargs):
        buf = io.BytesIO()
        real_save(obj, buf)
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])  # a partial file ...
        f.flush()
        raise error  # ... then the process is interrupted

    monkeypatch.setattr(ckpt.torch, "save", torn_save)
    with pytest.raises(type(error)):
        save_checkpoint(state(2), path)
    monkeypatch.undo()
    assert path.read_bytes() == good_bytes
    assert_state_equal(load_checkpoint(path), state(1))
    assert os.listdir(tmp_path) == [LATEST]  # the temp file is gone


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04partial")
        raise OSError("no space left on device")

    monkeypatch.setattr(ckpt.torch, "save", failing_save)
    with pytest.raises(OSError):
        save_checkpoint(state(1), tmp_path / "ck" / BEST)
    assert os.listdir(tmp_path) == []  # not even the folder it made for the checkpoint


def test_truncated_checkpoint_is_a_user_error(tmp_path):
    """What a non-atomic writer would leave behind after a crash."""
    good = tmp_path / "good.pt"
    save_checkpoint(state(3), good)
    data = good.read_bytes()
    for i, cut in enumerate([0, 10, len(data) // 2, len(data) - 1]):
        torn = tmp_path / f"torn{i}.pt"
        torn.write_bytes(data[:cut])
        with pytest.raises(UserError, match="corrupt or not a checkpoint"):
            load_checkpoint(torn)


@pytest.mark.parametrize(
    "content",
    [
        b"not a checkpoint",
        b"<html><body>404</body></html>",
        b'{"algo": "ddpg", "format": 1}',
        b"\x00" * 64,
        bytes(random.Random(0).randrange(256) for _ in range(4096)),
        pickle.dumps([1, 2, 3]),
        b"hello world",  # torch.load raises KeyError on this one
        b"algo = 'ddpg'\n",  # a TOML config passed by mistake: IndexError
        b"J\x00",  # struct.error
    ],
    ids=[
        "text",
        "html",
        "json",
        "zeros",
        "random",
        "plain-pickle",
        "hello-KeyError",
        "toml-IndexError",
        "struct-error",
    ],
)
def test_garbage_file_is_a_user_error(tmp_path, content):
    path = tmp_path / "garbage.pt"
    path.write_bytes(content)
    with pytest.raises(UserError):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "obj",
    [{"foo": torch.zeros(2)}, {"algo": "ddpg"}, {"format": 1}, [1, 2, 3], torch.zeros(3)],
    ids=["no-keys", "no-format", "no-algo", "list", "tensor"],
)
def test_torch_file_that_is_not_an_actorcritic_checkpoint(tmp_path, obj):
    path = tmp_path / "other.pt"
    torch.save(obj, path)
    with pytest.raises(UserError, match="not an actorcritic checkpoint"):
        load_checkpoint(path)


class Custom:
    """An arbitrary class: unpickling it needs an import, which a safe loader refuses."""

    loaded = False

    def __init__(self):
        self.x = 1

    def __setstate__(self, st):
        Custom.loaded = True
        self.__dict__.update(st)


class Payload:
    """Unpickling runs os.system: the classic malicious checkpoint."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def test_payload_control_would_run_if_unpickled_unsafely(tmp_path):
    """Control: the payload used below really does create the marker when unpickled naively."""
    marker = tmp_path / "pwned_control"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def test_checkpoint_with_arbitrary_object_is_refused(tmp_path):
    Custom.loaded = False
    path = tmp_path / "custom.pt"
    torch.save({"algo": "ddpg", "format": 1, "obj": Custom()}, path)
    with pytest.raises(UserError):
        load_checkpoint(path)
    assert not Custom.loaded


@pytest.mark.parametrize("container", ["torch-zip", "torch-legacy", "raw-pickle"])
def test_malicious_pickle_is_refused_and_not_executed(tmp_path, container):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    evil = {"algo": "ddpg", "format": 1, "payload": Payload(marker)}
    if container == "torch-zip":
        torch.save(evil, path)
    elif container == "torch-legacy":
        torch.save(evil, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(evil))
    with pytest.raises(UserError):
        load_checkpoint(path)
    assert not marker.exists()


# --------------------------------------------------------------------------- resolve_checkpoint


def test_resolve_run_directory_and_file(tmp_path):
    run = tmp_path / "run"
    latest = save_checkpoint(state(1), run / "checkpoints" / LATEST)
    best = save_checkpoint(state(2), run / "checkpoints" / BEST)
    assert resolve_checkpoint(run) == latest
    assert resolve_checkpoint(run, BEST) == best
    assert resolve_checkpoint(latest) == latest  # a file is used as is
    assert_state_equal(load_checkpoint(run), state(1))
    assert_state_equal(load_checkpoint(run, BEST), state(2))


def test_resolve_errors(tmp_path):
    with pytest.raises(UserError, match="no such run directory"):
        resolve_checkpoint(tmp_path / "missing")
    with pytest.raises(UserError):
        load_checkpoint(tmp_path / "missing.pt")
    empty_run = tmp_path / "empty"
    empty_run.mkdir()
    with pytest.raises(UserError, match="run directory"):
        resolve_checkpoint(empty_run)
    run = tmp_path / "run"
    save_checkpoint(state(1), run / "checkpoints" / LATEST)
    with pytest.raises(UserError):
        resolve_checkpoint(run, BEST)  # only latest exists
