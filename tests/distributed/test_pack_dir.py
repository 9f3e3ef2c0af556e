"""Run directories travel between Ray nodes as tar archives; unpacking never writes outside its target."""

import io
import tarfile

import pytest

from actorcritic.backends.ray.pool import pack_dir, unpack_dir


@pytest.mark.parametrize("filters", [True, False])  # False: Python 3.11 before 3.11.4, no tarfile filters
def test_unpack_dir_round_trips_and_refuses_entries_outside_its_target(tmp_path, monkeypatch, filters):
    if not filters:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    src = tmp_path / "run"
    (src / "checkpoints").mkdir(parents=True)
    (src / "checkpoints" / "latest.pt").write_bytes(b"weights")
    out = unpack_dir(pack_dir(src), tmp_path / "back")
    assert (out / "checkpoints" / "latest.pt").read_bytes() == b"weights"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(Exception):  # noqa: B017 - tarfile's filter error or ours
        unpack_dir(buffer.getvalue(), tmp_path / "evil" / "dest")
    assert not (tmp_path / "evil" / "escaped").exists()
