"""Node side of the procedures about the node itself.

version, node_info, node_verify, master_node_name, node_leave_cluster,
the master failover and candidate role procedures, and the master IP
(node_activate_master_ip / node_deactivate_master_ip: ``ip addr`` on the
master network device, or the administrator's master-ip-setup script when
the cluster sets use_external_mip_script, between the master-ip-turnup /
master-ip-turndown local hooks). Storage and hypervisor figures come from ``ganeti.storage`` and
``ganeti.hypervisor``, imported when a caller asks for them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import logging
import os
import shutil
import socket
import time
from typing import Any

from ganeti import constants, errors, pathutils

_MIB = 1024 * 1024
#: Seconds node_verify waits for another node's noded port to accept.
NET_TEST_TIMEOUT = 5.0
#: Where the kernel publishes the boot id (changes at every boot).
_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def version() -> int:
    return constants.PROTOCOL_VERSION


def _boot_id() -> str:
    try:
        with open(_BOOT_ID_FILE, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _storage_info(units: list[list[Any]]) -> list[dict[str, Any]]:
    if not units:
        return []
    try:
        from ganeti.storage import get_space_info
    except ImportError:
        raise errors.BlockDeviceError("Storage reporting is not available on this node "
                                      "(ganeti.storage.get_space_info is missing)") from None
    return [dict(get_space_info(stype, key, params)) for stype, key, params in units]


def _hypervisor_info(specs: list[list[Any]]) -> list[dict[str, Any]]:
    if not specs:
        return []
    from ganeti import hypervisor

    return [dict(hypervisor.get_hypervisor(name).get_node_info(hvparams), name=name)
            for name, hvparams in specs]


def node_info(storage_units: list[list[Any]], hv_specs: list[list[Any]]) -> dict[str, Any]:
    import psutil

    memory = psutil.virtual_memory()
    return {
        "bootid": _boot_id(),
        "memory_total": memory.total // _MIB,
        "memory_free": memory.available // _MIB,
        "cpu_total": psutil.cpu_count() or os.cpu_count() or 1,
        "storage": _storage_info(storage_units),
        "hypervisor": _hypervisor_info(hv_specs),
    }


# -- node_verify ----------------------------------------------------------------

def _file_checksums(cluster_paths: list[str]) -> dict[str, str]:
    """SHA-1 of each existing file, keyed by the cluster path asked for."""
    from ganeti.backend.files import node_path

    sums = {}
    for cluster_path in cluster_paths:
        try:
            with open(node_path(cluster_path), "rb") as handle:
                sums[cluster_path] = hashlib.sha1(handle.read()).hexdigest()
        except (FileNotFoundError, IsADirectoryError):
            continue
    return sums


def _hypervisor_verify(names: list[str], all_hvparams: dict[str, dict[str, Any]]
                       ) -> dict[str, str | None]:
    from ganeti import hypervisor

    verdicts: dict[str, str | None] = {}
    for name in names:
        try:
            verdicts[name] = hypervisor.get_hypervisor(name).verify(all_hvparams.get(name, {}))
        except errors.GenericError as err:
            verdicts[name] = "Error while verifying hypervisor %s: %s" % (name, err)
    return verdicts


def _tcp_failure(address: str, port: int) -> str | None:
    try:
        with socket.create_connection((address, port), timeout=NET_TEST_TIMEOUT):
            return None
    except OSError as err:
        return "TCP connection to %s:%d failed: %s" % (address, port, err.strerror or err)


def _net_test(targets: list[list[Any]]) -> dict[str, str]:
    """Failures only: node name -> why its noded port can't be reached."""
    if not targets:
        return {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        verdicts = pool.map(lambda t: (t[0], _tcp_failure(t[1], t[2])), targets)
        return {name: failure for name, failure in verdicts if failure is not None}


def node_verify(checks: dict[str, Any], cluster_name: str,
                all_hvparams: dict[str, dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if constants.NV_FILELIST in checks:
        result[constants.NV_FILELIST] = _file_checksums(checks[constants.NV_FILELIST])
    if constants.NV_HYPERVISOR in checks:
        result[constants.NV_HYPERVISOR] = _hypervisor_verify(checks[constants.NV_HYPERVISOR],
                                                             all_hvparams)
    if constants.NV_HVINFO in checks:
        from ganeti import hypervisor

        name = checks[constants.NV_HVINFO]
        result[constants.NV_HVINFO] = hypervisor.get_hypervisor(name).get_node_info(
            all_hvparams.get(name, {}))
    if constants.NV_VERSION in checks:
        result[constants.NV_VERSION] = [constants.PROTOCOL_VERSION, constants.RELEASE_VERSION]
    if constants.NV_TIME in checks:
        now = time.time()
        result[constants.NV_TIME] = [int(now), int((now - int(now)) * 1000000)]
    if constants.NV_NODENETTEST in checks:
        result[constants.NV_NODENETTEST] = _net_test(checks[constants.NV_NODENETTEST])
    return result


# -- cluster membership ------------------------------------------------------------

def master_node_name() -> str:
    from ganeti import ssconf

    return ssconf.SimpleStore(pathutils.current()).get_master_node()


def remove_cluster_files(paths: pathutils.Paths) -> None:
    """Remove config, ssconf, certificates, keys, the job queue and RAPI data.

    The cluster hosts file stays: it belongs to the machine's set-up, not to
    the cluster (the local cluster tool writes it), and without it a node
    that left could no longer resolve the names it needs to join again.
    """
    keep = {paths.cluster_hosts_file}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(paths.data_dir):
            if entry.is_file(follow_symlinks=False) and entry.path not in keep:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
    # The directories stay (empty): a node that joins again finds them.
    for directory in (paths.queue_dir, paths.rapi_data_dir):
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(directory):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)


def node_leave_cluster(modify_ssh_setup: bool) -> str:
    """Forget the cluster: remove its files from this node, then stop noded.

    Only pathutils locations are touched (see remove_cluster_files).
    Raises QuitGanetiException so noded replies and then exits.
    """
    remove_cluster_files(pathutils.current())
    message = "Cluster files removed; node daemon stopping"
    if modify_ssh_setup:
        # Nothing installs cluster SSH keys on nodes yet, so none to remove.
        message += " (no cluster SSH keys to remove)"
    logging.warning("Left the cluster: %s", message)
    raise errors.QuitGanetiException(True, message)


# -- tests ---------------------------------------------------------------------------

def test_delay(duration: float) -> None:
    """Sleep ``duration`` seconds (OpTestDelay on nodes)."""
    time.sleep(duration)


# -- master failover -----------------------------------------------------------------

#: The daemons that run on the master only, in the order they are stopped.
MASTER_ONLY_DAEMONS = (constants.RAPI, constants.MASTERD)


def config_read() -> list[object]:
    """This node's config.data, encoded; a node without one raises ConfigurationError."""
    from ganeti.rpc import encoding

    path = pathutils.current().config_file
    try:
        with open(path, "rb") as handle:
            return encoding.encode(handle.read())
    except FileNotFoundError:
        raise errors.ConfigurationError("This node has no configuration file %s (it is not"
                                        " a master candidate)" % path) from None


def node_stop_master() -> list[str]:
    """Stop RAPI and masterd if they run here (the old master steps down)."""
    from ganeti.server import daemon_util

    paths = pathutils.current()
    stopped = []
    for name in MASTER_ONLY_DAEMONS:
        if daemon_util.running_pid(name, paths) is None:
            continue
        daemon_util.stop(name, paths)
        if daemon_util.running_pid(name, paths) is not None:
            raise errors.OpExecError("%s is still running on this node after stop" % name)
        logging.warning("Stopped %s: the master role is moving to another node", name)
        stopped.append(name)
    return stopped


def jobqueue_get_drain_flag() -> bool:
    return os.path.exists(pathutils.current().queue_drain_file)


# -- master candidate role -------------------------------------------------------------

def node_demote_from_mc() -> None:
    """Stop acting as a master candidate: drop config.data and stop confd.

    The config copy is renamed to ``config.data.demoted`` rather than deleted,
    so a wrong demotion can be undone by hand.
    """
    from ganeti import netutils, ssconf
    from ganeti.server import daemon_util

    paths = pathutils.current()
    try:
        master = ssconf.SimpleStore(paths).get_master_node()
    except errors.SsconfError as err:
        raise errors.OpExecError("Cannot tell the master from ssconf: %s" % err) from err
    if master == netutils.my_hostname():
        raise errors.OpExecError("This node is the master; it cannot be demoted")
    daemon_util.stop(constants.CONFD, paths)
    with contextlib.suppress(FileNotFoundError):
        os.replace(paths.config_file, paths.config_file + ".demoted")


def node_ensure_daemon(daemon: str, run: bool) -> None:
    """Start or stop a role-dependent daemon (confd on master candidates)."""
    from ganeti.server import daemon_util

    paths = pathutils.current()
    if not run:
        daemon_util.stop(daemon, paths)
        return
    if daemon_util.running_pid(daemon, paths) is not None or not daemon_util.installed(daemon):
        return
    code = daemon_util.start(daemon, [], paths)
    if code != 0:
        raise errors.OpExecError("Starting %s failed with exit code %d" % (daemon, code))


# -- master IP -------------------------------------------------------------------------

#: The PATH the master IP commands and the administrator's script get.
_MASTER_IP_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Seconds an ``ip``/``arping`` command or the external script may take.
MASTER_IP_COMMAND_TIMEOUT = 60.0
_START = "start"
_STOP = "stop"


def _master_ip_env(params: dict[str, Any]) -> dict[str, str]:
    """The variables Ganeti's master-ip-setup script and hooks receive."""
    version = 6 if params["ip_family"] == constants.IP6_FAMILY else 4
    return {"MASTER_NETDEV": params["netdev"], "MASTER_IP": params["ip"],
            "MASTER_NETMASK": str(params["netmask"]), "CLUSTER_IP_VERSION": str(version)}


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run a command with a clean environment; OpExecError naming ``what`` on failure."""
    import subprocess

    full_env = {"PATH": _MASTER_IP_PATH, "LC_ALL": "C", **(env or {})}
    try:
        result = subprocess.run(argv, capture_output=True, text=True, env=full_env,
                                stdin=subprocess.DEVNULL, timeout=MASTER_IP_COMMAND_TIMEOUT,
                                check=False)
    except FileNotFoundError as err:
        raise errors.OpExecError("Cannot %s: %s not found" % (what, argv[0])) from err
    except subprocess.TimeoutExpired as err:
        raise errors.OpExecError("Cannot %s: %s did not finish within %d seconds"
                                 % (what, argv[0], MASTER_IP_COMMAND_TIMEOUT)) from err
    if result.returncode != 0:
        raise errors.OpExecError("Cannot %s: %s failed (exit code %d): %s"
                                 % (what, " ".join(argv), result.returncode,
                                    (result.stderr.strip() or result.stdout.strip()
                                     or "no output")))
    return result.stdout


def configured_addresses(netdev: str | None = None) -> dict[str, list[str]]:
    """Network device -> its addresses as ``ip/prefix`` (``ip -o addr show``)."""
    argv = ["ip", "-o", "addr", "show"] + (["dev", netdev] if netdev else [])
    out = _run(argv, "list the addresses of %s" % (netdev or "the network devices"))
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        words = line.split()
        # "<index>: <dev> inet|inet6 <ip>/<prefix> ..."
        if len(words) >= 4 and words[2] in ("inet", "inet6"):
            found.setdefault(words[1], []).append(words[3])
    return found


def _devices_with(ip: str) -> list[str]:
    return sorted(dev for dev, addresses in configured_addresses().items()
                  if any(address.split("/")[0] == ip for address in addresses))


def _announce(params: dict[str, Any]) -> None:
    """Gratuitous ARP / unsolicited neighbour advertisement, when the tool exists."""
    import shutil

    if params["netdev"] == "lo":
        return
    if params["ip_family"] == constants.IP6_FAMILY:
        argv = ["ndisc6", "-q", "-r", "3", params["ip"], params["netdev"]]
    else:
        argv = ["arping", "-q", "-U", "-c", "3", "-I", params["netdev"], "-s", params["ip"],
                params["ip"]]
    if shutil.which(argv[0], path=_MASTER_IP_PATH) is None:
        return
    try:
        _run(argv, "announce the master IP")
    except errors.OpExecError as err:
        logging.warning("%s", err)


def _internal_master_ip(action: str, params: dict[str, Any]) -> str:
    """Add or remove the master IP on its device with ``ip`` (Ganeti's default script)."""
    ip, netdev, netmask = params["ip"], params["netdev"], params["netmask"]
    address = "%s/%s" % (ip, netmask)
    on_device = configured_addresses(netdev).get(netdev, [])
    if action == _START:
        holders = _devices_with(ip)
        if holders:
            return ("Master IP %s already configured on this machine (%s); nothing to do"
                    % (ip, ", ".join(holders)))
        argv = ["ip", "addr", "add", address, "dev", netdev]
        if params["ip_family"] != constants.IP6_FAMILY:
            argv += ["label", "%s:0" % netdev]
        # preferred_lft 0: never chosen as the source address of the node's own traffic.
        argv += ["preferred_lft", "0"]
        _run(argv, "add the master IP %s on %s" % (address, netdev))
        _announce(params)
        return "Master IP %s added on %s" % (address, netdev)
    if address not in on_device:
        holders = _devices_with(ip)
        if holders:
            raise errors.OpExecError("Master IP %s is configured on %s, not as %s on %s; "
                                     "not removing it" % (ip, ", ".join(holders), address,
                                                          netdev))
        return "Master IP %s not configured on this machine; nothing to do" % ip
    _run(["ip", "addr", "del", address, "dev", netdev],
         "remove the master IP %s from %s" % (address, netdev))
    return "Master IP %s removed from %s" % (address, netdev)


def _external_master_ip(action: str, env: dict[str, str]) -> str:
    """Run the administrator's master-ip-setup script with Ganeti's variables."""
    script = pathutils.current().external_master_setup_script
    if not os.path.isfile(script) or not os.access(script, os.X_OK):
        raise errors.OpExecError("The cluster uses an external master IP script, but %s is "
                                 "missing or not executable" % script)
    out = _run([script, action], "%s the master IP with %s" % (action, script), env)
    return out.strip() or "%s %s done" % (script, action)


def _master_ip_hooks(hooks_path: str, phase: str, env: dict[str, str]) -> list[str]:
    """Run the local hook point; the failures, as 'script: output'."""
    from ganeti.backend import hooks

    hook_env = {"GANETI_" + key: value for key, value in env.items()}
    hook_env.update({"GANETI_HOOKS_VERSION": str(constants.HOOKS_VERSION),
                     "GANETI_HOOKS_PHASE": phase, "GANETI_HOOKS_PATH": hooks_path,
                     "GANETI_DATA_DIR": pathutils.current().data_dir})
    return ["%s: %s" % (name, output.strip())
            for name, status, output in hooks.hooks_runner(hooks_path, phase, hook_env)
            if status == constants.HKR_FAIL]


def _change_master_ip(action: str, params: dict[str, Any], external: bool) -> str:
    env = _master_ip_env(params)
    hooks_path = (constants.HOOKS_PATH_MASTER_IP_TURNUP if action == _START
                  else constants.HOOKS_PATH_MASTER_IP_TURNDOWN)
    failures = _master_ip_hooks(hooks_path, constants.HOOKS_PHASE_PRE, env)
    if failures:
        raise errors.OpExecError("The %s pre hooks failed, master IP unchanged: %s"
                                 % (hooks_path, "; ".join(failures)))
    message = _external_master_ip(action, env) if external else \
        _internal_master_ip(action, params)
    for failure in _master_ip_hooks(hooks_path, constants.HOOKS_PHASE_POST, env):
        logging.warning("%s post hook failed: %s", hooks_path, failure)
    logging.info("%s", message)
    return message


def node_activate_master_ip(master_params: dict[str, Any],
                            use_external_mip_script: bool) -> str:
    """Bring up the cluster's master IP on this node; what was done."""
    return _change_master_ip(_START, master_params, use_external_mip_script)


def node_deactivate_master_ip(master_params: dict[str, Any],
                              use_external_mip_script: bool) -> str:
    """Take down the cluster's master IP on this node; what was done."""
    return _change_master_ip(_STOP, master_params, use_external_mip_script)
