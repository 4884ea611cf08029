"""The node RPC table: one registry built from the declaration modules."""

from __future__ import annotations

import importlib

import pytest

from ganeti import errors, ht
from ganeti.rpc import defs_node, table
from ganeti.rpc.procedure import Arg, Isolation, Procedure, Timeout

NODE_PROCEDURES = {
    "version", "node_info", "node_verify", "upload_file", "write_ssconf_files",
    "jobqueue_update", "jobqueue_update_many", "jobqueue_rename", "jobqueue_purge",
    "jobqueue_set_drain_flag",
    "hooks_runner", "master_node_name", "node_leave_cluster", "test_delay",
    "config_read", "node_stop_master", "jobqueue_get_drain_flag",
    "node_demote_from_mc", "node_ensure_daemon",
    "node_activate_master_ip", "node_deactivate_master_ip",
    "storage_modify", "storage_execute", "node_volumes",
}


def test_table_holds_every_declared_procedure() -> None:
    declared: list[str] = []
    for module_name in table.DEFINITION_MODULES:
        declared.extend(p.name for p in importlib.import_module(module_name).PROCEDURES)
    assert sorted(table.PROCEDURES) == sorted(declared)
    assert NODE_PROCEDURES <= set(table.PROCEDURES)
    assert {p.name for p in defs_node.PROCEDURES} == NODE_PROCEDURES


def test_duplicate_names_are_refused() -> None:
    proc = Procedure("twice", (), ht.TNone, "ganeti.backend.node:version")
    with pytest.raises(errors.ProgrammerError, match="'twice' is declared twice"):
        table.build([proc, proc])


def test_get_names_unknown_procedures() -> None:
    assert table.get("version").name == "version"
    with pytest.raises(errors.ProgrammerError, match="Unknown RPC procedure 'nope'"):
        table.get("nope")


@pytest.mark.parametrize("name", sorted(NODE_PROCEDURES))
def test_node_backends_resolve(name: str) -> None:
    proc = table.get(name)
    function = proc.backend_function()
    assert callable(function)
    assert function.__name__ == name


def test_long_or_external_work_runs_in_children() -> None:
    for name in ("node_verify", "hooks_runner"):
        assert table.get(name).isolation is Isolation.CHILD
    # node_info serves every list with live fields: a thread, its commands time out.
    assert table.get("node_info").isolation is Isolation.THREAD
    assert table.get("version").isolation is Isolation.INLINE
    assert table.get("version").timeout is Timeout.URGENT


def test_argument_checks_name_the_argument() -> None:
    proc = table.get("upload_file")
    with pytest.raises(errors.TypeEnforcementError, match="argument 'mode'"):
        proc.check_args(["/var/lib/ganeti/config.data", [0, "x"], "0644", 0, 0, 0, 0])
    with pytest.raises(errors.TypeEnforcementError, match="argument 'data'"):
        proc.check_args(["/var/lib/ganeti/config.data", [2, "x"], 0o644, 0, 0, 0, 0])
    proc.check_args(["/var/lib/ganeti/config.data", [1, "eJw="], 0o644, "root", 0, 0, 1.5])


def test_describe_lists_every_procedure() -> None:
    text = table.describe()
    for name in table.PROCEDURES:
        assert "\n%s(" % name in "\n" + text
    assert "upload_file(file_name: an absolute path" in text


def test_procedure_with_own_declaration_module() -> None:
    extra = Procedure("extra_proc", (Arg("x", ht.TInt),), ht.TInt,
                      "ganeti.backend.node:version")
    merged = table.build([*table.PROCEDURES.values(), extra])
    assert merged["extra_proc"] is extra
