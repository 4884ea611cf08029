"""Debian's ganeti-instance-debootstrap, unchanged, installs a real Debian onto a file disk.

Slow group: the install downloads and unpacks a minimal Debian (debootstrap's
``minbase``) from the Debian mirror, which takes a minute or more. The OS
definition is the package's own, byte for byte; the test publishes one variant
for it, the way an administrator does: a name in the node's ``variants.list``
and a ``<variant>.conf`` in the package's variants directory, which selects the
unpartitioned layout, the suite, the mirror and a per-run tarball cache.

The package's default variant uses the partitioned (msdos) layout, which needs
kpartx and so device-mapper; where the kernel lacks it, the install must fail
with the script's own error and leave no instance and no disk behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest
from instance_cluster import Gnt
from local_cluster_fixture import reserve_addresses

from ganeti import constants
from ganeti.tools.local_cluster import LocalCluster

pytestmark = pytest.mark.slow

#: Where Debian's package puts the OS definition and its configuration.
DEBOOTSTRAP_OS_DIR = "/usr/share/ganeti/os/debootstrap"
VARIANTS_DIR = "/etc/ganeti/instance-debootstrap/variants"
#: Debian's mirror (reachable here and in CI); the suite this machine runs.
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
#: gnt-instance add waits for the whole install: room for a slow mirror.
INSTALL_TIMEOUT = 1500.0

_ADD = ("gnt-instance", "add", "-t", "file", "--disk", "0:size=1G", "--no-start",
        "--no-ip-check", "--no-name-check")


def _missing_prerequisite() -> str | None:
    """Why this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "the debootstrap OS needs root (losetup, mount, chroot)"
    if not os.path.isfile(os.path.join(DEBOOTSTRAP_OS_DIR, "create")):
        return "ganeti-instance-debootstrap is not installed"
    if not os.path.isdir(VARIANTS_DIR):
        return "%s is missing" % VARIANTS_DIR
    for tool in ("debootstrap", "losetup", "debugfs", "mke2fs"):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return "%s is not installed" % tool
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices (/dev/loop-control)"
    return None


def _device_mapper_works() -> bool:
    """Whether the kernel's device-mapper answers (what kpartx needs)."""
    dmsetup = shutil.which("dmsetup", path="/usr/sbin:/sbin")
    if dmsetup is None:
        try:
            with open("/proc/misc", encoding="ascii") as handle:
                return any(line.split()[-1:] == ["device-mapper"] for line in handle)
        except OSError:
            return False
    return subprocess.run([dmsetup, "version"], capture_output=True,
                          check=False).returncode == 0


def _publish_variant(variant: str, cache_dir: str) -> str:
    """Write the variant's configuration (sourced by the package's scripts); its path."""
    path = os.path.join(VARIANTS_DIR, "%s.conf" % variant)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            "# Written by the project's test_os_debootstrap; removed when it ends.\n"
            "PARTITION_STYLE=none\n"
            "SUITE=%s\n"
            "MIRROR=%s\n"
            "CACHE_DIR=%s\n"
            # The script passes EXTRA_PKGS unquoted before the suite, so a debootstrap
            # option rides along: the minimal package set keeps the download small;
            # ifupdown gives /etc/network, which the script writes into.
            "EXTRA_PKGS='ifupdown --variant=minbase'\n" % (SUITE, MIRROR, cache_dir))
    return path


def _install_os(cluster: LocalCluster, variant: str) -> None:
    """The package's OS definition in each node's Debian OS directory, plus our variant."""
    for node in cluster.node_list():
        target = os.path.join(node.paths.os_search_path[-1], "debootstrap")
        shutil.copytree(DEBOOTSTRAP_OS_DIR, target, symlinks=True)
        # variants.list links to the machine's list; the node gets its own.
        os.unlink(os.path.join(target, "variants.list"))
        with open(os.path.join(target, "variants.list"), "w", encoding="utf-8") as handle:
            handle.write("default\n%s\n" % variant)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Gnt, str]]:
    """A one-node cluster with file storage and the debootstrap OS; (runner, variant)."""
    reason = _missing_prerequisite()
    if reason is not None:
        pytest.skip(reason)
    base = tempfile.mkdtemp(prefix="debootstrap-cluster-")
    variant = "test-minbase-%d" % os.getpid()
    conf = _publish_variant(variant, os.path.join(base, "debootstrap-cache"))
    try:
        with reserve_addresses(1) as first:
            local = LocalCluster(base, nodes=1, first_index=first,
                                 disk_templates=(constants.DT_FILE,))
            try:
                local.up()
                _install_os(local, variant)
                yield Gnt(local), variant
            finally:
                local.down()
    finally:
        os.unlink(conf)
        shutil.rmtree(base, ignore_errors=True)


