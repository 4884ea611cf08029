"""Unit tests of networks: address pools, the network LUs' checks, query fields and the
configuration's pool checks (in-process master, no daemon)."""

from __future__ import annotations

from typing import Any

import master_testlib as mt
import pytest

from ganeti import config_verify, constants, errors, mcpu, objects, opcodes, query
from ganeti.context import MasterContext, build_lock_manager
from ganeti.network import AddressPool, hooks_env, parse_subnet
from ganeti.query_network import network_items

JOB_ID = 11


# -- the address pool ----------------------------------------------------------------------

def test_new_pool_reserves_network_broadcast_and_gateway() -> None:
    net = objects.Network(name="n", network="10.0.0.0/29", gateway="10.0.0.1")
    pool = AddressPool.initialize(net)
    assert pool.map() == "XX.....X"
    assert (pool.free_count(), pool.reserved_count()) == (5, 3)
    assert pool.external_reservations() == ["10.0.0.0", "10.0.0.1", "10.0.0.7"]
    assert net.reservations == "00000000" and net.ext_reservations == "11000001"


def test_pool_reserve_and_release() -> None:
    pool = AddressPool.initialize(objects.Network(name="n", network="10.0.0.0/29"))
    pool.reserve("10.0.0.2")
    assert pool.is_reserved("10.0.0.2") and pool.instance_reservations() == ["10.0.0.2"]
    assert next(pool.free_addresses()) == "10.0.0.1"
    with pytest.raises(errors.AddressPoolError, match="already in use"):
        pool.reserve("10.0.0.2")
    with pytest.raises(errors.AddressPoolError, match="already externally reserved"):
        pool.reserve("10.0.0.0", external=True)
    with pytest.raises(errors.AddressPoolError, match="not in network"):
        pool.reserve("10.0.1.2")
    pool.release("10.0.0.2")
    with pytest.raises(errors.AddressPoolError, match="not used by an instance"):
        pool.release("10.0.0.2")
    pool.reserve("10.0.0.5", external=True)
    assert pool.map() == "X....X.X"


@pytest.mark.parametrize(("value", "message"), [
    ("10.0.0.1/24", "host bits set"),
    ("10.0.0.0/31", "too small"),
    ("10.0.0.0/8", "too big"),
    ("10.0.0.0/33", "Invalid network"),
    ("not-a-net", "Invalid network"),
])
def test_bad_subnets_are_refused(value: str, message: str) -> None:
    with pytest.raises(errors.OpPrereqError, match=message):
        parse_subnet(value)
    assert str(parse_subnet("192.0.2.0/24")) == "192.0.2.0/24"


def test_hooks_env_names() -> None:
    env = hooks_env({"name": "n", "uuid": "u", "network": "10.0.0.0/24", "gateway": None,
                     "network6": "2001:db8::/64", "mac_prefix": "aa:bb:cc",
                     "tags": ["a", "b"]}, "NIC_0_")
    assert env == {"NIC_0_NETWORK_NAME": "n", "NIC_0_NETWORK_UUID": "u",
                   "NIC_0_NETWORK_TAGS": "a b", "NIC_0_NETWORK_SUBNET": "10.0.0.0/24",
                   "NIC_0_NETWORK_SUBNET6": "2001:db8::/64",
                   "NIC_0_NETWORK_MAC_PREFIX": "aa:bb:cc"}


# -- the logical units ------------------------------------------------------------------------

@pytest.fixture
def context(tmp_path: Any) -> MasterContext:
    return mt.make_context(str(tmp_path))


def run(context: MasterContext, op_id: str, **params: Any) -> Any:
    op = opcodes.OpCode.from_dict({"OP_ID": op_id, **params})
    return mcpu.Processor(context, JOB_ID).execute_opcode(op)


def refused(context: MasterContext, op_id: str, match: str, **params: Any) -> str:
    serial = context.cfg.get_config_serial()
    with pytest.raises(errors.OpPrereqError, match=match) as info:
        run(context, op_id, **params)
    assert context.cfg.get_config_serial() == serial  # nothing changed
    return str(info.value.args[1])


def _net(context: MasterContext, name: str) -> objects.Network:
    net = context.cfg.find_network(name)
    assert net is not None
    return net


