"""Group commit of config.data: one write for the saves of many jobs.

A save verifies and serializes the configuration under the configuration
lock and *stages* the bytes here; the saving thread then lets the lock go
and *waits* until config.data on disk holds its change (or a newer one).
The first waiter to find no write under way writes the newest staged
bytes (temporary file, fsync, rename, directory fsync); waiters arriving
meanwhile are covered by the next write, so N concurrent saves cost one or
two writes instead of N, and the lock is never held during disk I/O.

Nobody is told "saved" before the bytes holding the change are durable. If
a write fails, the in-memory configuration goes back to the last durable
bytes (``reload``) and every save not yet durable fails with
``ConfigWriteError``: an *epoch* counts these resets, and a save staged in
an older epoch than the current one was dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ganeti import errors
from ganeti.utils import io


class ConfigWriteError(errors.ConfigurationError):
    """config.data could not be written; unsaved changes were dropped."""


@dataclass(frozen=True)
class SaveToken:
    """What a saving thread waits for: its epoch and serial number."""

    epoch: int
    serial: int


class ConfigLock:
    """The configuration's reentrant lock, with actions run when it is let go.

    A save (under the lock) registers what must follow it (waiting for the
    write, then the save hooks); that runs once the saving thread releases
    its outermost hold of the lock, before the mutator returns, so neither
    disk I/O nor distribution holds up the other threads.
    """

    def __init__(self) -> None:
        self._rlock = threading.RLock()
        self._local = threading.local()

    def __enter__(self) -> bool:
        self._rlock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return True

    def __exit__(self, *_exc: object) -> None:
        depth = self._local.depth - 1
        self._local.depth = depth
        pending = None
        if depth == 0:
            pending = getattr(self._local, "after_release", None)
            self._local.after_release = None
        self._rlock.release()
        if pending is not None:
            pending()

    def after_release(self, action: Callable[[], None]) -> None:
        """Run ``action`` when this thread lets the lock go (the caller holds it);
        a later registration in the same hold replaces an earlier one."""
        self._local.after_release = action


class GroupWriter:
    """Writes staged configuration bytes to ``path``, one write per group."""

    def __init__(self, path: str, durable: bytes, serial: int,
                 reload: Callable[[bytes, Callable[[], None]], None]) -> None:
        """``durable``/``serial``: what the file holds now. ``reload(raw, reset)``
        must, under the configuration lock, restore the in-memory state from
        ``raw`` and call ``reset()`` (after a failed write)."""
        self._path = path
        self._reload = reload
        self._cond = threading.Condition()
        self._epoch = 0
        self._staged: tuple[SaveToken, bytes] | None = None
        self._durable_raw = durable
        self._durable = SaveToken(0, serial)
        self._writing = False
        self._failures: dict[int, str] = {}
        self.writes = 0  # for tests and benchmarks

    def durable_serial(self) -> int:
        """The serial number of what config.data on disk holds."""
        with self._cond:
            return self._durable.serial

    def stage(self, serial: int, raw: bytes) -> SaveToken:
        """Queue the newest bytes (the caller holds the configuration lock)."""
        with self._cond:
            token = SaveToken(self._epoch, serial)
            self._staged = (token, raw)
            return token

    def wait(self, token: SaveToken) -> None:
        """Return once the change of ``token`` is on disk; ConfigWriteError if
        it was dropped because a write failed."""
        with self._cond:
            while True:
                self._check_epoch(token)
                if self._durable.serial >= token.serial:
                    return
                if not self._writing:
                    break
                self._cond.wait()
            self._writing = True
            staged = self._staged
            self._staged = None
        assert staged is not None  # our own change is staged or already durable
        written, raw = staged
        try:
            io.write_file_atomic(self._path, raw, mode=0o600)
        except OSError as err:
            reason = "Writing %s failed: %s" % (self._path, err)
            self._reload(self._durable_raw, lambda: self._reset(reason))
        except BaseException:
            with self._cond:  # not written: the next leader writes it (or newer)
                if self._staged is None:
                    self._staged = staged
            raise
        else:
            with self._cond:
                self.writes += 1
                self._durable_raw = raw
                self._durable = written
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
        with self._cond:
            self._check_epoch(token)

    def _check_epoch(self, token: SaveToken) -> None:
        if token.epoch != self._epoch:
            raise ConfigWriteError("%s; the change was not saved (the configuration is"
                                   " back to its last saved state, serial %d)"
                                   % (self._failures[token.epoch], self._durable.serial))

    def _reset(self, reason: str) -> None:
        """After a failed write (configuration lock held): drop staged changes."""
        with self._cond:
            self._failures[self._epoch] = reason
            self._epoch += 1
            self._staged = None
