"""Runs one node RPC procedure in a child process of noded.

Usage: ``python -m ganeti.server.noded_child <procedure>`` with the JSON
argument list on stdin. The reply (``[true, result]`` or ``[false, encoded
error]``) goes to the original stdout; the backend's own output on fd 1 is
sent to stderr instead, so nothing it prints can corrupt the reply.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from ganeti import errors, serializer
from ganeti.rpc import table


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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: %s <procedure>  (arguments as JSON on stdin)\n" % argv[0])
        return 2
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints of the backend go to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(levelname)s %(message)s")
    reply = _run(argv[1], sys.stdin.buffer.read())
    try:
        data = serializer.dump_bytes(reply)
    except TypeError as err:
        data = serializer.dump_bytes([False, errors.encode(errors.OpExecError(
            "%s: result is not serializable: %s" % (argv[1], err)))])
    with os.fdopen(reply_fd, "wb") as out:
        out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
