"""pathutils: every path derives from the node's root and the install dirs."""

import os

from ganeti import _autoconf, pathutils


def test_paths_hang_off_the_root(tmp_path):
    paths = pathutils.for_root(str(tmp_path))
    data_dir = os.path.join(str(tmp_path), _autoconf.LOCALSTATEDIR.lstrip("/"), "lib/ganeti")
    assert paths.data_dir == data_dir
    assert paths.config_file == os.path.join(data_dir, "config.data")
    assert paths.ssconf_file("master_node") == os.path.join(data_dir, "ssconf_master_node")
    assert paths.server_cert_file == os.path.join(data_dir, "server.pem")
    assert paths.client_cert_file == os.path.join(data_dir, "client.pem")
    assert paths.rapi_cert_file == os.path.join(data_dir, "rapi.pem")
    assert paths.rapi_users_file == os.path.join(data_dir, "rapi", "users")
    assert paths.confd_hmac_key_file == os.path.join(data_dir, "confd.key")
    assert paths.queue_dir == os.path.join(data_dir, "queue")
    assert paths.master_socket.endswith("run/ganeti/socket/ganeti-query")
    assert paths.hooks_dir("instance-add", "pre").endswith("etc/ganeti/hooks/instance-add-pre.d")


def test_every_path_is_inside_the_root(tmp_path):
    root = str(tmp_path)
    paths = pathutils.for_root(root)
    for name in dir(pathutils.Paths):
        if name.startswith("_") or name == "root":
            continue
        value = getattr(paths, name)
        if callable(value):
            continue
        for path in value if isinstance(value, list) else [value]:
            assert path.startswith(root + os.sep), (name, path)


def test_archive_layout_groups_by_ten_thousand(tmp_path):
    paths = pathutils.for_root(str(tmp_path))
    assert paths.archived_job_file(123456).endswith("queue/archive/12/job-123456")
    assert paths.job_file(7).endswith("queue/job-7")


def test_os_search_path_includes_debian_dir_once(tmp_path):
    paths = pathutils.for_root(str(tmp_path))
    search = paths.os_search_path
    assert search[0] == os.path.join(str(tmp_path), "srv/ganeti/os")
    assert os.path.join(str(tmp_path), "usr/share/ganeti/os") in search
    assert len(search) == len(set(search))


def test_current_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    assert pathutils.current().root == str(tmp_path)
    monkeypatch.delenv(pathutils.ROOTDIR_ENV)
    assert pathutils.current().root == "/"
    assert pathutils.current().config_file == os.path.join(
        _autoconf.LOCALSTATEDIR, "lib/ganeti/config.data")


def test_daemon_files_follow_ganeti_naming(tmp_path):
    paths = pathutils.for_root(str(tmp_path))
    assert paths.daemon_log_file("ganeti-noded").endswith("log/ganeti/noded.log")
    assert paths.daemon_pid_file("ganeti-noded").endswith("run/ganeti/ganeti-noded.pid")
