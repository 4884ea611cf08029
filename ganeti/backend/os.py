"""Node side of the OS definition interface (API versions 10, 15 and 20).

An OS definition is a directory in the OS search path holding
``ganeti_api_version``, the scripts ``create``, ``import``, ``export``,
``rename`` (and ``verify`` from API 20), and optionally ``variants.list``
(API 15+) and ``parameters.list`` (required from API 20). Scripts run with
a clean environment built here (the OS interface's variables) and their
output goes to a per-run log under the OS log directory; a failure reports
the log's last lines.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import time
from typing import Any

from ganeti import constants, errors, network, pathutils, storage
from ganeti.hypervisor import hv_base

SCRIPT_CREATE = "create"
SCRIPT_CREATE_UNTRUSTED = "create_untrusted"
SCRIPT_IMPORT = "import"
SCRIPT_EXPORT = "export"
SCRIPT_RENAME = "rename"
SCRIPT_VERIFY = "verify"
API_FILE = "ganeti_api_version"
VARIANTS_FILE = "variants.list"
PARAMETERS_FILE = "parameters.list"
#: What os_validate may be asked to check (the verify script's argument).
VALIDATE_PARAMETERS = "parameters"
VALIDATE_CALLS = frozenset([VALIDATE_PARAMETERS])

#: PATH given to OS scripts (the interface fixes it).
SCRIPT_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"
_LOG_TAIL_LINES = 20


@dataclasses.dataclass(frozen=True)
class OSDefinition:
    name: str
    path: str
    api_versions: list[int]
    variants: list[str]
    parameters: list[list[str]]  # [name, description]
    trusted: bool

    @property
    def api_version(self) -> int:
        """The version both sides speak (the highest in common)."""
        return max(set(self.api_versions) & constants.OS_API_VERSIONS)

    def script(self, name: str) -> str:
        return os.path.join(self.path, name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def split_os_name(name: str) -> tuple[str, str]:
    """'debootstrap+buster' -> ('debootstrap', 'buster'); no variant gives ''."""
    base, _, variant = name.partition("+")
    return base, variant


def _read_list_file(path: str) -> list[str]:
    """Non-empty, non-comment lines of a list file."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle
                if line.strip() and not line.strip().startswith("#")]


def _check_script(os_dir: str, name: str) -> str | None:
    """Why the script ``name`` is unusable, or None."""
    path = os.path.join(os_dir, name)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "script '%s' is missing (%s)" % (name, path)
    if not stat.S_ISREG(info.st_mode):
        return "script '%s' is not a regular file (%s)" % (name, path)
    if not info.st_mode & stat.S_IXUSR:
        return "script '%s' is not executable (%s)" % (name, path)
    return None


