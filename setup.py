#!/usr/bin/env python3
"""Installs the ganeti package, its daemons and the gnt-* commands.

Daemons are the executables in ``daemons/``; each ``gnt-*`` command is a
module ``ganeti/client/gnt_<name>.py`` with a ``main()``, so adding a
command needs no change here.
"""

import glob
import os
import runpy

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
# The version is kept once, in the install-time settings module.
VERSION = runpy.run_path(os.path.join(HERE, "ganeti", "_autoconf.py"))["PACKAGE_VERSION"]


def _gnt_commands() -> list[str]:
    entries = []
    for path in sorted(glob.glob(os.path.join(HERE, "ganeti", "client", "gnt_*.py"))):
        module = os.path.splitext(os.path.basename(path))[0]
        command = module.replace("_", "-")
        entries.append("%s = ganeti.client.%s:main" % (command, module))
    return entries


def _daemon_scripts() -> list[str]:
    return sorted(p for p in glob.glob("daemons/*")
                  if os.path.isfile(p) and os.access(p, os.X_OK))


# Developer entry points that only make sense inside the source tree.
_NOT_INSTALLED_TOOLS = {"tools/run-tests", "tools/demo"}


def _tool_scripts() -> list[str]:
    return sorted(p for p in glob.glob("tools/*")
                  if os.path.isfile(p) and os.access(p, os.X_OK)
                  and p not in _NOT_INSTALLED_TOOLS)


setup(
    name="ganeti",
    version=VERSION,
    description="Cluster virtualization manager in the tradition of Ganeti",
    python_requires=">=3.11",
    packages=find_packages(include=["ganeti", "ganeti.*"]),
    package_data={"ganeti": ["_autoconf.py.in", "py.typed"]},
    install_requires=[
        "pyOpenSSL>=23.2",
        "cryptography>=41",
        "paramiko>=3.0",
        "pyinotify>=0.9.6",
        # pyinotify imports asyncore, which Python 3.12 removed.
        "pyasyncore>=1.0.2; python_version>='3.12'",
        "simplejson>=3.19",
        "bitarray>=2.8",
        "psutil>=5.9.4",
        "aiohttp>=3.9",
    ],
    extras_require={
        "test": [
            "pytest>=7.4",
            "pytest-timeout>=2.1",
            "hypothesis>=6.80",
            "ruff>=0.4",
            "mypy>=1.8",
            "types-simplejson",
            "types-psutil",
            "types-paramiko",
            "types-pyOpenSSL",
        ],
    },
    entry_points={"console_scripts": _gnt_commands()},
    scripts=_daemon_scripts() + _tool_scripts(),
)