def test_add_checks_and_reserves(context: MasterContext) -> None:
    assert refused(context, "OP_NETWORK_ADD", "host bits set", network_name="n",
                   network="10.0.0.1/24") == errors.ECODE_INVAL
    refused(context, "OP_NETWORK_ADD", "Gateway 10.1.0.1 is not inside", network_name="n",
            network="10.0.0.0/24", gateway="10.1.0.1")
    refused(context, "OP_NETWORK_ADD", "10.9.9.9 is not inside", network_name="n",
            network="10.0.0.0/24", add_reserved_ips=["10.9.9.9"])
    refused(context, "OP_NETWORK_ADD", "IPv6 gateway", network_name="n",
            network="10.0.0.0/24", network6="2001:db8::/64", gateway6="2001:db9::1")
    run(context, "OP_NETWORK_ADD", network_name="n", network="127.0.1.0/29",
        gateway="127.0.1.6", add_reserved_ips=["127.0.1.5"], mac_prefix="AA:BB:CC",
        tags=["t1"])
    net = _net(context, "n")
    # Node IPs (127.0.1.1, 127.0.1.2) are kept away from instances too.
    assert AddressPool(net).map() == "XXX..XXX" and net.mac_prefix == "aa:bb:cc"
    assert net.tags == ["t1"] and net.uuid in context.glm.names(5)
    assert refused(context, "OP_NETWORK_ADD", "already exists", network_name="n",
                   network="10.0.0.0/24") == errors.ECODE_EXISTS
    refused(context, "OP_NETWORK_ADD", "overlaps network 'n'", network_name="m",
            network="127.0.1.0/30")
    run(context, "OP_NETWORK_ADD", network_name="m", network="127.0.1.0/30",
        conflicts_check=False)
    assert AddressPool(_net(context, "m")).map() == "X..X"


def test_modify_gateway_and_reservations(context: MasterContext) -> None:
    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29",
        gateway="10.0.0.1")
    refused(context, "OP_NETWORK_SET_PARAMS", "at least one", network_name="n")
    refused(context, "OP_NETWORK_SET_PARAMS", "at once", network_name="n",
            gateway="10.0.0.2", add_reserved_ips=["10.0.0.3"])
    refused(context, "OP_NETWORK_SET_PARAMS", "not inside", network_name="n",
            gateway="10.0.1.2")
    run(context, "OP_NETWORK_SET_PARAMS", network_name="n", gateway="10.0.0.2")
    assert AddressPool(_net(context, "n")).map() == "X.X....X"
    run(context, "OP_NETWORK_SET_PARAMS", network_name="n", add_reserved_ips=["10.0.0.4"],
        remove_reserved_ips=["10.0.0.2"])  # the gateway stays reserved
    assert AddressPool(_net(context, "n")).map() == "X.X.X..X"
    run(context, "OP_NETWORK_SET_PARAMS", network_name="n", gateway="none",
        mac_prefix="02:00:01", network6="2001:db8::/64", gateway6="fe80::1")
    net = _net(context, "n")
    assert net.gateway is None and AddressPool(net).map() == "X...X..X"
    assert (net.mac_prefix, net.network6, net.gateway6) == ("02:00:01", "2001:db8::/64",
                                                           "fe80::1")
    assert refused(context, "OP_NETWORK_SET_PARAMS", "not known", network_name="nope",
                   gateway="10.0.0.2") == errors.ECODE_NOENT


def test_connect_disconnect_remove_rename(context: MasterContext) -> None:
    cfg = context.cfg
    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29")
    net_uuid = _net(context, "n").uuid
    refused(context, "OP_NETWORK_CONNECT", "Node group 'nogroup' is not known",
            network_name="n", group_name="nogroup", network_mode="bridged",
            network_link="br0")
    refused(context, "OP_NETWORK_CONNECT", "VLAN needs", network_name="n",
            group_name="default", network_mode="routed", network_link="100",
            network_vlan=".5")
    run(context, "OP_NETWORK_CONNECT", network_name="n", group_name="default",
        network_mode="bridged", network_link="br7")
    assert cfg.get_nodegroup(mt.GROUP_UUID).networks == {
        net_uuid: {"mode": "bridged", "link": "br7", "vlan": ""}}
    assert refused(context, "OP_NETWORK_REMOVE", "still connected to node group",
                   network_name="n") == errors.ECODE_STATE
    rows = query.query(constants.QR_NETWORK, ["name", "group_list", "group_cnt", "free_count",
                                              "inst_cnt", "gateway"], network_items(cfg))
    assert rows["data"] == [[[0, "n"], [0, [["default", "bridged", "br7", ""]]], [0, 1],
                             [0, 6], [0, 0], [constants.RS_UNAVAIL, None]]]
    run(context, "OP_NETWORK_RENAME", network_name="n", new_name="n2")
    assert _net(context, "n2").uuid == net_uuid
    run(context, "OP_NETWORK_DISCONNECT", network_name="n2", group_name="default")
    assert cfg.get_nodegroup(mt.GROUP_UUID).networks == {}
    run(context, "OP_NETWORK_REMOVE", network_name="n2")
    assert cfg.find_network("n2") is None and net_uuid not in context.glm.names(5)


