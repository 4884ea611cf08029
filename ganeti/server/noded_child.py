"""Runs one node RPC procedure in a child process of noded.

Usage: ``python -m ganeti.server.noded_child <procedure>`` with the JSON
argument list on stdin. The reply (``[true, result]`` or ``[false, encoded
error]``) goes to the original stdout; the backend's own output on fd 1 is
sent to stderr instead, so nothing it prints can corrupt the reply.

This is noded's fallback path: normally the fork server
(``ganeti.server.noded_zygote``) runs procedures through ``run_procedure``
without starting a new interpreter.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from ganeti import errors, serializer
from ganeti.rpc import table

#: Format of a child's log lines (noded logs them with the child's pid).
LOG_FORMAT = "%(levelname)s %(message)s"


def _run(name: str, raw_args: bytes) -> list[Any]:
    try:
        proc = table.get(name)
        args = serializer.load(raw_args)
        proc.check_args(args)
        return [True, proc.backend_function()(*args)]
    except (errors.GenericError, errors.QuitGanetiException) as err:
        return [False, errors.encode(err)]
    except Exception as err:  # a backend bug: report it with its class name
        logging.exception("%s failed unexpectedly", name)
        return [False, errors.encode(err)]


def run_procedure(name: str, raw_args: bytes) -> bytes:
    """The serialized reply of procedure ``name`` run on the JSON ``raw_args``."""
    reply = _run(name, raw_args)
    try:
        return serializer.dump_bytes(reply)
    except TypeError as err:
        return serializer.dump_bytes([False, errors.encode(errors.OpExecError(
            "%s: result is not serializable: %s" % (name, err)))])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: %s <procedure>  (arguments as JSON on stdin)\n" % argv[0])
        return 2
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints of the backend go to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=LOG_FORMAT)
    data = run_procedure(argv[1], sys.stdin.buffer.read())
    with os.fdopen(reply_fd, "wb") as out:
        out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
