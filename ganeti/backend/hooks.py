"""Node side of hooks: run a hook point's scripts, as Ganeti's hooks runner.

The scripts of ``<hooks dir>/<hpath>-<phase>.d`` run in lexical order, each
with a clean environment (a fixed PATH plus the GANETI_* variables the
master sent), stdin from /dev/null, the root directory as working
directory, and a time limit. Files whose names don't match
constants.EXT_PLUGIN_MASK, and non-executables, are skipped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

from ganeti import constants, pathutils

#: The PATH every hook script gets.
HOOKS_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"

_NAME_RE = re.compile(constants.EXT_PLUGIN_MASK)

HookResult = tuple[str, int, str]


def _run_one(path: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    # A session of its own, so a timeout kills the script's children too.
    proc = subprocess.Popen([path], env=env, cwd="/", stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, close_fds=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            output, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = b""
        text = output.decode("utf-8", "replace")
        return constants.HKR_FAIL, text + "\nhook script timed out after %s seconds" % timeout
    text = output.decode("utf-8", "replace")
    if proc.returncode != 0:
        if proc.returncode < 0:
            text += "\nhook script killed by signal %d" % -proc.returncode
        else:
            text += "\nhook script exited with status %d" % proc.returncode
        return constants.HKR_FAIL, text.lstrip("\n")
    return constants.HKR_SUCCESS, text


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_parts(directory: str, env: dict[str, str],
              timeout: float = constants.HOOKS_SCRIPT_TIMEOUT) -> list[HookResult]:
    """Run every eligible script of ``directory``; a missing directory runs none."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    clean_env = dict(env)
    clean_env["PATH"] = HOOKS_PATH
    results: list[HookResult] = []
    for name in names:
        path = os.path.join(directory, name)
        if (_NAME_RE.match(name) is None or not os.path.isfile(path)
                or not os.access(path, os.X_OK)):
            results.append((name, constants.HKR_SKIP, ""))
            continue
        status, output = _run_one(path, clean_env, timeout)
        results.append((name, status, output))
    return results


def hooks_runner(hpath: str, phase: str, env: dict[str, str]) -> list[HookResult]:
    """Run the hook point ``hpath`` in ``phase`` on this node."""
    return run_parts(pathutils.current().hooks_dir(hpath, phase), env)


def hooks_runner_shortcut(hpath: str, phase: str, _env: dict[str, str]) -> list[HookResult] | None:
    """``[]`` when the hook point's directory is missing or empty (nothing would
    run, nothing would be reported), None when ``hooks_runner`` must run it."""
    try:
        with os.scandir(pathutils.current().hooks_dir(hpath, phase)) as entries:
            return None if any(True for _ in entries) else []
    except FileNotFoundError:
        return []
    except OSError:
        return None  # hooks_runner reports it as it always does
