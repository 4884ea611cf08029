"""Every parameter family, declared once: name, type check, default, doc.

Families are backend (``beparams``), NIC (``nicparams``), node (``ndparams``),
disk parameters per disk template (``diskparams``) and hypervisor parameters
per hypervisor (``hvparams``). Names and default values are Ganeti's, so a
Ganeti ``config.data`` and Ganeti-speaking tools line up.

The configuration (``objects``) layers these families (cluster, node group,
instance) and validates them here; hypervisor and storage modules import
their declarations from here instead of restating them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ganeti import constants, errors, ht


# Plain classes, not dataclasses: every gnt-* command imports this module, and
# importing dataclasses (with inspect) would add ~10 ms to each start-up.
class ParamDef(NamedTuple):
    """One parameter: its name, type check, default value and a short doc."""

    name: str
    check: ht.Check
    default: Any
    doc: str


class ParamFamily:
    """A named set of parameters (e.g. ``beparams`` or ``hvparams/kvm``).

    ``aliases`` maps a legacy name to the names it stands for (``memory``
    sets both ``maxmem`` and ``minmem``).
    """

    __slots__ = ("_good", "aliases", "name", "params")

    def __init__(self, name: str, params: Mapping[str, ParamDef],
                 aliases: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.name = name
        self.params = params
        self.aliases: Mapping[str, tuple[str, ...]] = aliases if aliases is not None else {}
        #: (name, value) pairs already found valid; checking is then a set lookup.
        self._good: set[tuple[str, Any]] = set()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParamFamily):
            return NotImplemented
        return (self.name, self.params, self.aliases) == (other.name, other.params,
                                                          other.aliases)

    __hash__ = None  # type: ignore[assignment]  # mutable mappings inside, as before

    def __repr__(self) -> str:
        return "ParamFamily(name=%r, params=%r, aliases=%r)" % (self.name, self.params,
                                                                self.aliases)

    def defaults(self) -> dict[str, Any]:
        """A fresh dictionary of every parameter's default value."""
        return {p.name: _copy_value(p.default) for p in self.params.values()}

    def names(self) -> frozenset[str]:
        return frozenset(self.params)

    def check(self, values: Mapping[str, Any], owner: str) -> None:
        """Raise ParameterError naming ``owner`` for any unknown name or bad value."""
        if not isinstance(values, Mapping):
            raise errors.ParameterError("%s of %s must be a dictionary, got %s"
                                        % (self.name, owner, ht.describe_value(values)))
        for problem in self.problems(values, owner):
            raise errors.ParameterError(problem)

    def problems(self, values: Mapping[str, Any], owner: str) -> list[str]:
        """Every unknown name and bad value in ``values``, as messages."""
        found: list[str] = []
        good = self._good
        for item in values.items():
            try:
                if item in good:
                    continue
            except TypeError:  # unhashable value: check it every time
                pass
            name, value = item
            targets = self.aliases.get(name, (name,))
            definition = self.params.get(targets[0])
            if definition is None:
                found.append("%s of %s: unknown parameter %r (known: %s)"
                             % (self.name, owner, name, ", ".join(sorted(self.params))))
            elif not definition.check(value):
                found.append("%s of %s: parameter %r must be %s, got %s"
                             % (self.name, owner, name, definition.check.desc,
                                ht.describe_value(value)))
            elif len(good) < 4096:
                with contextlib.suppress(TypeError):
                    good.add(item)
        return found

    def all_good(self, values: Mapping[str, Any]) -> bool:
        """True if every (name, value) of ``values`` was already found valid."""
        try:
            return self._good.issuperset(values.items())
        except TypeError:
            return False

    def resolve_aliases(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with legacy aliases expanded (explicit names win)."""
        if not self.aliases or not any(a in values for a in self.aliases):
            return dict(values)
        result = {k: v for k, v in values.items() if k not in self.aliases}
        for alias, targets in self.aliases.items():
            if alias in values:
                for target in targets:
                    result.setdefault(target, values[alias])
        return result


def _copy_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return type(value)(value)
    return value


def _family(name: str, defs: Iterable[ParamDef],
            aliases: Mapping[str, tuple[str, ...]] | None = None) -> ParamFamily:
    params = {d.name: d for d in defs}
    return ParamFamily(name, params, dict(aliases or {}))


_STR = ht.TString
_INT = ht.TInt
_NNINT = ht.TNonNegativeInt
_BOOL = ht.TBool
_MAYBE_STR = ht.TMaybe(ht.TString)

# -- backend parameters ----------------------------------------------------------

BE_VCPUS = "vcpus"
BE_MAXMEM = "maxmem"
BE_MINMEM = "minmem"
BE_MEMORY = "memory"  # legacy: both maxmem and minmem
BE_AUTO_BALANCE = "auto_balance"
BE_ALWAYS_FAILOVER = "always_failover"
BE_SPINDLE_USE = "spindle_use"

BEPARAMS = _family("beparams", [
    ParamDef(BE_VCPUS, ht.TPositiveInt, 1, "Number of virtual CPUs"),
    ParamDef(BE_MAXMEM, ht.TPositiveInt, 128, "Maximum memory in MiB"),
    ParamDef(BE_MINMEM, ht.TPositiveInt, 128, "Minimum memory in MiB (ballooning floor)"),
    ParamDef(BE_AUTO_BALANCE, _BOOL, True, "Whether the cluster balancer may move it"),
    ParamDef(BE_ALWAYS_FAILOVER, _BOOL, False, "Fail over instead of migrating"),
    ParamDef(BE_SPINDLE_USE, _NNINT, 1, "Spindles the instance uses (for allocation)"),
], aliases={BE_MEMORY: (BE_MAXMEM, BE_MINMEM)})

# -- NIC parameters ----------------------------------------------------------------

NIC_MODE = "mode"
NIC_LINK = "link"
NIC_VLAN = "vlan"

NICPARAMS = _family("nicparams", [
    ParamDef(NIC_MODE, ht.TElemOf(constants.NIC_VALID_MODES), constants.NIC_MODE_BRIDGED,
             "How the NIC is connected: bridged, routed, openvswitch or ext"),
    ParamDef(NIC_LINK, _STR, constants.DEFAULT_BRIDGE,
             "Bridge, routing table or switch the NIC connects to"),
    ParamDef(NIC_VLAN, _STR, "", "VLAN tag(s) for openvswitch mode (e.g. '.100')"),
])

# -- node parameters -----------------------------------------------------------------

ND_OOB_PROGRAM = "oob_program"
ND_SPINDLE_COUNT = "spindle_count"
ND_EXCLUSIVE_STORAGE = "exclusive_storage"
ND_OVS = "ovs"
ND_OVS_NAME = "ovs_name"
ND_OVS_LINK = "ovs_link"
ND_SSH_PORT = "ssh_port"
ND_CPU_SPEED = "cpu_speed"

NDPARAMS = _family("ndparams", [
    ParamDef(ND_OOB_PROGRAM, _STR, "", "Out-of-band management program"),
    ParamDef(ND_SPINDLE_COUNT, ht.TPositiveInt, 1, "Number of spindles of the node"),
    ParamDef(ND_EXCLUSIVE_STORAGE, _BOOL, False, "Give each disk its own physical volumes"),
    ParamDef(ND_OVS, _BOOL, False, "Set up an Open vSwitch on the node"),
    ParamDef(ND_OVS_NAME, _STR, "switch1", "Name of the Open vSwitch"),
    ParamDef(ND_OVS_LINK, _STR, "", "Physical interface connected to the switch"),
    ParamDef(ND_SSH_PORT, ht.TIntRange(1, 65535), 22, "SSH port of the node"),
    ParamDef(ND_CPU_SPEED, ht.TPositiveNumber, 1.0, "Relative CPU speed of the node"),
])

# -- disk parameters, per disk template ------------------------------------------------

_DRBD_DEFAULT_RATE = 60 * 1024  # KiB/s
_ACCESS = ht.TElemOf(["kernelspace", "userspace"])
_ACCESS_DEF = ParamDef("access", _ACCESS, "kernelspace",
                       "Access the disk through the kernel or from user space (QEMU)")

DISKPARAMS: dict[str, ParamFamily] = {
    constants.DT_DISKLESS: _family("diskparams/diskless", []),
    constants.DT_FILE: _family("diskparams/file", []),
    constants.DT_SHARED_FILE: _family("diskparams/sharedfile", []),
    constants.DT_BLOCK: _family("diskparams/blockdev", []),
    constants.DT_PLAIN: _family("diskparams/plain", [
        ParamDef("stripes", ht.TPositiveInt, 1, "Number of LVM stripes"),
    ]),
    constants.DT_DRBD8: _family("diskparams/drbd", [
        ParamDef("resync-rate", ht.TPositiveInt, _DRBD_DEFAULT_RATE,
                 "Static resync rate in KiB/s"),
        ParamDef("data-stripes", ht.TPositiveInt, 1, "LVM stripes of the data volume"),
        ParamDef("meta-stripes", ht.TPositiveInt, 1, "LVM stripes of the metadata volume"),
        ParamDef("disk-barriers", _STR, "n", "Disk barriers to disable (DRBD syntax)"),
        ParamDef("meta-barriers", _BOOL, False, "Disable metadata flushes"),
        ParamDef("metavg", _STR, constants.DEFAULT_VG, "Volume group for DRBD metadata"),
        ParamDef("disk-custom", _STR, "", "Extra drbdsetup disk options"),
        ParamDef("net-custom", _STR, "", "Extra drbdsetup net options"),
        ParamDef("protocol", ht.TElemOf(["A", "B", "C"]), "C", "DRBD replication protocol"),
        ParamDef("dynamic-resync", _BOOL, False, "Use the dynamic resync speed controller"),
        ParamDef("c-plan-ahead", _NNINT, 20, "Dynamic resync: plan-ahead (0.1 s units)"),
        ParamDef("c-fill-target", _NNINT, 0, "Dynamic resync: fill target (sectors)"),
        ParamDef("c-delay-target", _NNINT, 1, "Dynamic resync: delay target (0.1 s units)"),
        ParamDef("c-max-rate", _NNINT, _DRBD_DEFAULT_RATE, "Dynamic resync: max KiB/s"),
        ParamDef("c-min-rate", _NNINT, 4 * 1024, "Dynamic resync: min KiB/s"),
    ]),
    constants.DT_RBD: _family("diskparams/rbd", [
        ParamDef("pool", _STR, "rbd", "RADOS pool holding the images"),
        _ACCESS_DEF,
        ParamDef("user-id", _STR, "", "RADOS user id (empty: the default)"),
    ]),
    constants.DT_EXT: _family("diskparams/ext", [_ACCESS_DEF]),
    constants.DT_GLUSTER: _family("diskparams/gluster", [
        ParamDef("host", _STR, "127.0.0.1", "Gluster server to connect to"),
        ParamDef("port", ht.TIntRange(1, 65535), 24007, "Gluster server port"),
        ParamDef("volume", _STR, "gv0", "Gluster volume holding the images"),
        _ACCESS_DEF,
    ]),
}

# -- hypervisor parameters, per hypervisor -----------------------------------------------

_MIGRATION_MODE = ht.TElemOf(constants.HT_MIGRATION_MODES)
_REBOOT_BEHAVIOR = ht.TElemOf(["reboot", "exit"])
_PORT = ht.TIntRange(0, 65535)


def _hv(name: str, check: ht.Check, default: Any, doc: str) -> ParamDef:
    return ParamDef(name, check, default, doc)


_MIGRATION_MODE_DEF = _hv("migration_mode", _MIGRATION_MODE, constants.HT_MIGRATION_LIVE,
                          "Default migration mode: live or non-live")
_REBOOT_DEF = _hv("reboot_behavior", _REBOOT_BEHAVIOR, "reboot",
                  "What a guest-initiated reboot does: reboot or exit")
_CPU_MASK_ALL = _hv("cpu_mask", _STR, "all", "CPU pinning ('all', or lists like 0-3:4)")
_SOUNDHW = _hv("soundhw", _STR, "", "Emulated sound hardware")
_XEN_COMMON = [
    _CPU_MASK_ALL,
    _hv("cpu_cap", _NNINT, 0, "CPU cap (percent of one CPU; 0 for none)"),
    _hv("cpu_weight", _NNINT, 256, "Scheduler weight"),
    _hv("cpuid", _STR, "", "CPUID policy"),
    _hv("vif_script", _STR, "", "Script run to set up virtual interfaces"),
    _hv("migration_port", _PORT, 8002, "Port used for migration"),
    _REBOOT_DEF,
    _SOUNDHW,
    _hv("xen_cmd", ht.TElemOf(["xm", "xl"]), "xl", "Xen toolstack command"),
]

_LXC_DEVICES = ",".join(["c 1:3 rw", "c 1:5 rw", "c 1:7 rw", "c 1:8 rw", "c 1:9 rw",
                         "c 1:10 rw", "c 5:0 rw", "c 5:1 rw", "c 5:2 rw", "c 136:* rw"])
_LXC_DROP_CAPS = "mac_override,sys_boot,sys_module,sys_time,sys_admin"

HVPARAMS: dict[str, ParamFamily] = {
    constants.HT_FAKE: _family("hvparams/fake", [_MIGRATION_MODE_DEF]),
    constants.HT_CHROOT: _family("hvparams/chroot", [
        _hv("init_script", _STR, "/ganeti-chroot", "Script started inside the chroot"),
    ]),
    constants.HT_LXC: _family("hvparams/lxc", [
        _hv("cpu_mask", _STR, "", "CPU pinning of the container"),
        _hv("devices", _STR, _LXC_DEVICES, "Devices the container may use (cgroup syntax)"),
        _hv("drop_capabilities", _STR, _LXC_DROP_CAPS, "Capabilities dropped in the container"),
        _hv("extra_cgroups", _STR, "", "Extra cgroup controllers to use"),
        _hv("extra_config", _STR, "", "Extra LXC configuration lines"),
        _hv("num_ttys", _NNINT, 6, "Number of ttys of the container"),
        _hv("startup_timeout", ht.TPositiveInt, 30, "Seconds to wait for the start"),
    ]),
    constants.HT_XEN_PVM: _family("hvparams/xen-pvm", [
        _hv("use_bootloader", _BOOL, False, "Boot through a bootloader (pygrub)"),
        _hv("bootloader_path", _STR, "", "Path of the bootloader"),
        _hv("bootloader_args", _STR, "", "Arguments of the bootloader"),
        _hv("kernel_path", _STR, "/boot/vmlinuz-3-xenU", "Kernel image to boot"),
        _hv("initrd_path", _STR, "", "Initial ramdisk to boot"),
        _hv("root_path", _MAYBE_STR, "/dev/xvda1", "Root device passed to the kernel"),
        _hv("kernel_args", _STR, "ro", "Kernel command line"),
        _MIGRATION_MODE_DEF,
        _hv("blockdev_prefix", _STR, "sd", "Prefix of guest block device names"),
        *_XEN_COMMON,
    ]),
    constants.HT_XEN_HVM: _family("hvparams/xen-hvm", [
        _hv("boot_order", _STR, "cd", "Boot device order"),
        _hv("cdrom_image_path", _STR, "", "CD-ROM image"),
        _hv("nic_type", _STR, "rtl8139", "Emulated NIC model"),
        _hv("disk_type", _STR, "paravirtual", "Emulated disk model"),
        _hv("vnc_bind_address", _STR, "0.0.0.0", "Address the VNC console listens on"),
        _hv("vnc_password_file", _STR, "", "File holding the VNC password"),
        _hv("acpi", _BOOL, True, "Enable ACPI"),
        _hv("pae", _BOOL, True, "Enable PAE"),
        _hv("kernel_path", _STR, "/usr/lib/xen/boot/hvmloader", "HVM loader"),
        _hv("device_model", _STR, "/usr/lib/xen/bin/qemu-dm", "Device model binary"),
        _hv("migration_mode", _MIGRATION_MODE, constants.HT_MIGRATION_NONLIVE,
            "Default migration mode: live or non-live"),
        _hv("use_localtime", _BOOL, False, "Hardware clock in local time"),
        _hv("blockdev_prefix", _STR, "hd", "Prefix of guest block device names"),
        _hv("pci_pass", _STR, "", "PCI devices passed through"),
        _hv("vif_type", _STR, "ioemu", "Virtual interface type"),
        _hv("viridian", _BOOL, False, "Enable Viridian (Hyper-V) enlightenments"),
        *_XEN_COMMON,
    ]),
    constants.HT_KVM: _family("hvparams/kvm", [
        _hv("kvm_path", _STR, "/usr/bin/kvm", "QEMU/KVM binary"),
        _hv("kernel_path", _STR, "/boot/vmlinuz-3-kvmU",
            "Kernel to boot directly (empty: boot from disk)"),
        _hv("initrd_path", _STR, "", "Initial ramdisk to boot with kernel_path"),
        _hv("kernel_args", _STR, "ro", "Kernel command line"),
        _hv("root_path", _MAYBE_STR, "/dev/vda1", "Root device passed to the kernel"),
        _hv("acpi", _BOOL, True, "Enable ACPI"),
        _hv("serial_console", _BOOL, True, "Give the guest a serial console"),
        _hv("serial_speed", ht.TPositiveInt, 38400, "Serial console speed (baud)"),
        _hv("vnc_bind_address", _STR, "", "Address the VNC console listens on"),
        _hv("vnc_tls", _BOOL, False, "Use TLS for VNC"),
        _hv("vnc_x509_path", _STR, "", "Directory with the VNC TLS certificates"),
        _hv("vnc_x509_verify", _BOOL, False, "Verify VNC clients' certificates"),
        _hv("vnc_password_file", _STR, "", "File holding the VNC password"),
        _hv("scsi_controller_type", _STR, "lsi", "Emulated SCSI controller model"),
        _hv("kvm_pci_reservations", ht.TIntRange(0, 32), 12,
            "PCI slots reserved for QEMU's own devices"),
        _hv("spice_bind", _STR, "", "Address or interface the SPICE server listens on"),
        _hv("spice_ip_version", ht.TElemOf([0, 4, 6]), 0,
            "IP version for spice_bind when it names an interface (0: any)"),
        _hv("spice_password_file", _STR, "", "File holding the SPICE password"),
        _hv("spice_image_compression", _STR, "", "SPICE lossless image compression"),
        _hv("spice_jpeg_wan_compression", _STR, "", "SPICE JPEG WAN compression"),
        _hv("spice_zlib_glz_wan_compression", _STR, "", "SPICE zlib-glz WAN compression"),
        _hv("spice_streaming_video", _STR, "", "SPICE video stream detection"),
        _hv("spice_playback_compression", _BOOL, True, "SPICE audio compression"),
        _hv("spice_use_tls", _BOOL, False, "Use TLS for SPICE"),
        _hv("spice_tls_ciphers", _STR, "HIGH:-DES:-3DES:-EXPORT:-DH", "SPICE TLS ciphers"),
        _hv("spice_use_vdagent", _BOOL, True, "Enable the SPICE agent channel"),
        _hv("floppy_image_path", _STR, "", "Floppy image"),
        _hv("cdrom_image_path", _STR, "", "CD-ROM image"),
        _hv("cdrom2_image_path", _STR, "", "Second CD-ROM image"),
        _hv("boot_order", ht.TElemOf(["floppy", "cdrom", "disk", "network"]), "disk",
            "Boot device"),
        _hv("nic_type", _STR, "paravirtual", "Emulated NIC model"),
        _hv("disk_type", _STR, "paravirtual", "Emulated disk interface"),
        _hv("cdrom_disk_type", _STR, "", "Emulated CD-ROM interface"),
        _hv("disk_aio", ht.TElemOf(["threads", "native", "io_uring"]), "threads",
            "Asynchronous I/O mode of disks"),
        _hv("usb_mouse", _STR, "", "Emulated USB pointing device"),
        _hv("keymap", _STR, "", "VNC keyboard map"),
        _hv("migration_port", _PORT, 8102, "Port used for migration"),
        _hv("migration_bandwidth", ht.TPositiveInt, 32, "Migration bandwidth in MiB/s"),
        _hv("migration_downtime", ht.TPositiveInt, 30, "Allowed migration downtime in ms"),
        _MIGRATION_MODE_DEF,
        _hv("use_guest_agent", _BOOL, False, "Talk to a QEMU guest agent"),
        _hv("use_localtime", _BOOL, False, "Hardware clock in local time"),
        _hv("disk_cache", ht.TElemOf(["default", "none", "writethrough", "writeback"]),
            "default", "Host cache mode of disks"),
        _hv("disk_discard", ht.TElemOf(["ignore", "unmap"]), "ignore",
            "Pass discard requests to the storage"),
        _hv("security_model", ht.TElemOf(["none", "user", "pool"]), "none",
            "User QEMU runs as: none (root), user (security_domain) or pool"),
        _hv("security_domain", _STR, "", "User for security_model=user"),
        _hv("kvm_flag", ht.TElemOf(["", "enabled", "disabled"]), "",
            "Force KVM acceleration on or off (empty: probe)"),
        _hv("vhost_net", _BOOL, True, "Use vhost-net for paravirtual NICs"),
        _hv("virtio_net_queues", ht.TIntRange(1, 8), 1, "Queues of virtio NICs"),
        _hv("use_chroot", _BOOL, False, "Run QEMU in a chroot"),
        _hv("user_shutdown", _BOOL, False, "Track shutdowns made from inside the guest"),
        _hv("mem_path", _STR, "", "Back guest memory by files here (hugepages)"),
        _REBOOT_DEF,
        _CPU_MASK_ALL,
        _hv("cpu_type", _STR, "", "Emulated CPU model"),
        _hv("cpu_cores", _NNINT, 0, "Cores per socket (0: QEMU default)"),
        _hv("cpu_threads", _NNINT, 0, "Threads per core (0: QEMU default)"),
        _hv("cpu_sockets", _NNINT, 0, "Sockets (0: QEMU default)"),
        _SOUNDHW,
        _hv("usb_devices", _STR, "", "Host USB devices passed through"),
        _hv("vga", _STR, "", "Emulated graphics card"),
        _hv("kvm_extra", _STR, "", "Extra QEMU command line arguments"),
        _hv("machine_version", _STR, "", "Emulated machine type"),
        _hv("migration_caps", _STR, "", "QEMU migration capabilities (colon-separated)"),
        _hv("vnet_hdr", _BOOL, True, "Use IFF_VNET_HDR on tap devices"),
    ]),
}

#: Hypervisor parameters that only make sense cluster-wide (not per instance).
HVC_GLOBALS = frozenset(["migration_bandwidth", "migration_mode", "migration_port"])
#: Node parameters that only make sense per group or cluster (not per node).
NDC_GLOBALS = frozenset([ND_EXCLUSIVE_STORAGE])


def hv_family(hypervisor: str) -> ParamFamily:
    """The parameter family of ``hypervisor``; ParameterError if unknown."""
    family = HVPARAMS.get(hypervisor)
    if family is None:
        raise errors.ParameterError("Unknown hypervisor %r (known: %s)"
                                    % (hypervisor, ", ".join(sorted(HVPARAMS))))
    return family


def disk_family(template: str) -> ParamFamily:
    """The disk parameter family of ``template``; ParameterError if unknown."""
    family = DISKPARAMS.get(template)
    if family is None:
        raise errors.ParameterError("Unknown disk template %r (known: %s)"
                                    % (template, ", ".join(sorted(DISKPARAMS))))
    return family


def fill_dict(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge parameter layers: each later layer's keys override earlier ones."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result.update(layer)
    return result


def updated_params(old: Mapping[str, Any] | None, changes: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """``old`` overrides with ``changes`` applied; a value of None or "default"
    removes the override, so the inherited value applies again (Ganeti's rule)."""
    result = dict(old or {})
    for name, value in changes.items():
        if value is None or value == constants.VALUE_DEFAULT:
            result.pop(name, None)
        else:
            result[name] = value
    return result
