"""Copying bytes from one node to another through the master, in chunks, with progress.

Used by ``gnt-instance move`` (disk images) and ``gnt-backup`` (export dumps):
the source node's read procedure and the target's write procedure are given
as callables, so the loop, the cancellation checks and the progress lines are
written once. Chunks travel base64-encoded, as RPC arguments are JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from ganeti.cmdlib.base import FeedbackFn, LogicalUnit

#: Bytes read per RPC call.
CHUNK_SIZE = 4 * 1024 * 1024


def decoded_length(data: str) -> int:
    """How many bytes a base64 text carries."""
    return len(data) * 3 // 4 - data.count("=")


def copy_chunks(lu: LogicalUnit, read: Callable[[int], str], write: Callable[[int, str], None],
                total: int, progress: Callable[[int, int], str], feedback_fn: FeedbackFn,
                *, create_empty: bool = False) -> int:
    """Copy until ``read(offset)`` gives nothing; the bytes copied.

    ``progress(percent, offset)`` words the line shown every 10 %; with
    ``create_empty`` an empty source still gets written once, so the target
    file exists.
    """
    offset, reported = 0, -1
    while True:
        lu.check_cancel()
        data = read(offset)
        if not data and (offset or not create_empty):
            break
        write(offset, data)
        if not data:
            break
        offset += decoded_length(data)
        percent = min(100, offset * 100 // max(1, total))
        if percent // 10 != reported // 10:
            feedback_fn(progress(percent, offset))
            reported = percent
    return offset
