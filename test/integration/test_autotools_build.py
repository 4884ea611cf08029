"""The autotools build: autogen, configure, make, make install, uninstall.

Runs on a copy of the source tree, in separate build directories, and
installs only below a temporary DESTDIR.
"""

from __future__ import annotations

import glob
import os
import runpy
import shutil
import subprocess
import sys
from typing import Any

import pytest

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(
    not (shutil.which("autoreconf") and shutil.which("automake") and shutil.which("make")
         and (shutil.which("rst2man") or shutil.which("rst2man.py"))),
    reason="needs autoconf, automake, make and rst2man")

_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache",
                                 ".pytest_cache", "build", "autom4te.cache", "configure",
                                 "Makefile", "Makefile.in", "config.status", "config.log")


def run(args: list[str], cwd: str, **env: str) -> str:
    result = subprocess.run(args, cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0, "%s failed:\n%s" % (" ".join(args), result.stdout)
    return result.stdout


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: Any) -> str:
    src = str(tmp_path_factory.mktemp("autotools") / "src")
    shutil.copytree(SOURCE, src, ignore=_IGNORE, symlinks=True)
    run(["./autogen.sh"], src)
    return src


def build_and_install(src: str, workdir: str, configure_args: list[str]) -> str:
    build = os.path.join(workdir, "build-dir")
    destdir = os.path.join(workdir, "dest")
    os.makedirs(build)
    run([os.path.join(src, "configure"), *configure_args], build, PYTHON=sys.executable)
    run(["make"], build)
    run(["make", "install", "DESTDIR=" + destdir], build)
    return destdir


def installed_autoconf(destdir: str, pythondir: str) -> dict[str, Any]:
    return runpy.run_path(os.path.join(destdir + pythondir, "ganeti", "_autoconf.py"))


def test_install_carries_the_configured_paths(source_copy: str, tmp_path: Any) -> None:
    pythondir = "/usr/lib/python3/dist-packages"
    destdir = build_and_install(source_copy, str(tmp_path), [
        "--prefix=/usr", "--sysconfdir=/etc", "--localstatedir=/var",
        "--with-pythondir=" + pythondir])

    settings = installed_autoconf(destdir, pythondir)
    assert (settings["PREFIX"], settings["SYSCONFDIR"], settings["LOCALSTATEDIR"]) == (
        "/usr", "/etc", "/var")
    source_settings = runpy.run_path(os.path.join(SOURCE, "ganeti", "_autoconf.py"))
    assert settings["PACKAGE_VERSION"] == source_settings["PACKAGE_VERSION"]
    # The copy's own defaults file is untouched: builds never write into it.
    with open(os.path.join(source_copy, "ganeti", "_autoconf.py"), encoding="utf-8") as a, \
            open(os.path.join(SOURCE, "ganeti", "_autoconf.py"), encoding="utf-8") as b:
        assert a.read() == b.read()

    # Every module of the package is installed.
    modules = {os.path.relpath(p, SOURCE)
               for p in glob.glob(os.path.join(SOURCE, "ganeti", "**", "*.py"), recursive=True)}
    installed = {os.path.relpath(p, destdir + pythondir)
                 for p in glob.glob(os.path.join(destdir + pythondir, "ganeti", "**", "*.py"),
                                    recursive=True)}
    assert modules <= installed

    # Man pages land in the section each declares.
    for rst in glob.glob(os.path.join(SOURCE, "man", "*.rst")):
        name = os.path.basename(rst)[:-len(".rst")]
        pages = glob.glob(os.path.join(destdir, "usr/share/man/man*", name + ".*"))
        assert len(pages) == 1, "man page %s not installed once: %s" % (name, pages)
    assert os.path.exists(os.path.join(destdir, "usr/share/man/man7/ganeti.7"))

    # Commands and daemons run with the configured interpreter.
    sbin = os.path.join(destdir, "usr/sbin")
    for client in glob.glob(os.path.join(SOURCE, "ganeti", "client", "gnt_*.py")):
        command = os.path.basename(client)[:-len(".py")].replace("_", "-")
        with open(os.path.join(sbin, command), encoding="utf-8") as handle:
            assert handle.readline() == "#!%s\n" % sys.executable
    for daemon in glob.glob(os.path.join(SOURCE, "daemons", "*")):
        if os.access(daemon, os.X_OK):
            installed_daemon = os.path.join(sbin, os.path.basename(daemon))
            assert os.access(installed_daemon, os.X_OK)

    # The installed package computes its paths from the configured directories.
    probe = subprocess.run(
        [sys.executable, "-c",
         "from ganeti import pathutils; p = pathutils.for_root('/');"
         "print(pathutils.__file__); print(p.config_file); print(p.hooks_base_dir)"],
        cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": destdir + pythondir},
        stdout=subprocess.PIPE, text=True, check=True)
    module_file, config_file, hooks_dir = probe.stdout.splitlines()
    assert module_file.startswith(destdir + pythondir)
    assert config_file == "/var/lib/ganeti/config.data"
    assert hooks_dir == "/etc/ganeti/hooks"

    run(["make", "uninstall", "DESTDIR=" + destdir], os.path.join(str(tmp_path), "build-dir"))
    left = [os.path.join(d, f) for d, _, files in os.walk(destdir) for f in files]
    assert left == []


def test_default_directories_are_expanded(source_copy: str, tmp_path: Any) -> None:
    pythondir = "/opt/gnt/python"
    destdir = build_and_install(source_copy, str(tmp_path), [
        "--prefix=/opt/gnt", "--with-pythondir=" + pythondir])
    settings = installed_autoconf(destdir, pythondir)
    # configure's defaults are ${prefix}/etc and ${prefix}/var: no "${" may survive.
    assert (settings["PREFIX"], settings["SYSCONFDIR"], settings["LOCALSTATEDIR"]) == (
        "/opt/gnt", "/opt/gnt/etc", "/opt/gnt/var")
