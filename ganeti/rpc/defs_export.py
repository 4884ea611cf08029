"""Node RPC procedures of instance exports and imports (gnt-backup).

Declarations only; the implementations live in ``ganeti.backend.export``.
Paths are relative to the node's export directory. Dumps travel between
nodes in base64 chunks through the master, as ``gnt-instance move``'s disks do.
"""

from __future__ import annotations

from ganeti import ht
from ganeti.rpc.procedure import Arg, Isolation, Procedure, Timeout

_MOD = "ganeti.backend.export"

_PATH = Arg("path", ht.TNonEmptyString, "the export's path, relative to the export directory")
_NAME = Arg("name", ht.TNonEmptyString, "the dump's file name inside the export")
_INSTANCE = Arg("instance", ht.WithDesc(ht.TDict, "an instance dictionary"),
                "the instance (filled parameters)")
_INDEX = Arg("index", ht.TNonNegativeInt, "the disk's index")
_DEBUG = Arg("debug", ht.TNonNegativeInt, "OS script debug level")


def _proc(name: str, args: tuple[Arg, ...], result: ht.Check, doc: str,
          timeout: Timeout = Timeout.NORMAL,
          isolation: Isolation = Isolation.THREAD) -> Procedure:
    return Procedure(name=name, args=args, result=result, backend="%s:%s" % (_MOD, name),
                     timeout=timeout, isolation=isolation, doc=doc)


PROCEDURES: tuple[Procedure, ...] = (
    _proc("export_list", (), ht.TListOf(ht.TNonEmptyString),
          "Names of the exports on this node.", timeout=Timeout.FAST),
    _proc("export_info", (_PATH,), ht.TString,
          "The config.ini text of an export.", timeout=Timeout.FAST),
    _proc("export_remove", (_PATH,), ht.TNone,
          "Remove an export (or a staging directory); a missing one is no error.",
          isolation=Isolation.CHILD),
    _proc("finalize_export",
          (Arg("instance_name", ht.TNonEmptyString, "the exported instance's name"),
           Arg("config_text", ht.TString, "the export's config.ini")),
          ht.TNone, "Write config.ini into <name>.new and rename it to <name>."),
    _proc("export_file_size", (_PATH, _NAME), ht.TNonNegativeInt,
          "Size in bytes of a dump.", timeout=Timeout.URGENT),
    _proc("export_read_chunk",
          (_PATH, _NAME,
           Arg("offset", ht.TNonNegativeInt, "byte offset"),
           Arg("length", ht.TPositiveInt, "bytes to read at most")),
          ht.TString, "Bytes of a dump from offset, base64-encoded; '' at the end."),
    _proc("export_write_chunk",
          (_PATH, _NAME,
           Arg("offset", ht.TNonNegativeInt, "byte offset (0 starts a new file)"),
           Arg("data", ht.TString, "base64-encoded bytes")),
          ht.TNone, "Write bytes into a dump at offset."),
    _proc("export_disk", (_INSTANCE, _INDEX, _PATH, _NAME, _DEBUG),
          ht.TDict, "Run the OS export script of one disk into a dump; returns"
          " {size, predicted}.", timeout=Timeout.FOUR_HOURS, isolation=Isolation.CHILD),
    _proc("import_disk", (_INSTANCE, _INDEX, _PATH, _NAME, _DEBUG),
          ht.TNone, "Run the OS import script of one disk, fed with a dump.",
          timeout=Timeout.FOUR_HOURS, isolation=Isolation.CHILD),
)
