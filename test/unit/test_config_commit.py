"""Group commit of config.data and the save hooks after the lock is let go."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import pytest

from ganeti import config_commit
from ganeti.config import ConfigWriter
from ganeti.config_commit import ConfigWriteError
from ganeti.objects import NodeGroup

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
GANETI_30 = os.path.join(DATA_DIR, "ganeti-3.0-config.data")


@pytest.fixture
def path(tmp_path: object) -> str:
    target = os.path.join(str(tmp_path), "config.data")
    shutil.copy(GANETI_30, target)
    return target


@pytest.fixture
def writer(path: str) -> ConfigWriter:
    return ConfigWriter(path)


def _on_disk(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _slow_writes(monkeypatch: pytest.MonkeyPatch, delay: float) -> list[int]:
    """Make config.data writes take ``delay`` seconds; returns the serials written."""
    real = config_commit.io.write_file_atomic
    written: list[int] = []

    def slow(path: str, data: bytes, **kwargs: object) -> None:
        time.sleep(delay)
        real(path, data, **kwargs)  # type: ignore[arg-type]
        written.append(json.loads(data)["serial_no"])

    monkeypatch.setattr(config_commit.io, "write_file_atomic", slow)
    return written


def test_a_change_is_on_disk_when_the_mutator_returns(path: str, writer: ConfigWriter) -> None:
    writer.add_nodegroup(NodeGroup(name="rack2"))
    data = _on_disk(path)
    assert data["serial_no"] == writer.get_config_serial()
    assert "rack2" in {group["name"] for group in data["nodegroups"].values()}


def test_concurrent_saves_share_writes_and_all_are_durable(
        monkeypatch: pytest.MonkeyPatch, path: str, writer: ConfigWriter) -> None:
    written = _slow_writes(monkeypatch, 0.2)
    count = 8
    start = threading.Barrier(count)
    returned: dict[str, int] = {}
    failures: list[BaseException] = []

    def add(index: int) -> None:
        name = "group%d" % index
        start.wait()
        try:
            writer.add_nodegroup(NodeGroup(name=name))
            # What this thread saved is on disk when add_nodegroup returns.
            on_disk = _on_disk(path)
            assert name in {g["name"] for g in on_disk["nodegroups"].values()}
            returned[name] = on_disk["serial_no"]
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    assert len(returned) == count
    final = _on_disk(path)
    assert final["serial_no"] == writer.get_config_serial()
    assert {"group%d" % i for i in range(count)} <= {
        g["name"] for g in final["nodegroups"].values()}
    # One write covers the saves that arrived while the previous one ran.
    assert len(written) < count
    assert written == sorted(written)


def test_a_failed_write_drops_the_change_and_reports_it(
        monkeypatch: pytest.MonkeyPatch, path: str, writer: ConfigWriter) -> None:
    before = _on_disk(path)
    serial = writer.get_config_serial()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_commit.io, "write_file_atomic", broken)
    with pytest.raises(ConfigWriteError, match=r"No space left on device.*not saved"):
        writer.add_nodegroup(NodeGroup(name="rack2"))
    # Memory is back to what the disk holds; the file is untouched.
    assert writer.find_nodegroup("rack2") is None
    assert writer.get_config_serial() == serial
    assert _on_disk(path) == before
    monkeypatch.undo()
    writer.add_nodegroup(NodeGroup(name="rack3"))
    assert writer.find_nodegroup("rack3") is not None
    assert "rack3" in {g["name"] for g in _on_disk(path)["nodegroups"].values()}


def test_save_hooks_run_after_the_lock_is_let_go(writer: ConfigWriter) -> None:
    seen: list[bool] = []

    def hook(w: ConfigWriter) -> None:
        # Another thread can read the configuration while the hook runs.
        reader = threading.Thread(target=w.get_all_instances_info)
        reader.start()
        reader.join(5)
        seen.append(not reader.is_alive())

    writer.add_save_hook(hook)
    writer.add_nodegroup(NodeGroup(name="rack2"))
    assert seen == [True]


def test_saves_under_one_hold_of_the_lock_run_the_hooks_once(writer: ConfigWriter) -> None:
    serials: list[int] = []
    writer.add_save_hook(lambda w: serials.append(w.get_config_serial()))
    with writer.locked():
        writer.add_nodegroup(NodeGroup(name="rack2"))
        writer.add_nodegroup(NodeGroup(name="rack3"))
        assert serials == []
    assert serials == [writer.get_config_serial()]