def _add_instance(context: MasterContext, ip: str, net_uuid: str | None) -> None:
    cfg = context.cfg
    nic = objects.NIC(uuid=cfg.generate_uuid("t"), mac=cfg.generate_mac("t"), ip=ip,
                      network=net_uuid)
    inst = objects.Instance(name="web1", primary_node=mt.NODE1_UUID, os="x",
                            hypervisor=constants.HT_FAKE, nics=[nic])
    cfg.add_instance(inst, [], "t")
    cfg.release_reservations("t")
    context.glm = build_lock_manager(cfg)  # with the new instance's lock


def test_connect_refuses_conflicting_instance_addresses(context: MasterContext) -> None:
    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29")
    _add_instance(context, "10.0.0.3", None)
    refused(context, "OP_NETWORK_CONNECT", r"web1: nic0/10\.0\.0\.3", network_name="n",
            group_name="default", network_mode="bridged", network_link="br0")
    run(context, "OP_NETWORK_CONNECT", network_name="n", group_name="default",
        network_mode="bridged", network_link="br0", conflicts_check=False)


def test_disconnect_refused_while_nics_use_the_network(context: MasterContext) -> None:
    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29")
    run(context, "OP_NETWORK_CONNECT", network_name="n", group_name="default",
        network_mode="bridged", network_link="br0")
    net_uuid = _net(context, "n").uuid
    assert net_uuid is not None
    _add_instance(context, "10.0.0.3", net_uuid)
    assert AddressPool(_net(context, "n")).instance_reservations() == ["10.0.0.3"]
    refused(context, "OP_NETWORK_DISCONNECT", r"still used by instances .*web1: nic0",
            network_name="n", group_name="default")
    inst = context.cfg.find_instance("web1")
    assert inst is not None and inst.uuid is not None
    context.cfg.remove_instance(inst.uuid)
    assert AddressPool(_net(context, "n")).instance_reservations() == []
    run(context, "OP_NETWORK_DISCONNECT", network_name="n", group_name="default")


# -- the configuration's pool checks ------------------------------------------------------------

def test_verify_reports_pool_disagreements(context: MasterContext) -> None:
    cfg = context.cfg
    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29")
    net_uuid = _net(context, "n").uuid
    _add_instance(context, "10.0.0.3", net_uuid)
    assert cfg.verify_config() == []
    with cfg.locked() as data:
        net = data.networks[net_uuid]
        # 10.0.0.3 forgotten by the pool, 10.0.0.4 held by nobody.
        net.reservations = "00001000"
        problems = config_verify.verify_network_pools(data)
    assert problems == [
        "Network 'n': IP 10.0.0.4 is reserved for an instance but no NIC holds it",
        "Instance 'web1' NIC 0: IP 10.0.0.3 is in the pool of Network 'n' but not"
        " reserved there"]


def test_instance_hooks_and_rpc_carry_the_network(context: MasterContext) -> None:
    from ganeti.cmdlib import instance_utils as iu

    run(context, "OP_NETWORK_ADD", network_name="n", network="10.0.0.0/29",
        gateway="10.0.0.1", tags=["x"])
    net_uuid = _net(context, "n").uuid
    _add_instance(context, "10.0.0.3", net_uuid)
    inst = context.cfg.find_instance("web1")
    assert inst is not None
    env = iu.instance_hooks_env(context.cfg, inst)
    assert {k: v for k, v in env.items() if "_NETWORK_" in k} == {
        "INSTANCE_NIC0_NETWORK_NAME": "n", "INSTANCE_NIC0_NETWORK_UUID": net_uuid,
        "INSTANCE_NIC0_NETWORK_TAGS": "x", "INSTANCE_NIC0_NETWORK_SUBNET": "10.0.0.0/29",
        "INSTANCE_NIC0_NETWORK_GATEWAY": "10.0.0.1"}
    [nic] = iu.instance_rpc_dict(context.cfg, inst)["nics"]
    assert nic["netinfo"]["name"] == "n" and nic["network"] == net_uuid


def test_verify_reports_group_connected_to_missing_network(context: MasterContext) -> None:
    with context.cfg.locked() as data:
        group = data.nodegroups[mt.GROUP_UUID]
        group.networks = {"0000-gone": {"mode": "bridged", "link": "br0", "vlan": ""}}
        problems = config_verify.verify(data)
        group.networks = {}
    assert any("field 'networks' refers to unknown network '0000-gone'" in p for p in problems)