def _loop_devices_of(path: str) -> str:
    """losetup's lines for loop devices backed by ``path`` (empty when none)."""
    return subprocess.run(["losetup", "-j", path], capture_output=True, text=True,
                          check=True).stdout.strip()


def _read_in_image(image: str, path: str) -> str:
    """The content of ``path`` inside the ext filesystem ``image`` (read without mounting)."""
    result = subprocess.run(["debugfs", "-R", "cat %s" % path, image], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and result.stdout, (
        "%s not readable in %s: %s" % (path, image, result.stderr))
    return result.stdout


def test_the_package_is_a_valid_os_with_its_variants(cluster: tuple[Gnt, str]) -> None:
    gnt, variant = cluster
    listed = gnt("gnt-os", "list", "--no-headers").stdout.split()
    assert {"debootstrap+default", "debootstrap+%s" % variant} <= set(listed)


@pytest.mark.timeout(INSTALL_TIMEOUT * 2)
def test_install_and_reinstall_a_real_debian(cluster: tuple[Gnt, str]) -> None:
    gnt, variant = cluster
    node = gnt.node_name(1)
    result = gnt.cluster.run_cli(1, [*_ADD, "-o", "debootstrap+%s" % variant, "-n", node,
                                     "deb1"], timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gnt.instances()["deb1"] == {"status": "ADMIN_down", "admin_state": "down",
                                       "pnode": node}

    (disk,) = gnt.files_of("deb1")
    assert os.path.getsize(disk) == 1024 ** 3
    # Unpartitioned: the disk is the filesystem itself, and it holds a Debian
    # named after the instance.
    assert _read_in_image(disk, "/etc/debian_version").strip()[:2] == "12"
    assert _read_in_image(disk, "/etc/hostname").strip() == "deb1"
    assert "UUID=" in _read_in_image(disk, "/etc/fstab")
    assert _loop_devices_of(disk) == ""  # the script detached its loop device

    # A reinstall unpacks the tarball the first install cached, into a new filesystem.
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    cache_dir = os.path.join(gnt.cluster.base_dir, "debootstrap-cache")
    assert os.listdir(cache_dir) == ["cache-%s-%s.tar" % (SUITE, arch)]
    before = _read_in_image(disk, "/etc/fstab")
    result = gnt.cluster.run_cli(1, ["gnt-instance", "reinstall", "-f", "deb1"],
                                 timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    after = _read_in_image(disk, "/etc/fstab")
    assert after != before  # a new filesystem (new UUID), same Debian
    assert _read_in_image(disk, "/etc/hostname").strip() == "deb1"

    gnt("gnt-instance", "remove", "-f", "deb1")
    assert "deb1" not in gnt.instances()
    assert not os.path.exists(disk)


def test_partitioned_layout_fails_with_the_scripts_error(cluster: tuple[Gnt, str]) -> None:
    if _device_mapper_works():
        pytest.skip("device-mapper works here: the partitioned layout would install")
    gnt, _ = cluster
    node = gnt.node_name(1)
    # The package's own default variant: partitioned (msdos), mapped with kpartx.
    result = gnt.cluster.run_cli(1, [*_ADD, "-o", "debootstrap+default", "-n", node, "deb2"],
                                 timeout=INSTALL_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "OS debootstrap script 'create' for instance deb2 failed" in output
    # The script's own error (map_disk0) and kpartx's, from the log's last lines.
    assert ("Can't find kpartx mapped partition" in output
            or "Cannot interpret kpartx output" in output), output
    assert "device-mapper" in output
    # Rolled back: no instance, no disk file, no loop device left on it.
    assert "deb2" not in gnt.instances()
    assert gnt.files_of("deb2") == []
    attached = subprocess.run(["losetup", "-a"], capture_output=True, text=True,
                              check=True).stdout
    assert os.path.join(gnt.file_storage_dir(), "deb2") not in attached
    assert "deb2" not in [i["name"] for i in gnt.config()["instances"].values()]
