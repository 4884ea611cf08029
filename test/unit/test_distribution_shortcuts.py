"""The cheap paths of a configuration change's distribution.

ssconf files left alone when unchanged, several job queue files written with
one sync (``jobqueue_update_many``), and hooks_runner answered without a
child process when the hook point has no scripts.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from test_ssconf import sample_values

from ganeti import constants, errors, pathutils, ssconf
from ganeti.backend import hooks, jobqueue
from ganeti.rpc import encoding, table
from ganeti.utils import io


@pytest.fixture
def paths(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> pathutils.Paths:
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    return pathutils.current()


def test_unchanged_ssconf_files_are_not_rewritten(paths: pathutils.Paths) -> None:
    values = sample_values()
    ssconf.write_files(values, paths)
    inodes = {key: os.stat(paths.ssconf_file(key)).st_ino for key in values}
    changed = dict(values)
    changed[ssconf.KEY_INSTANCE_LIST] = "new1.example.com\nnew2.example.com"
    ssconf.write_files(changed, paths)
    after = {key: os.stat(paths.ssconf_file(key)).st_ino for key in values}
    assert [key for key in values if after[key] != inodes[key]] == [ssconf.KEY_INSTANCE_LIST]
    assert ssconf.SimpleStore(paths).read_value(ssconf.KEY_INSTANCE_LIST) == \
        "new1.example.com\nnew2.example.com"


def test_ssconf_file_with_other_content_or_mode_is_rewritten(paths: pathutils.Paths) -> None:
    values = sample_values()
    ssconf.write_files(values, paths)
    name_file = paths.ssconf_file(ssconf.KEY_CLUSTER_NAME)
    tags_file = paths.ssconf_file(ssconf.KEY_CLUSTER_TAGS)
    os.chmod(name_file, 0o644)
    os.chmod(tags_file, 0o644)
    with open(tags_file, "w", encoding="utf-8") as handle:
        handle.write("edited by hand\n")
    os.chmod(tags_file, ssconf.FILE_MODE)
    ssconf.write_files(values, paths)
    assert os.stat(name_file).st_mode & 0o777 == ssconf.FILE_MODE
    store = ssconf.SimpleStore(paths)
    assert store.read_value(ssconf.KEY_CLUSTER_TAGS) == "tag-a\ntag-b"


def test_write_files_atomic_replaces_every_file(tmp_path: Any) -> None:
    first, second = os.path.join(str(tmp_path), "a"), os.path.join(str(tmp_path), "b")
    with open(first, "wb") as handle:
        handle.write(b"old")
    io.write_files_atomic([(first, b"one"), (second, b"two")], mode=0o640)
    for target, content in ((first, b"one"), (second, b"two")):
        with open(target, "rb") as handle:
            assert handle.read() == content
        assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(str(tmp_path))) == ["a", "b"]  # no temporary files left


def test_write_files_atomic_failure_leaves_no_temporary_files(tmp_path: Any) -> None:
    good = os.path.join(str(tmp_path), "good")
    missing_dir = os.path.join(str(tmp_path), "nowhere", "bad")
    with pytest.raises(OSError):
        io.write_files_atomic([(good, b"one"), (missing_dir, b"two")])
    assert os.listdir(str(tmp_path)) == []


def test_jobqueue_update_many_writes_every_file(paths: pathutils.Paths) -> None:
    jobqueue.jobqueue_update_many([["job-1", encoding.encode(b"first")],
                                   ["serial", encoding.encode("1\n")],
                                   ["job-1", encoding.encode(b"second")]])
    with open(os.path.join(paths.queue_dir, "job-1"), "rb") as handle:
        assert handle.read() == b"second"  # a name given twice: the last content
    with open(paths.queue_serial_file, "rb") as handle:
        assert handle.read() == b"1\n"
    assert os.stat(os.path.join(paths.queue_dir, "job-1")).st_mode & 0o777 == \
        jobqueue.QUEUE_FILE_MODE


def test_jobqueue_update_many_checks_every_name_first(paths: pathutils.Paths) -> None:
    with pytest.raises(errors.OpExecError, match=r"'\.\./escape'"):
        jobqueue.jobqueue_update_many([["job-1", encoding.encode(b"x")],
                                       ["../escape", encoding.encode(b"y")]])
    assert not os.path.exists(os.path.join(paths.queue_dir, "job-1"))


def test_hooks_shortcut_answers_only_when_nothing_would_run(paths: pathutils.Paths) -> None:
    env = {"GANETI_HOOKS_VERSION": str(constants.HOOKS_VERSION)}
    assert hooks.hooks_runner_shortcut("instance-add", "pre", env) == []  # no directory
    directory = paths.hooks_dir("instance-add", "pre")
    os.makedirs(directory)
    assert hooks.hooks_runner_shortcut("instance-add", "pre", env) == []  # empty
    assert hooks.hooks_runner("instance-add", "pre", env) == []
    # Any entry, even one hooks_runner would skip, is left to hooks_runner.
    with open(os.path.join(directory, "README.txt"), "w", encoding="utf-8") as handle:
        handle.write("not a script\n")
    assert hooks.hooks_runner_shortcut("instance-add", "pre", env) is None
    assert hooks.hooks_runner("instance-add", "pre", env) == [
        ("README.txt", constants.HKR_SKIP, "")]


def test_hooks_runner_declares_its_shortcut() -> None:
    proc = table.get("hooks_runner")
    assert proc.shortcut_function() is hooks.hooks_runner_shortcut
    assert table.get("version").shortcut_function() is None
