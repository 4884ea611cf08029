"""Node-side backend functions run directly against a temporary node root."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from ganeti import constants, errors, pathutils, ssconf
from ganeti.backend import files, hooks, jobqueue, node
from ganeti.rpc import encoding


@pytest.fixture
def paths(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> pathutils.Paths:
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    return pathutils.current()


def test_node_path_maps_cluster_paths_under_the_root(paths: pathutils.Paths) -> None:
    assert files.node_path("/var/lib/ganeti/config.data") == paths.config_file
    assert files.node_path("/../../etc/passwd") == os.path.join(paths.root, "etc/passwd")
    with pytest.raises(errors.ProgrammerError, match="not absolute"):
        files.node_path("relative/path")


def test_allow_list_includes_fixed_and_extra_files(paths: pathutils.Paths) -> None:
    allowed = files.upload_allow_list()
    for path in (paths.config_file, paths.rapi_cert_file, paths.rapi_users_file,
                 paths.known_hosts_file, paths.confd_hmac_key_file):
        assert path in allowed
    assert paths.server_cert_file not in allowed
    assert os.path.join(paths.root, "etc/extra.conf") not in allowed
    ssconf.write_files({ssconf.KEY_REDISTRIBUTE_FILES: "all /etc/extra.conf"}, paths)
    assert os.path.join(paths.root, "etc/extra.conf") in files.upload_allow_list()


def test_upload_extra_file(paths: pathutils.Paths) -> None:
    ssconf.write_files({ssconf.KEY_REDISTRIBUTE_FILES:
                        "master-candidates /etc/ganeti/extra.conf"}, paths)
    files.upload_file("/etc/ganeti/extra.conf", encoding.encode("k=v\n"), 0o600, 0, 0,
                      time.time(), 1000.0)
    target = os.path.join(paths.root, "etc/ganeti/extra.conf")
    with open(target) as handle:
        assert handle.read() == "k=v\n"
    assert os.stat(target).st_mtime == 1000.0


def test_upload_refuses_and_writes_nothing(paths: pathutils.Paths) -> None:
    with pytest.raises(errors.OpExecError, match="not on this node's upload allow-list"):
        files.upload_file("/var/lib/ganeti/server.pem", encoding.encode("x"), 0o600, 0, 0,
                          0, 0)
    assert not os.path.exists(paths.server_cert_file)
    with pytest.raises(errors.TypeEnforcementError):
        files.upload_file("/var/lib/ganeti/config.data", [1, "%%%"], 0o600, 0, 0, 0, 0)
    assert not os.path.exists(paths.config_file)


@pytest.mark.parametrize("name", ["../x", "/abs/job-1", "archive/../../x", ".tmp", "a//b",
                                  "", "archive/.."])
def test_queue_names_escaping_the_queue_are_refused(paths: pathutils.Paths,
                                                    name: str) -> None:
    with pytest.raises(errors.OpExecError, match="Job queue file name"):
        jobqueue.jobqueue_update(name, encoding.encode("x"))
    assert not os.path.exists(paths.queue_dir) or os.listdir(paths.queue_dir) == []


def test_queue_rename_checks_all_names_first(paths: pathutils.Paths) -> None:
    jobqueue.jobqueue_update("job-1", encoding.encode("one"))
    with pytest.raises(errors.OpExecError):
        jobqueue.jobqueue_rename([["job-1", "job-2"], ["job-3", "../../escape"]])
    assert os.path.exists(paths.job_file(1)) and not os.path.exists(paths.job_file(2))
    jobqueue.jobqueue_rename([["job-1", "archive/0/job-1"]])
    assert os.path.exists(paths.archived_job_file(1))


def test_drain_flag(paths: pathutils.Paths) -> None:
    jobqueue.jobqueue_set_drain_flag(True)
    assert os.path.exists(paths.queue_drain_file)
    jobqueue.jobqueue_set_drain_flag(False)
    jobqueue.jobqueue_set_drain_flag(False)
    assert not os.path.exists(paths.queue_drain_file)


def test_hook_script_timeout_kills_it(tmp_path: Any) -> None:
    directory = str(tmp_path / "hooks")
    os.makedirs(directory)
    script = os.path.join(directory, "10-slow")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\necho started\nsleep 30 &\nwait\n")
    os.chmod(script, 0o755)
    started = time.monotonic()
    results = hooks.run_parts(directory, {}, timeout=0.5)
    assert time.monotonic() - started < 10
    assert len(results) == 1
    name, status, output = results[0]
    assert (name, status) == ("10-slow", constants.HKR_FAIL)
    assert "started" in output and "timed out after 0.5 seconds" in output


def test_hook_killed_by_signal_is_a_failure(tmp_path: Any) -> None:
    directory = str(tmp_path / "hooks")
    os.makedirs(directory)
    script = os.path.join(directory, "killed")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\nkill -9 $$\n")
    os.chmod(script, 0o755)
    [(_, status, output)] = hooks.run_parts(directory, {})
    assert status == constants.HKR_FAIL and "killed by signal 9" in output


def test_node_verify_without_checks_returns_nothing() -> None:
    assert node.node_verify({}, "cluster", {}) == {}


def test_master_node_name_reads_ssconf(paths: pathutils.Paths) -> None:
    with pytest.raises(errors.SsconfError, match="ssconf_master_node"):
        node.master_node_name()
    ssconf.write_files({ssconf.KEY_MASTER_NODE: "node7"}, paths)
    assert node.master_node_name() == "node7"


def test_leave_cluster_only_touches_cluster_files(paths: pathutils.Paths) -> None:
    ssconf.write_files({ssconf.KEY_MASTER_NODE: "node1"}, paths)
    os.makedirs(os.path.dirname(paths.archived_job_file(1)))
    os.makedirs(paths.rapi_data_dir)
    for path in (paths.config_file, paths.job_file(1), paths.archived_job_file(1),
                 paths.rapi_users_file):
        with open(path, "w") as handle:
            handle.write("x")
    outside = os.path.join(paths.root, "etc/keep-me")
    os.makedirs(os.path.dirname(outside))
    with open(outside, "w") as handle:
        handle.write("x")
    with pytest.raises(errors.QuitGanetiException):
        node.node_leave_cluster(False)
    assert os.path.exists(outside)
    assert os.listdir(paths.queue_dir) == []
    assert not os.path.exists(paths.config_file)
    assert not os.path.exists(paths.rapi_users_file)
    assert not os.path.exists(paths.ssconf_file(ssconf.KEY_MASTER_NODE))
