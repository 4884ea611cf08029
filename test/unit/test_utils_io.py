"""utils.io: atomic replacement leaves the old or the new file."""

import os
import stat

import pytest

from ganeti.utils import io


def test_write_file_atomic_replaces_and_sets_mode(tmp_path):
    target = tmp_path / "f"
    target.write_text("old")
    io.write_file_atomic(str(target), "new", mode=0o600)
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["f"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "f"
    target.write_text("old")

    def failing_write(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(OSError):
        io.write_file_atomic(str(target), "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f"]


def test_ensure_dirs(tmp_path):
    path = tmp_path / "a" / "b"
    io.ensure_dirs([(str(path), 0o750)])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o750
