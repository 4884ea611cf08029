"""Cluster-wide opcodes."""

from __future__ import annotations

from ganeti import constants, ht
from ganeti.opcodes import params as p
from ganeti.opcodes.base import OpCode, Param


class OpClusterPostInit(OpCode):
    """Finish cluster initialisation: runs the post-init hooks."""


class OpClusterDestroy(OpCode):
    """Destroy the cluster (it must have no nodes besides the master and no instances)."""


class OpClusterQuery(OpCode):
    """Return the cluster's information (gnt-cluster info)."""


class OpClusterVerify(OpCode):
    """Verify the whole cluster: submits one verification job per node group."""

    OP_PARAMS = (
        p.DEBUG_SIMULATE_ERRORS,
        p.ERROR_CODES,
        p.SKIP_CHECKS,
        p.IGNORE_ERRORS,
        p.VERBOSE,
        p.OPT_GROUP_NAME,
        p.VERIFY_CLUTTER,
    )


class OpClusterVerifyConfig(OpCode):
    """Verify the cluster configuration and its global (non-group) state."""

    OP_PARAMS = (
        p.DEBUG_SIMULATE_ERRORS,
        p.ERROR_CODES,
        p.IGNORE_ERRORS,
        p.VERBOSE,
    )


class OpClusterVerifyGroup(OpCode):
    """Verify the nodes and instances of one node group."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (
        p.GROUP_NAME,
        p.DEBUG_SIMULATE_ERRORS,
        p.ERROR_CODES,
        p.SKIP_CHECKS,
        p.IGNORE_ERRORS,
        p.VERBOSE,
        p.VERIFY_CLUTTER,
    )


class OpClusterVerifyDisks(OpCode):
    """Check the disks of all instances: submits one job per node group."""

    OP_PARAMS = (
        p.OPT_GROUP_NAME,
        p.IS_STRICT,
    )


class OpClusterRepairDiskSizes(OpCode):
    """Correct the disk sizes recorded in the configuration from the actual devices."""

    OP_PARAMS = (p.INSTANCES,)


class OpClusterConfigQuery(OpCode):
    """Return selected cluster configuration values."""

    OP_PARAMS = (p.OUTPUT_FIELDS,)


class OpClusterRename(OpCode):
    """Rename the cluster (and move its IP address when it changes)."""

    SUMMARY_PARAM = "name"
    OP_PARAMS = (p.NAME.with_doc("New cluster name"),)


_T_HOSTED_DICTS = ht.TDictOf(ht.TString, ht.TDict)
#: One extra replicated file: its cluster path and the nodes that get it.
TRedistributeFile = ht.TStrictDict(True, {"path": ht.TAbsolutePath,
                                          "nodes": ht.TElemOf(["all", "master-candidates"])})


class OpClusterSetParams(OpCode):
    """Change cluster-wide parameters (gnt-cluster modify)."""

    OP_PARAMS = (
        p.FORCE,
        p.HV_STATE,
        p.DISK_STATE,
        p.opt("vg_name", ht.TString, "Volume group for LVM-based disks (empty: none)"),
        p.opt("enabled_hypervisors", ht.TListOf(p.THypervisor),
              "Hypervisors instances may use; the first is the default"),
        p.opt("hvparams", _T_HOSTED_DICTS, "Hypervisor parameter defaults by hypervisor"),
        p.opt("beparams", ht.TDict, "Backend parameter defaults"),
        p.opt("os_hvp", _T_HOSTED_DICTS,
              "Hypervisor parameter defaults by OS, then by hypervisor"),
        p.opt("osparams", _T_HOSTED_DICTS, "OS parameter defaults by OS"),
        Param("osparams_private_cluster", _T_HOSTED_DICTS, None,
              "Private OS parameter defaults by OS", private=True),
        p.DISKPARAMS,
        p.opt("candidate_pool_size", ht.TPositiveInt, "Wanted number of master candidates"),
        p.opt("max_running_jobs", ht.TPositiveInt, "Jobs allowed to run at the same time"),
        p.opt("max_tracked_jobs", ht.TPositiveInt, "Jobs the queue keeps track of"),
        p.opt("uid_pool", p.TUidRanges, "Replace the pool of user ids for instances"),
        p.opt("add_uids", p.TUidRanges, "Add user id ranges to the pool"),
        p.opt("remove_uids", p.TUidRanges, "Remove user id ranges from the pool"),
        p.opt("maintain_node_health", ht.TBool,
              "Let the watcher shut down instances on offline nodes"),
        p.opt("prealloc_wipe_disks", ht.TBool, "Wipe new disks before use"),
        p.opt("nicparams", p.TNicParams, "NIC parameter defaults"),
        p.NDPARAMS.with_doc("Node parameter defaults"),
        p.IPOLICY.with_doc("Cluster-wide instance policy"),
        p.opt("drbd_helper", ht.TString, "DRBD usermode helper (empty: no check)"),
        p.opt("default_iallocator", ht.TString, "Allocator used when none is named"),
        p.opt("default_iallocator_params", ht.TDict, "Parameters of the default allocator"),
        p.opt("mac_prefix", ht.TMacPrefix, "Prefix of generated MAC addresses"),
        p.opt("master_netdev", ht.TString, "Network device carrying the master IP"),
        p.opt("master_netmask", ht.TNonNegativeInt, "Prefix length of the master IP"),
        p.opt("reserved_lvs", p.TNames, "Logical volumes cluster verify must ignore"),
        p.opt("hidden_os", p.TOsListChanges, "Changes to the list of hidden OSes"),
        p.opt("blacklisted_os", p.TOsListChanges, "Changes to the list of blacklisted OSes"),
        p.opt("use_external_mip_script", ht.TBool,
              "Use the administrator's script to set up the master IP"),
        p.opt("enabled_disk_templates", ht.TListOf(p.TDiskTemplate),
              "Disk templates instances may use; the first is the default"),
        p.opt("modify_etc_hosts", ht.TBool, "Keep /etc/hosts on the nodes up to date"),
        p.opt("file_storage_dir", ht.TString, "Directory for file disks"),
        p.opt("shared_file_storage_dir", ht.TString, "Directory for shared file disks"),
        p.opt("gluster_storage_dir", ht.TString, "Directory for Gluster disks"),
        p.opt("install_image", ht.TString,
              "Image of a helper VM that runs OS scripts in isolation"),
        p.opt("instance_communication_network", ht.TString,
              "Network used for instance-host communication"),
        p.opt("zeroing_image", ht.TString, "Image of a helper VM that zeroes free space"),
        p.opt("compression_tools", p.TNames, "Compression tools allowed for transfers"),
        p.opt("enabled_user_shutdown", ht.TBool,
              "Treat shutdowns from inside the instance as intended"),
        p.opt(constants.DATA_COLLECTORS_ENABLED_NAME, ht.TDictOf(ht.TString, ht.TBool),
              "Enable or disable data collectors by name"),
        p.opt(constants.DATA_COLLECTORS_INTERVAL_NAME,
              ht.TDictOf(ht.TString, ht.TNonNegativeInt),
              "Interval between runs of each data collector (microseconds)"),
        # Not in Ganeti: the cluster's list of extra replicated files (Ganeti 2.1's
        # RedistributeConfig design).
        p.opt("add_redistribute_files", ht.TListOf(TRedistributeFile),
              "Extra files RedistributeConfig copies: {path, nodes: all|master-candidates}"),
        p.opt("remove_redistribute_files", ht.TListOf(ht.TAbsolutePath),
              "Paths to take off the list of extra replicated files"),
    )


class OpClusterRedistConf(OpCode):
    """Push the configuration and the other replicated files to every node."""


class OpClusterActivateMasterIp(OpCode):
    """Bring up the master IP address on the master node."""


class OpClusterDeactivateMasterIp(OpCode):
    """Take down the master IP address on the master node."""


class OpClusterRenewCrypto(OpCode):
    """Renew the cluster's certificates and, optionally, the SSH keys."""

    OP_PARAMS = (
        Param("node_certificates", ht.TBool, False, "Renew the nodes' client certificates"),
        Param("renew_ssh_keys", ht.TBool, False, "Renew the nodes' SSH keys"),
        p.opt("ssh_key_type", ht.TElemOf(constants.SSHK_ALL), "Type of the new SSH keys"),
        p.opt("ssh_key_bits", ht.TPositiveInt, "Size of the new SSH keys in bits"),
        p.VERBOSE,
        Param("debug", ht.TBool, False, "Report debugging detail"),
    )


class OpClusterMasterFailover(OpCode):
    """Make another master candidate the master (gnt-cluster master-failover).

    Not a Ganeti opcode: Ganeti fails over outside the job queue because the
    old master may be dead. This project keeps that direct path (with
    ``no_voting``, run on the new master) and adds this opcode for the case
    where the current master is alive, so the failover is recorded as a job,
    takes the cluster lock and waits for running jobs like any operation.
    """

    SUMMARY_PARAM = "target_node"
    OP_PARAMS = (
        p.opt("target_node", p.TName, "The master candidate to promote"),
        Param("no_voting", ht.TBool, False,
              "Skip the majority check among the nodes (dangerous)"),
    )