def load_os(name: str, os_dir: str) -> OSDefinition:
    """Read and check the OS definition in ``os_dir``; InvalidOS says what is wrong."""
    def invalid(reason: str) -> errors.InvalidOS:
        return errors.InvalidOS(name, "OS %s in %s: %s" % (name, os_dir, reason))

    if not os.path.isdir(os_dir):
        raise invalid("not a directory")
    api_file = os.path.join(os_dir, API_FILE)
    try:
        api_lines = _read_list_file(api_file)
    except FileNotFoundError:
        raise invalid("the API version file '%s' is missing" % API_FILE) from None
    except (OSError, UnicodeDecodeError) as err:
        raise invalid("cannot read '%s': %s" % (API_FILE, err)) from None
    try:
        api_versions = [int(line) for line in api_lines]
    except ValueError:
        raise invalid("'%s' must hold one integer per line, got %r"
                      % (API_FILE, api_lines)) from None
    if not set(api_versions) & constants.OS_API_VERSIONS:
        raise invalid("API version mismatch: the OS supports %s, this node %s"
                      % (api_versions or "none", sorted(constants.OS_API_VERSIONS)))
    max_api = max(set(api_versions) & constants.OS_API_VERSIONS)

    required = [SCRIPT_IMPORT, SCRIPT_EXPORT, SCRIPT_RENAME]
    if max_api >= constants.OS_API_V20:
        required.append(SCRIPT_VERIFY)
    problems = [p for p in (_check_script(os_dir, s) for s in required) if p]
    create_problem = _check_script(os_dir, SCRIPT_CREATE)
    trusted = create_problem is None
    if create_problem is not None and _check_script(os_dir, SCRIPT_CREATE_UNTRUSTED) is not None:
        problems.insert(0, create_problem)
    if problems:
        raise invalid("; ".join(problems))

    variants: list[str] = []
    variants_file = os.path.join(os_dir, VARIANTS_FILE)
    if max_api >= constants.OS_API_V15 and os.path.exists(variants_file):
        variants = _read_list_file(variants_file)
        if not variants:
            raise invalid("'%s' lists no variant" % VARIANTS_FILE)

    parameters: list[list[str]] = []
    if max_api >= constants.OS_API_V20:
        try:
            lines = _read_list_file(os.path.join(os_dir, PARAMETERS_FILE))
        except FileNotFoundError:
            raise invalid("'%s' is required for API version %d and is missing"
                          % (PARAMETERS_FILE, max_api)) from None
        for line in lines:
            pname, _, description = line.partition(" ")
            parameters.append([pname, description.strip()])
    return OSDefinition(name, os_dir, sorted(api_versions, reverse=True), variants,
                        parameters, trusted)


def _search_path() -> list[str]:
    return pathutils.current().os_search_path


def find_os(name: str) -> OSDefinition:
    """The OS ``name`` (a '+variant' suffix is ignored) from the first search dir holding it."""
    base, _ = split_os_name(name)
    if not base or "/" in base or base.startswith("."):
        raise errors.InvalidOS(name, "Invalid OS name %r" % name)
    for directory in _search_path():
        os_dir = os.path.join(directory, base)
        if os.path.isdir(os_dir):
            return load_os(base, os_dir)
    raise errors.InvalidOS(base, "OS %s not found in the search path (%s)"
                           % (base, ", ".join(_search_path())))


