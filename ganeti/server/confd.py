"""ganeti-confd: answers signed configuration queries over UDP (port 1814).

Runs on master candidates (elsewhere it exits with ``EXIT_NOTCANDIDATE``,
as Ganeti's does, so ``daemon-util start-all`` can skip it). It answers
from an in-memory ``Snapshot`` of config.data and reloads it when the file
changes: pyinotify watches the data directory from a thread (config.data
is replaced by rename), a stat check every few seconds catches anything
missed, reloads happen at most once per second, and a file that fails to
load leaves the previous configuration in service.

Packets without the magic, badly signed or with a timestamp more than
five minutes off are dropped without a reply; each kind is counted and
logged at debug level. Without ``-b`` it listens on this node's primary
IP (from ssconf).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ganeti import confd, constants, daemon, errors, netutils, pathutils, ssconf
from ganeti.confd import protocol, queries, snapshot

logger = logging.getLogger("ganeti.confd")

#: Receive buffer asked of the kernel, so bursts of queries are not dropped.
_RCVBUF = 4 * 1024 * 1024
#: Seconds between the responder's checks for a stop request.
_STOP_CHECK_INTERVAL = 0.5


class Stats(Counter[str]):
    """Packets by outcome: answered, bad_magic, bad_signature, stale."""


class Responder(threading.Thread):
    """Answers request datagrams from the current snapshot, in its own thread.

    A plain blocking receive/answer/send loop: per packet it costs much less
    than an event-loop callback, and the event loop stays free for reloads
    and signals.
    """

    def __init__(self, sock: socket.socket, key: bytes,
                 current: Callable[[], snapshot.Snapshot | None], stats: Stats) -> None:
        super().__init__(name="confd-responder", daemon=True)
        self._sock = sock
        self._key = key
        self._current = current
        self.stats = stats
        self._stopping = threading.Event()

    def run(self) -> None:
        sock, key, current, stats = self._sock, self._key, self._current, self.stats
        sock.settimeout(_STOP_CHECK_INTERVAL)
        while not self._stopping.is_set():
            try:
                data, addr = sock.recvfrom(confd.MAX_PACKET_SIZE + 1)
            except TimeoutError:
                continue
            except OSError as err:
                if self._stopping.is_set():
                    break
                logger.debug("Receive error: %s", err)
                continue
            try:
                packet = respond(data, key, current(), stats, addr)
                if packet is not None:
                    sock.sendto(packet, addr)
            except OSError as err:
                logger.debug("Can't reply to %s: %s", addr[0], err)
            except Exception:  # a bug: log it, keep serving
                logger.exception("Error handling a packet from %s", addr[0])

    def stop(self) -> None:
        self._stopping.set()
        self.join(2 * _STOP_CHECK_INTERVAL + 1)


def respond(data: bytes, key: bytes, snap: snapshot.Snapshot | None, stats: Stats,
            addr: tuple[Any, ...] = ("?",)) -> bytes | None:
    """The reply packet to one request packet, or None to drop it."""
    if not data.startswith(confd.MAGIC):
        stats["bad_magic"] += 1
        logger.debug("Dropped a packet without the confd magic from %s", addr[0])
        return None
    try:
        request = protocol.parse_request(data, key)
    except protocol.StaleRequest as err:
        stats["stale"] += 1
        logger.debug("Dropped a request from %s: %s", addr[0], err)
        return None
    except errors.SignatureError as err:
        stats["bad_signature"] += 1
        logger.debug("Dropped a request from %s: %s", addr[0], err)
        return None
    reply = queries.answer(snap, request)
    packet = protocol.pack_reply(reply, key, request.rsalt)
    if len(packet) > confd.MAX_PACKET_SIZE:
        packet = protocol.pack_reply(queries.too_large(reply, len(packet)), key,
                                     request.rsalt)
    stats["answered"] += 1
    return packet


class ConfigWatcher:
    """Keeps ``snapshot`` current with config.data (see the module doc)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.snapshot: snapshot.Snapshot | None = None
        self._stat: tuple[int, int, int, int] | None = None
        self._changed = asyncio.Event()
        self._last_load = 0.0
        self._notifier: Any = None

    def _file_stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)

    def load_now(self) -> None:
        """Load (at start-up); raises if the file can't be used."""
        stat = self._file_stat()
        with open(self.path, "rb") as handle:
            raw = handle.read()
        self.snapshot = snapshot.load(raw)
        self._stat = stat
        self._last_load = time.monotonic()
        logger.info("Loaded configuration serial %d", self.snapshot.serial)

    def _reload(self) -> str:
        """Load the file again (in a worker thread); a message for the log."""
        stat = self._file_stat()
        if stat is not None and stat == self._stat:
            return ""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
            new = snapshot.load(raw)
        except (OSError, errors.GenericError) as err:
            self._stat = stat  # don't retry the same broken file until it changes
            return "Can't load %s, still serving serial %s: %s" % (
                self.path, self.snapshot.serial if self.snapshot else "none", err)
        self.snapshot = new
        self._stat = stat
        return "Reloaded configuration, serial %d" % new.serial

    def notify(self) -> None:
        """Something changed (called in the loop's thread)."""
        self._changed.set()

    def start_inotify(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the directory (config.data is replaced by rename) from a thread."""
        try:
            import pyinotify
        except ImportError as err:
            logger.warning("pyinotify unavailable (%s); checking config.data every %.0f s",
                           err, confd.RELOAD_CHECK_INTERVAL)
            return
        name = os.path.basename(self.path)
        watcher = self

        class Handler(pyinotify.ProcessEvent):
            def process_default(self, event: Any) -> None:
                if event.name == name:
                    loop.call_soon_threadsafe(watcher.notify)

        manager = pyinotify.WatchManager()
        mask = pyinotify.IN_MOVED_TO | pyinotify.IN_CLOSE_WRITE | pyinotify.IN_DELETE
        manager.add_watch(os.path.dirname(self.path), mask)
        self._notifier = pyinotify.ThreadedNotifier(manager, Handler())
        self._notifier.daemon = True
        self._notifier.start()

    def stop(self) -> None:
        if self._notifier is not None:
            with contextlib.suppress(Exception):
                self._notifier.stop()
            self._notifier = None

    async def run(self, stopping: asyncio.Event) -> None:
        """Reload on notification or periodic check, at most once per second."""
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), confd.RELOAD_CHECK_INTERVAL)
            self._changed.clear()
            wait = self._last_load + confd.RELOAD_RATELIMIT - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                self._changed.clear()  # the reload below covers these changes too
            message = await loop.run_in_executor(None, self._reload)
            if message:
                self._last_load = time.monotonic()
                logger.info("%s", message)


def _default_bind(paths: pathutils.Paths) -> str:
    """This node's primary IP from ssconf, else every address."""
    with contextlib.suppress(errors.GenericError):
        ips = ssconf.SimpleStore(paths).get_node_primary_ips()
        address = ips.get(netutils.my_hostname())
        if address:
            return address
    return "0.0.0.0"


def _check_candidate(paths: pathutils.Paths) -> None:
    store = ssconf.SimpleStore(paths)
    try:
        candidates = store.get_master_candidates()
    except errors.GenericError as err:
        raise errors.ConfigurationError("this node is not in a cluster (%s)" % err) from err
    me = netutils.my_hostname()
    if me not in candidates:
        raise SystemExit(constants.EXIT_NOTCANDIDATE)


class ConfdDaemon(daemon.Daemon):
    name = constants.CONFD
    description = "Configuration query daemon: answers signed UDP queries"
    default_port = constants.DEFAULT_CONFD_PORT
    default_bind = ""

    def __init__(self) -> None:
        self._key = b""
        self._sock: socket.socket | None = None
        self._watcher: ConfigWatcher | None = None
        self.stats = Stats()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--no-candidate-check", action="store_true",
                            help="serve even if ssconf does not list this node as a "
                                 "master candidate")

    def prepare(self, options: argparse.Namespace) -> None:
        paths = pathutils.current()
        if not options.no_candidate_check:
            try:
                _check_candidate(paths)
            except SystemExit:
                sys.stderr.write("%s: this node (%s) is not a master candidate; not "
                                 "starting\n" % (self.name, netutils.my_hostname()))
                raise
        self._key = protocol.load_hmac_key(paths)
        self._watcher = ConfigWatcher(paths.config_file)
        try:
            self._watcher.load_now()
        except OSError as err:
            raise errors.ConfigurationError("can't read %s: %s"
                                            % (paths.config_file, err.strerror)) from err
        bind = options.bind or _default_bind(paths)
        options.bind = bind
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        try:
            sock.bind((bind, options.port))
        except OSError as err:
            sock.close()
            raise errors.GenericError("can't listen on %s UDP port %d: %s"
                                      % (bind, options.port, err.strerror)) from err
        self._sock = sock

    async def serve(self, options: argparse.Namespace, stopping: asyncio.Event,
                    ready: Callable[[], None]) -> None:
        assert self._sock is not None and self._watcher is not None
        watcher = self._watcher
        loop = asyncio.get_running_loop()
        responder = Responder(self._sock, self._key, lambda: watcher.snapshot, self.stats)
        responder.start()
        watcher.start_inotify(loop)
        reloader = asyncio.ensure_future(watcher.run(stopping))
        logger.info("Serving confd on %s UDP port %d (pid %d), configuration serial %s",
                    options.bind, options.port, os.getpid(),
                    watcher.snapshot.serial if watcher.snapshot else "none")
        ready()
        try:
            await stopping.wait()
        finally:
            reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reloader
            watcher.stop()
            responder.stop()
            self._sock.close()
            logger.info("Packets: %s", ", ".join("%s %d" % item
                                                 for item in sorted(self.stats.items()))
                        or "none")


def main(argv: list[str] | None = None) -> int:
    return daemon.run_daemon(ConfdDaemon(), argv)
