"""core/files.py: the one atomic writer. A failed write leaves the old file and no temp file; the result
has the mode open() would give it; the write-new variant never replaces a file."""

import json
import os
import stat
from pathlib import Path

import pytest

from actorcritic.core.files import (
    atomic_path,
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    refuse_existing,
    write_new_file,
)
from actorcritic.errors import UserError


class Boom(Exception):
    pass


def test_writes_text_json_and_bytes_and_creates_parents(tmp_path):
    assert atomic_write_text(tmp_path / "a" / "b.txt", "hi\n") == tmp_path / "a" / "b.txt"
    assert (tmp_path / "a" / "b.txt").read_text() == "hi\n"
    atomic_write_json(tmp_path / "c.json", {"x": [1, 2]})
    assert json.loads((tmp_path / "c.json").read_text()) == {"x": [1, 2]}
    atomic_write(tmp_path / "d.bin", lambda f: f.write(b"\x00\x01"), mode="wb")
    assert (tmp_path / "d.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c.json", "d.bin"]


@pytest.mark.parametrize("error", [Boom("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, error):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def torn(f):
        f.write("half of the new")
        f.flush()
        raise error

    with pytest.raises(type(error)):
        atomic_write(path, torn)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(Boom), atomic_path(tmp_path / "f.png", ".tmp.png") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp.png") and tmp.exists()
        raise Boom
    assert os.listdir(tmp_path) == []


def test_a_failed_first_write_removes_the_folders_it_made_and_no_others(tmp_path):
    """A video of an env that cannot render, say, leaves no empty videos/ folder in the run directory."""
    (tmp_path / "run").mkdir()
    with pytest.raises(Boom), atomic_path(tmp_path / "run" / "videos" / "day" / "v.gif"):
        raise Boom
    assert os.listdir(tmp_path) == ["run"] and os.listdir(tmp_path / "run") == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("new", [False, True])
def test_mode_honours_the_umask_like_open(tmp_path, umask, mode, new):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "f.txt", "x", new=new)
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode


def test_write_new_refuses_an_existing_file_and_keeps_it(tmp_path):
    path = tmp_path / "policy.pt"
    path.write_text("keep me")
    calls = []
    with pytest.raises(UserError, match="already exists"):
        write_new_file(path, calls.append)
    with pytest.raises(UserError, match="already exists"):
        atomic_write_text(path, "new", new=True)
    with pytest.raises(UserError, match="already exists"):
        refuse_existing(path)
    assert calls == [] and path.read_text() == "keep me" and os.listdir(tmp_path) == ["policy.pt"]


def test_write_new_refuses_a_file_created_while_it_wrote(tmp_path):
    path = tmp_path / "video.mp4"

    def write(tmp):
        assert tmp.endswith(".tmp.mp4")  # writers that choose the format by suffix see the real one
        path.write_text("someone else's")
        with open(tmp, "w") as f:
            f.write("ours")

    with pytest.raises(UserError, match="already exists"):
        write_new_file(path, write, tmp_suffix=".tmp.mp4")
    assert path.read_text() == "someone else's" and os.listdir(tmp_path) == ["video.mp4"]


def test_write_new_creates_a_file(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    assert write_new_file(path, lambda tmp: Path(tmp).write_bytes(b"data")) == path
    assert path.read_bytes() == b"data" and os.listdir(path.parent) == ["out.bin"]


def test_replacing_keeps_one_file(tmp_path):
    for i in range(3):
        atomic_write_json(tmp_path / "s.json", {"i": i})
    assert json.loads((tmp_path / "s.json").read_text()) == {"i": 2} and os.listdir(tmp_path) == ["s.json"]