def os_diagnose() -> list[list[Any]]:
    """Every OS found: [name, path, valid, message, variants, parameters, api, trusted]."""
    result: list[list[Any]] = []
    for directory in _search_path():
        try:
            entries = sorted(e for e in os.listdir(directory) if not e.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            os_dir = os.path.join(directory, entry)
            try:
                definition = load_os(entry, os_dir)
            except errors.InvalidOS as err:
                result.append([entry, os_dir, False, str(err.args[-1]), [], [], [], True])
                continue
            result.append([entry, os_dir, True, "", definition.variants,
                           definition.parameters, definition.api_versions,
                           definition.trusted])
    return result


def os_get(name: str) -> dict[str, Any]:
    return find_os(name).to_dict()


def check_variant(definition: OSDefinition, name: str) -> None:
    _, variant = split_os_name(name)
    if not definition.variants:
        if variant:
            raise errors.InvalidOS(name, "OS %s has no variants, but %r was asked for"
                                   % (definition.name, variant))
        return
    if not variant:
        raise errors.InvalidOS(name, "OS name %s must include a variant (one of %s)"
                               % (name, ", ".join(definition.variants)))
    if variant not in definition.variants:
        raise errors.InvalidOS(name, "OS %s has no variant %r (variants: %s)"
                               % (definition.name, variant, ", ".join(definition.variants)))


def core_environment(os_name: str, definition: OSDefinition, osparams: dict[str, Any],
                     debug: int) -> dict[str, str]:
    """The variables every OS script gets."""
    api = definition.api_version
    env = {
        "OS_API_VERSION": str(api),
        "OS_NAME": definition.name,
        "DEBUG_LEVEL": str(debug),
        "PATH": SCRIPT_PATH,
        "OS_VARIANT": "",
    }
    if api >= constants.OS_API_V15 and definition.variants:
        env["OS_VARIANT"] = split_os_name(os_name)[1] or definition.variants[0]
    if api >= constants.OS_API_V20:
        for pname, pvalue in osparams.items():
            key = pname.upper().replace("-", "_")
            env["OSP_%s" % key] = str(pvalue)
            env["INSTANCE_OS_PARAMETER_%s" % key] = str(pvalue)
    return env


def _disk_environment(idx: int, disk: dict[str, Any], hvparams: dict[str, Any]
                      ) -> dict[str, str]:
    device = storage.device_from_disk(disk)
    if not device.exists():
        raise errors.BlockDeviceError("Disk %d (%s) is not set up on this node"
                                      % (idx, device.describe()))
    env = {"DISK_%d_ACCESS" % idx: str(disk.get("mode") or constants.DISK_RDWR),
           "DISK_%d_SIZE" % idx: str(disk.get("size", ""))}
    if device.dev_path:
        env["DISK_%d_PATH" % idx] = device.dev_path
    uri = device.user_space_uri()
    if uri:
        env["DISK_%d_URI" % idx] = uri
    for field in ("uuid", "name"):
        if disk.get(field):
            env["DISK_%d_%s" % (idx, field.upper())] = str(disk[field])
    if "disk_type" in hvparams:
        env["DISK_%d_FRONTEND_TYPE" % idx] = str(hvparams["disk_type"])
    if disk.get("dev_type") in constants.DTS_FILEBASED:
        env["DISK_%d_BACKEND_TYPE" % idx] = "file:%s" % disk["logical_id"][0]
    else:
        env["DISK_%d_BACKEND_TYPE" % idx] = "block"
    return env


def _nic_environment(idx: int, nic: dict[str, Any], hvparams: dict[str, Any]
                     ) -> dict[str, str]:
    nicparams = nic.get("nicparams") or {}
    env = {"NIC_%d_MAC" % idx: str(nic.get("mac", ""))}
    for field in ("uuid", "name", "ip"):
        if nic.get(field):
            env["NIC_%d_%s" % (idx, field.upper())] = str(nic[field])
    mode = nicparams.get("mode")
    link = nicparams.get("link")
    if mode:
        env["NIC_%d_MODE" % idx] = str(mode)
    if link:
        env["NIC_%d_LINK" % idx] = str(link)
        if mode == constants.NIC_MODE_BRIDGED:
            env["NIC_%d_BRIDGE" % idx] = str(link)
    if nicparams.get("vlan"):
        env["NIC_%d_VLAN" % idx] = str(nicparams["vlan"])
    if nic.get("netinfo"):
        env.update(network.hooks_env(nic["netinfo"], "NIC_%d_" % idx))
    if "nic_type" in hvparams:
        env["NIC_%d_FRONTEND_TYPE" % idx] = str(hvparams["nic_type"])
    return env


def instance_environment(instance: dict[str, Any], definition: OSDefinition,
                         debug: int) -> dict[str, str]:
    """The full environment of an OS script run for ``instance``."""
    os_name = str(instance.get("os", ""))
    osparams = dict(instance.get("osparams") or {})
    osparams.update(instance.get("osparams_private") or {})
    env = core_environment(os_name, definition, osparams, debug)
    for field in ("name", "os", "uuid", "ctime", "mtime", "primary_node"):
        env["INSTANCE_%s" % field.upper()] = str(instance.get(field, ""))
    env["INSTANCE_SECONDARY_NODES"] = " ".join(instance.get("secondary_nodes") or [])
    hv_name = str(instance.get("hypervisor", ""))
    env["HYPERVISOR"] = hv_name
    env["INSTANCE_HYPERVISOR"] = hv_name
    hvparams = instance.get("hvparams") or {}
    disks = instance.get("disks") or []
    nics = instance.get("nics") or []
    env["DISK_COUNT"] = str(len(disks))
    env["NIC_COUNT"] = str(len(nics))
    for idx, disk in enumerate(disks):
        env.update(_disk_environment(idx, disk, hvparams))
    for idx, nic in enumerate(nics):
        env.update(_nic_environment(idx, nic, hvparams))
    for kind, params in (("BE", instance.get("beparams") or {}), ("HV", hvparams)):
        for key, value in params.items():
            env["INSTANCE_%s_%s" % (kind, key)] = str(value)
    return env


def _log_file(kind: str, os_name: str, instance_name: str) -> str:
    paths = pathutils.current()
    os.makedirs(paths.os_log_dir, mode=0o750, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d_%H_%M_%S") + "_%06d" % (time.time_ns() // 1000 % 1000000)
    return os.path.join(paths.os_log_dir, "%s-%s-%s-%s.log"
                        % (kind, os_name.replace("/", "_"), instance_name, stamp))


def _tail(path: str, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:]).rstrip("\n")
    except OSError:
        return "(log file %s unreadable)" % path


def run_script(argv: list[str], env: dict[str, str], cwd: str, log_path: str,
               what: str, stdin: Any = subprocess.DEVNULL, stdout: Any = None,
               pass_fds: tuple[int, ...] = ()) -> None:
    """Run an OS script with exactly ``env``, output to ``log_path``; OpExecError on failure.

    ``stdin``/``stdout`` are for the import and export scripts (a disk dump);
    a script whose stdout is taken still logs its stderr.
    """
    with open(log_path, "ab") as log:
        try:
            result = subprocess.run(argv, env=env, cwd=cwd, stdin=stdin,
                                    stdout=log if stdout is None else stdout,
                                    stderr=subprocess.STDOUT if stdout is None else log,
                                    pass_fds=pass_fds, check=False)
        except OSError as err:
            raise errors.OpExecError("%s could not be run: %s" % (what, err)) from err
    if result.returncode != 0:
        reason = ("exited with code %d" % result.returncode if result.returncode > 0
                  else "killed by signal %d" % -result.returncode)
        raise errors.OpExecError("%s failed (%s); last lines of the log %s:\n%s"
                                 % (what, reason, log_path, _tail(log_path)))


def run_instance_script(instance: dict[str, Any], script: str, debug: int,
                        extra_env: dict[str, str]) -> None:
    """Run one of the OS's scripts for ``instance`` (create, rename, …)."""
    name = hv_base.instance_name(instance)
    os_name = str(instance.get("os", ""))
    definition = find_os(os_name)
    if script == SCRIPT_CREATE and not definition.trusted:
        raise errors.InvalidOS(definition.name, "OS %s only has an untrusted create script, "
                               "which needs an install helper VM (not supported)"
                               % definition.name)
    env = instance_environment(instance, definition, debug)
    env.update(extra_env)
    log_path = _log_file("add" if script == SCRIPT_CREATE else script, definition.name, name)
    run_script([definition.script(script)], env, definition.path, log_path,
               "OS %s script '%s' for instance %s" % (definition.name, script, name))


def os_validate(required: bool, name: str, checks: list[str], params: dict[str, Any],
                force_variant: bool) -> bool:
    """Check an OS (and its parameters, via its verify script); False if absent."""
    unknown_checks = sorted(set(checks) - VALIDATE_CALLS)
    if unknown_checks:
        raise errors.OpExecError("Unknown OS validation checks %s (known: %s)"
                                 % (", ".join(unknown_checks), ", ".join(sorted(VALIDATE_CALLS))))
    try:
        definition = find_os(name)
    except errors.InvalidOS:
        if required:
            raise
        return False
    if not force_variant:
        check_variant(definition, name)
    if definition.api_version < constants.OS_API_V20:
        return True
    if VALIDATE_PARAMETERS in checks:
        known = {pname for pname, _ in definition.parameters}
        unknown = sorted(set(params) - known)
        if unknown:
            raise errors.InvalidOS(definition.name, "OS %s does not support the parameters "
                                   "%s (supported: %s)" % (definition.name, ", ".join(unknown),
                                                           ", ".join(sorted(known)) or "none"))
    env = core_environment(name, definition, params, 0)
    log_path = _log_file("verify", definition.name, "node")
    run_script([definition.script(SCRIPT_VERIFY), *checks], env, definition.path, log_path,
               "OS %s verify script" % definition.name)
    return True
