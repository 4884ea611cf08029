"""The lock manager of the master daemon.

Three layers, each usable alone:

``SharedLock``
    One lock, held by many sharers or by one exclusive owner. Waiters queue by
    priority (-20 highest … 19 lowest, as opcode priorities) and then in arrival
    order; the lock is handed over from the head of that queue only, so a
    waiting exclusive request holds back every later shared request of lower or
    equal priority (writers do not starve). Deleting a lock (its object was
    removed) makes every waiter fail with ``errors.LockError``.

``LockSet``
    The locks of one level, by name. Names are acquired in sorted order,
    all-or-nothing within a timeout. Acquiring the whole set (``ALL_SET``) also
    takes the set's own lock (shown as ``<level>/[lockset]``), which blocks
    additions to the set until it is released.

``LockManager``
    One ``LockSet`` per level and the rules that make deadlock impossible by
    construction: every owner acquires levels in one fixed global order, each
    level at most once, and only while holding the Big Ganeti Lock.

Level order (the project's decision, see issue 4)::

    cluster (the single lock "BGL") → node group → instance → node
        → node resource → network

Ganeti documents instance before node group; we use the issue's order. What
matters is that the order is one and global.

Owners are any hashable object other than ``None``; the job processor passes
one per job so that a worker thread can acquire on behalf of a job. With
``owner=None``, ``SharedLock`` and ``LockSet`` use the calling thread. An owner
must act from one thread at a time.

Timeouts: ``None`` waits forever, ``0`` tries without waiting; an acquisition
that times out returns ``False``/``None`` and leaves nothing held. Misuse (a
double acquisition, a release of what is not held, a level-order violation)
raises ``errors.ProgrammerError``; unknown or deleted lock names raise
``errors.LockError``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
import time
from collections.abc import Hashable, Iterable
from typing import Any, Final

from ganeti import constants, errors

Owner = Hashable

#: Lock levels, in the order every owner must acquire them.
LEVEL_CLUSTER: Final = 0
LEVEL_NODEGROUP: Final = 1
LEVEL_INSTANCE: Final = 2
LEVEL_NODE: Final = 3
LEVEL_NODE_RES: Final = 4
LEVEL_NETWORK: Final = 5

LEVELS: Final = (LEVEL_CLUSTER, LEVEL_NODEGROUP, LEVEL_INSTANCE, LEVEL_NODE,
                 LEVEL_NODE_RES, LEVEL_NETWORK)
#: Levels whose names change with the configuration (all but the cluster).
LEVELS_MOD: Final = frozenset(LEVELS) - {LEVEL_CLUSTER}

#: Level names as Ganeti shows them (monitor rows are "<level name>/<lock>").
LEVEL_NAMES: Final = {
    LEVEL_CLUSTER: "cluster",
    LEVEL_NODEGROUP: "nodegroup",
    LEVEL_INSTANCE: "instance",
    LEVEL_NODE: "node",
    LEVEL_NODE_RES: "node-res",
    LEVEL_NETWORK: "network",
}

#: The Big Ganeti Lock, the one lock of the cluster level.
BGL: Final = "BGL"
#: Pass as ``names`` to acquire every lock of a set (and the set itself).
ALL_SET: Final = None
#: Name of a set's own lock in the monitor ("instance/[lockset]").
LOCKSET_NAME: Final = "[lockset]"

MODE_EXCLUSIVE: Final = "exclusive"
MODE_SHARED: Final = "shared"

#: Fields of each lock monitor row (query resource "lock", gnt-debug locks).
LOCK_QUERY_FIELDS: Final = ("name", "mode", "owner", "pending")


def _owner_or_thread(owner: Owner | None) -> Owner:
    return threading.current_thread() if owner is None else owner


def owner_label(owner: Owner) -> Any:
    """How an owner appears in the monitor: ids as they are, threads by name."""
    if isinstance(owner, (str, int)):
        return owner
    if isinstance(owner, threading.Thread):
        return owner.name
    return str(owner)


def _check_timeout(timeout: float | None) -> None:
    if timeout is None:
        return
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or math.isnan(timeout) or timeout < 0):
        raise errors.ProgrammerError(
            "Lock timeout must be None (wait forever) or a number >= 0, got %r" % (timeout,))


def _check_priority(priority: int) -> None:
    if (type(priority) is not int
            or not constants.OP_PRIO_HIGHEST <= priority <= constants.OP_PRIO_LOWEST):
        raise errors.ProgrammerError(
            "Lock priority must be an integer from %d to %d, got %r" %
            (constants.OP_PRIO_HIGHEST, constants.OP_PRIO_LOWEST, priority))


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class _Waiter:
    """One pending request; the releaser grants it and wakes it directly."""

    __slots__ = ("cond", "failed", "granted", "key", "owner", "shared")

    def __init__(self, owner: Owner, shared: bool, key: tuple[int, int],
                 mutex: threading.Lock) -> None:
        self.owner = owner
        self.shared = shared
        self.key = key  # (priority, arrival number): lower goes first
        self.cond = threading.Condition(mutex)
        self.granted = False
        self.failed = False


def _waiter_key(waiter: _Waiter) -> tuple[int, int]:
    return waiter.key


class SharedLock:
    """A lock held shared by many owners or exclusively by one.

    Not recursive: acquiring a lock one already holds is a ProgrammerError.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._mutex = threading.Lock()
        self._exclusive: Owner | None = None
        self._shared: set[Owner] = set()
        self._queue: list[_Waiter] = []  # sorted by _Waiter.key
        self._arrivals = itertools.count()
        self._deleted = False

    def __repr__(self) -> str:
        return "<SharedLock %s>" % self.name

    # -- acquisition --------------------------------------------------------

    def acquire(self, shared: bool = False, timeout: float | None = None,
                priority: int = constants.OP_PRIO_NORMAL,
                owner: Owner | None = None) -> bool:
        """Acquires the lock; False if ``timeout`` passed first (nothing held).

        Raises errors.LockError if the lock is or gets deleted.
        """
        _check_timeout(timeout)
        _check_priority(priority)
        owner = _owner_or_thread(owner)
        with self._mutex:
            return self._acquire_locked(owner, bool(shared), timeout, priority)

    def _acquire_locked(self, owner: Owner, shared: bool, timeout: float | None,
                        priority: int) -> bool:
        if self._deleted:
            raise errors.LockError("Lock %s was deleted" % self.name)
        if self._exclusive == owner or owner in self._shared:
            raise errors.ProgrammerError(
                "Lock %s is already held by %s; locks are not recursive" %
                (self.name, owner_label(owner)))
        if not self._queue and self._compatible(shared):
            self._take(owner, shared)
            return True
        waiter = _Waiter(owner, shared, (priority, next(self._arrivals)), self._mutex)
        bisect.insort(self._queue, waiter, key=_waiter_key)
        self._grant_waiters()
        deadline = _deadline(timeout)
        try:
            while not (waiter.granted or waiter.failed):
                remaining = _remaining(deadline)
                if remaining == 0.0:
                    self._abandon(waiter)
                    return False
                waiter.cond.wait(remaining)
        except BaseException:  # e.g. KeyboardInterrupt: leave nothing behind
            self._abandon(waiter)
            raise
        if waiter.failed:
            raise errors.LockError("Lock %s was deleted while waiting for it" % self.name)
        return True

    def _abandon(self, waiter: _Waiter) -> None:
        """Withdraws a request, giving the lock back if it was granted meanwhile."""
        if waiter.granted:
            self._drop_holder(waiter.owner)
        elif not waiter.failed:
            self._queue.remove(waiter)
        # Leaving the head of the queue may let the waiters behind in.
        self._grant_waiters()

    def _drop_holder(self, owner: Owner) -> bool:
        if self._exclusive == owner:
            self._exclusive = None
        elif owner in self._shared:
            self._shared.discard(owner)
        else:
            return False
        return True

    def _compatible(self, shared: bool) -> bool:
        return self._exclusive is None and (shared or not self._shared)

    def _take(self, owner: Owner, shared: bool) -> None:
        if shared:
            self._shared.add(owner)
        else:
            self._exclusive = owner

    def _grant_waiters(self) -> None:
        """Hands the lock to waiters from the head of the queue, as far as it can."""
        queue = self._queue
        while queue:
            waiter = queue[0]
            if not self._compatible(waiter.shared):
                return
            self._take(waiter.owner, waiter.shared)
            del queue[0]
            waiter.granted = True
            waiter.cond.notify()

    # -- release, downgrade, delete -----------------------------------------

    def release(self, owner: Owner | None = None) -> None:
        owner = _owner_or_thread(owner)
        with self._mutex:
            if not self._drop_holder(owner):
                raise errors.ProgrammerError(
                    "Lock %s is not held by %s, cannot release it" %
                    (self.name, owner_label(owner)))
            if self._queue:
                self._grant_waiters()

    def downgrade(self, owner: Owner | None = None) -> None:
        """Changes an exclusive hold into a shared one (no-op if already shared)."""
        owner = _owner_or_thread(owner)
        with self._mutex:
            if owner in self._shared:
                return
            if self._exclusive != owner:
                raise errors.ProgrammerError(
                    "Lock %s is not held by %s, cannot downgrade it" %
                    (self.name, owner_label(owner)))
            self._exclusive = None
            self._shared.add(owner)
            if self._queue:
                self._grant_waiters()

    def delete(self, timeout: float | None = None,
               priority: int = constants.OP_PRIO_NORMAL,
               owner: Owner | None = None) -> bool:
        """Deletes the lock, acquiring it exclusively first unless already held so.

        Every waiter then fails with errors.LockError, as does any later
        acquisition. Returns False if the lock could not be acquired in time.
        """
        _check_timeout(timeout)
        _check_priority(priority)
        owner = _owner_or_thread(owner)
        with self._mutex:
            if owner in self._shared:
                raise errors.ProgrammerError(
                    "Lock %s is held shared by %s; deleting needs it exclusively" %
                    (self.name, owner_label(owner)))
            if self._exclusive != owner and not self._acquire_locked(
                    owner, False, timeout, priority):
                return False
            self._deleted = True
            self._exclusive = None
            for waiter in self._queue:
                waiter.failed = True
                waiter.cond.notify()
            self._queue.clear()
            return True

    # -- introspection -------------------------------------------------------

    @property
    def deleted(self) -> bool:
        return self._deleted

    def is_owned(self, shared: bool | None = None, owner: Owner | None = None) -> bool:
        """Whether ``owner`` holds the lock (in the given mode, if not None)."""
        owner = _owner_or_thread(owner)
        with self._mutex:
            if self._exclusive == owner:
                return shared is None or not shared
            if owner in self._shared:
                return shared is None or bool(shared)
            return False

    def pending_count(self) -> int:
        with self._mutex:
            return len(self._queue)

    def info(self) -> dict[str, Any]:
        """A lock monitor row: name, mode, owner, pending."""
        with self._mutex:
            if self._exclusive is not None:
                mode: str | None = MODE_EXCLUSIVE
                owners: list[Any] | None = [owner_label(self._exclusive)]
            elif self._shared:
                mode = MODE_SHARED
                owners = sorted((owner_label(o) for o in self._shared), key=str)
            else:
                mode = owners = None
            pending: list[list[Any]] = []
            for waiter in self._queue:
                wmode = MODE_SHARED if waiter.shared else MODE_EXCLUSIVE
                if waiter.shared and pending and pending[-1][0] == MODE_SHARED:
                    pending[-1][1].append(owner_label(waiter.owner))
                else:
                    pending.append([wmode, [owner_label(waiter.owner)]])
        return {"name": self.name, "mode": mode, "owner": owners, "pending": pending}


def _name_list(names: Iterable[str] | str, what: str) -> list[str]:
    """Validated, sorted, unique names; a single string is one name."""
    if isinstance(names, str):
        names = [names]
    result = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise errors.ProgrammerError(
                "Lock names of %s must be non-empty strings, got %r" % (what, name))
        result.add(name)
    return sorted(result)


class LockSet:
    """The locks of one level, plus the set's own lock guarding its membership."""

    def __init__(self, names: Iterable[str], level_name: str) -> None:
        self.level_name = level_name
        self._mutex = threading.Lock()
        self._locks: dict[str, SharedLock] = {
            name: SharedLock(self._full_name(name))
            for name in _name_list(names, level_name)}
        self._set_lock = SharedLock(self._full_name(LOCKSET_NAME))
        self._owned: dict[Owner, set[str]] = {}  # member locks held, per owner
        # Owners holding the whole set (its own lock), so that "does this owner
        # hold anything here" costs one mutex; add() borrows the lock unrecorded.
        self._whole_set_owners: set[Owner] = set()

    def __repr__(self) -> str:
        return "<LockSet %s>" % self.level_name

    def _full_name(self, name: str) -> str:
        return "%s/%s" % (self.level_name, name)

    # -- introspection -------------------------------------------------------

    def names(self) -> list[str]:
        with self._mutex:
            return sorted(self._locks)

    def owned(self, owner: Owner | None = None) -> frozenset[str]:
        """The member locks ``owner`` holds."""
        owner = _owner_or_thread(owner)
        with self._mutex:
            return frozenset(self._owned.get(owner, ()))

    def is_owned(self, owner: Owner | None = None) -> bool:
        """Whether ``owner`` holds anything here: members or the set's own lock."""
        owner = _owner_or_thread(owner)
        with self._mutex:
            return owner in self._owned or owner in self._whole_set_owners

    def owns_all(self, shared: bool | None = None, owner: Owner | None = None) -> bool:
        """Whether ``owner`` acquired the whole set (holds the set's own lock)."""
        return self._set_lock.is_owned(shared=shared, owner=_owner_or_thread(owner))

    def is_owned_in_mode(self, names: Iterable[str] | str, shared: bool | None = None,
                         owner: Owner | None = None) -> bool:
        """Whether ``owner`` holds every one of ``names`` (in the mode, if given)."""
        owner = _owner_or_thread(owner)
        wanted = _name_list(names, self.level_name)
        with self._mutex:
            held = self._owned.get(owner, set())
            if not held.issuperset(wanted):
                return False
            locks = [self._locks[name] for name in wanted]
        return all(lock.is_owned(shared=shared, owner=owner) for lock in locks)

    def info(self) -> list[dict[str, Any]]:
        """Monitor rows for the set's own lock and every member."""
        with self._mutex:
            locks = [self._set_lock, *self._locks.values()]
        return [lock.info() for lock in locks]

    # -- acquisition ---------------------------------------------------------

    def acquire(self, names: Iterable[str] | str | None,
                shared: bool = False, timeout: float | None = None,
                priority: int = constants.OP_PRIO_NORMAL,
                opportunistic: bool = False,
                owner: Owner | None = None) -> frozenset[str] | None:
        """Acquires ``names`` (or ``ALL_SET``) in sorted order.

        All-or-nothing: on timeout everything taken here is released and None
        is returned. ``ALL_SET`` first takes the set's own lock (in the same
        mode), then every member existing at that moment; members deleted
        meanwhile are skipped.

        Opportunistic acquisition takes, without waiting, whichever of the
        requested locks are free right now and returns them: zero or more
        names, never None for the members (the caller decides whether what it
        got is enough). With ``ALL_SET`` the set's own lock is still waited for
        within ``timeout``.

        Unknown names, or names deleted while waiting (not opportunistic),
        raise errors.LockError after releasing what was taken.
        """
        _check_timeout(timeout)
        _check_priority(priority)
        owner = _owner_or_thread(owner)
        shared = bool(shared)
        if self.is_owned(owner):
            raise errors.ProgrammerError(
                "%s already holds locks of level %s; acquire a level only once" %
                (owner_label(owner), self.level_name))
        deadline = _deadline(timeout)
        if names is ALL_SET:
            if not self._set_lock.acquire(shared, timeout, priority, owner):
                return None
            with self._mutex:
                self._whole_set_owners.add(owner)
                wanted = sorted(self._locks.items())
        else:
            wanted_names = _name_list(names, self.level_name)
            with self._mutex:
                missing = [name for name in wanted_names if name not in self._locks]
                wanted = [(name, self._locks[name]) for name in wanted_names
                          if name not in missing]
            if missing:
                raise errors.LockError("Unknown %s lock(s): %s" %
                                       (self.level_name, ", ".join(missing)))
        taken: list[str] = []
        try:
            for name, lock in wanted:
                member_timeout = 0.0 if opportunistic else _remaining(deadline)
                try:
                    got = lock.acquire(shared, member_timeout, priority, owner)
                except errors.LockError:
                    if names is ALL_SET or opportunistic:
                        continue
                    raise errors.LockError(
                        "%s lock %s was removed while waiting for it" %
                        (self.level_name, name)) from None
                if got:
                    with self._mutex:
                        self._owned.setdefault(owner, set()).add(name)
                    taken.append(name)
                elif not opportunistic:
                    self._release_names(owner, taken)
                    taken = []
                    if names is ALL_SET:
                        self._release_whole_set(owner)
                    return None
        except BaseException:
            self._release_names(owner, taken)
            if names is ALL_SET:
                self._release_whole_set(owner)
            raise
        return frozenset(taken)

    def _release_whole_set(self, owner: Owner) -> None:
        with self._mutex:
            self._whole_set_owners.discard(owner)
        self._set_lock.release(owner)

    def _release_names(self, owner: Owner, names: Iterable[str]) -> None:
        with self._mutex:
            held = self._owned.get(owner, set())
            locks = []
            for name in names:
                held.discard(name)
                locks.append(self._locks[name])
            if not held:
                self._owned.pop(owner, None)
        for lock in reversed(locks):
            lock.release(owner)

    def release(self, names: Iterable[str] | str | None = None,
                owner: Owner | None = None) -> None:
        """Releases ``names``, or (None) everything held here with the set's lock.

        The set's own lock is released only with a full release.
        """
        owner = _owner_or_thread(owner)
        if names is None:
            with self._mutex:
                held = sorted(self._owned.get(owner, ()))
                owns_set_lock = owner in self._whole_set_owners
            if not held and not owns_set_lock:
                raise errors.ProgrammerError(
                    "%s holds no lock of level %s to release" %
                    (owner_label(owner), self.level_name))
            self._release_names(owner, held)
            if owns_set_lock:
                self._release_whole_set(owner)
            return
        wanted = _name_list(names, self.level_name)
        with self._mutex:
            not_held = sorted(set(wanted) - self._owned.get(owner, set()))
        if not_held:
            raise errors.ProgrammerError(
                "%s does not hold %s lock(s) %s, cannot release them" %
                (owner_label(owner), self.level_name, ", ".join(not_held)))
        self._release_names(owner, wanted)

    def downgrade(self, names: Iterable[str] | str | None = None,
                  owner: Owner | None = None) -> None:
        """Makes exclusive holds shared: ``names``, or (None) all, set lock included."""
        owner = _owner_or_thread(owner)
        with self._mutex:
            held = self._owned.get(owner, set())
            wanted = sorted(held) if names is None else _name_list(names, self.level_name)
            not_held = sorted(set(wanted) - held)
            locks = [self._locks[name] for name in wanted if name in held]
        if not_held:
            raise errors.ProgrammerError(
                "%s does not hold %s lock(s) %s, cannot downgrade them" %
                (owner_label(owner), self.level_name, ", ".join(not_held)))
        for lock in locks:
            lock.downgrade(owner)
        if names is None and self._set_lock.is_owned(owner=owner):
            self._set_lock.downgrade(owner)

    # -- membership ----------------------------------------------------------

    def add(self, names: Iterable[str] | str, acquired: bool = False, shared: bool = False,
            priority: int = constants.OP_PRIO_NORMAL, owner: Owner | None = None) -> None:
        """Adds locks, optionally already held by ``owner``.

        Waits for the set's own lock exclusively (so it waits while anyone
        holds the whole set), unless ``owner`` holds it exclusively already.
        Holding members without the set's lock is refused: taking the set's
        lock after members would break the acquisition order. Existing names
        raise errors.LockError and nothing is added.
        """
        _check_priority(priority)
        owner = _owner_or_thread(owner)
        wanted = _name_list(names, self.level_name)
        if self._set_lock.is_owned(shared=True, owner=owner):
            raise errors.ProgrammerError(
                "%s holds level %s shared; adding locks needs it exclusively" %
                (owner_label(owner), self.level_name))
        take_set_lock = not self._set_lock.is_owned(owner=owner)
        if take_set_lock:
            if self.owned(owner):
                raise errors.ProgrammerError(
                    "%s holds some %s locks; release them or acquire the whole level"
                    " exclusively before adding locks" % (owner_label(owner), self.level_name))
            self._set_lock.acquire(False, None, priority, owner)
        try:
            with self._mutex:
                existing = [name for name in wanted if name in self._locks]
                if existing:
                    raise errors.LockError("%s lock(s) already exist: %s" %
                                           (self.level_name, ", ".join(existing)))
                for name in wanted:
                    lock = SharedLock(self._full_name(name))
                    if acquired:  # before publishing it, so this cannot wait
                        lock.acquire(shared, 0, priority, owner)
                        self._owned.setdefault(owner, set()).add(name)
                    self._locks[name] = lock
        finally:
            if take_set_lock:
                self._set_lock.release(owner)

    def remove(self, names: Iterable[str] | str, owner: Owner | None = None) -> list[str]:
        """Deletes locks ``owner`` holds exclusively; their waiters fail.

        Returns the names removed (all of them, in sorted order).
        """
        owner = _owner_or_thread(owner)
        wanted = _name_list(names, self.level_name)
        with self._mutex:
            held = self._owned.get(owner, set())
            locks = [(name, self._locks[name]) for name in wanted if name in held]
        if len(locks) != len(wanted) or not all(
                lock.is_owned(shared=False, owner=owner) for _, lock in locks):
            raise errors.ProgrammerError(
                "Removing %s locks %s needs them held exclusively by %s" %
                (self.level_name, ", ".join(wanted), owner_label(owner)))
        for name, lock in locks:
            lock.delete(owner=owner)
            with self._mutex:
                del self._locks[name]
                held.discard(name)
        with self._mutex:
            if not held:
                self._owned.pop(owner, None)
        return wanted


class LockManager:
    """Ganeti's lock manager: one LockSet per level, acquired in level order.

    Rules, checked per owner (violations raise errors.ProgrammerError):
    the BGL (cluster level) must be held before any other level; a level may
    be acquired only while the owner holds nothing at that level or any later
    one; the BGL may be released only once nothing else is held.
    """

    def __init__(self, nodes: Iterable[str] = (), node_groups: Iterable[str] = (),
                 instances: Iterable[str] = (), networks: Iterable[str] = ()) -> None:
        nodes = list(nodes)
        members = {
            LEVEL_CLUSTER: [BGL],
            LEVEL_NODEGROUP: node_groups,
            LEVEL_INSTANCE: instances,
            LEVEL_NODE: nodes,
            LEVEL_NODE_RES: nodes,
            LEVEL_NETWORK: networks,
        }
        self._sets = {level: LockSet(members[level], LEVEL_NAMES[level]) for level in LEVELS}

    def _lockset(self, level: int) -> LockSet:
        try:
            return self._sets[level]
        except (KeyError, TypeError):
            raise errors.ProgrammerError(
                "Unknown lock level %r; levels are %s" %
                (level, ", ".join("%d (%s)" % (lvl, LEVEL_NAMES[lvl]) for lvl in LEVELS))
            ) from None

    def _check_can_take_level(self, owner: Owner, level: int) -> None:
        """The level-order rule, before taking any lock at ``level``."""
        if level != LEVEL_CLUSTER and not self._sets[LEVEL_CLUSTER].is_owned(owner):
            raise errors.ProgrammerError(
                "%s must hold the BGL before acquiring %s locks" %
                (owner_label(owner), LEVEL_NAMES[level]))
        later = [lvl for lvl in LEVELS[level:] if self._sets[lvl].is_owned(owner)]
        if later:
            raise errors.ProgrammerError(
                "%s cannot acquire %s locks while holding %s locks (lock levels are"
                " acquired once each, in the order %s)" %
                (owner_label(owner), LEVEL_NAMES[level],
                 ", ".join(LEVEL_NAMES[lvl] for lvl in later),
                 " > ".join(LEVEL_NAMES[lvl] for lvl in LEVELS)))

    # -- acquisition and release --------------------------------------------

    def acquire(self, owner: Owner, level: int, names: Iterable[str] | str | None,
                shared: bool = False, timeout: float | None = None,
                priority: int = constants.OP_PRIO_NORMAL,
                opportunistic: bool = False) -> frozenset[str] | None:
        """Acquires ``names`` (or ``ALL_SET``) at ``level`` for ``owner``.

        Returns the names acquired, or None on timeout (nothing held then);
        see LockSet.acquire for ``ALL_SET`` and ``opportunistic``.
        """
        lockset = self._lockset(level)
        self._check_can_take_level(owner, level)
        if level == LEVEL_CLUSTER and names is not ALL_SET and \
                _name_list(names, LEVEL_NAMES[level]) != [BGL]:
            raise errors.ProgrammerError(
                "The cluster level has the single lock %r, asked for %r" % (BGL, names))
        return lockset.acquire(names, shared=shared, timeout=timeout, priority=priority,
                               opportunistic=opportunistic, owner=owner)

    def release(self, owner: Owner, level: int,
                names: Iterable[str] | str | None = None) -> None:
        """Releases ``names`` at ``level``, or (None) everything held there."""
        lockset = self._lockset(level)
        if level == LEVEL_CLUSTER:
            others = [LEVEL_NAMES[lvl] for lvl in LEVELS[1:] if self._sets[lvl].is_owned(owner)]
            if others:
                raise errors.ProgrammerError(
                    "%s cannot release the BGL while holding %s locks" %
                    (owner_label(owner), ", ".join(others)))
        lockset.release(names, owner=owner)

    def release_all(self, owner: Owner) -> None:
        """Releases everything ``owner`` holds, last level first."""
        for level in reversed(LEVELS):
            if self._sets[level].is_owned(owner):
                self._sets[level].release(owner=owner)

    def downgrade(self, owner: Owner, level: int,
                  names: Iterable[str] | str | None = None) -> None:
        """Makes exclusive holds at ``level`` shared (``names``, or all of them)."""
        self._lockset(level).downgrade(names, owner=owner)

    # -- membership ----------------------------------------------------------

    def add(self, owner: Owner, level: int, names: Iterable[str] | str,
            acquired: bool = False, shared: bool = False,
            priority: int = constants.OP_PRIO_NORMAL) -> None:
        """Adds locks at a modifiable level, optionally acquired by ``owner``.

        This takes the level's own lock, so it follows the same order rules
        as an acquisition, except that holding the whole level exclusively
        already is allowed.
        """
        lockset = self._lockset(level)
        if level not in LEVELS_MOD:
            raise errors.ProgrammerError("Locks cannot be added at the cluster level")
        if not lockset.owns_all(shared=False, owner=owner):
            self._check_can_take_level(owner, level)
        elif level + 1 in self._sets:
            self._check_can_take_level(owner, level + 1)
        lockset.add(names, acquired=acquired, shared=shared, priority=priority, owner=owner)

    def remove(self, owner: Owner, level: int, names: Iterable[str] | str) -> list[str]:
        """Deletes locks ``owner`` holds exclusively (their objects were removed)."""
        lockset = self._lockset(level)
        if level not in LEVELS_MOD:
            raise errors.ProgrammerError("The BGL cannot be removed")
        return lockset.remove(names, owner=owner)

    # -- introspection -------------------------------------------------------

    def names(self, level: int) -> list[str]:
        return self._lockset(level).names()

    def owned(self, owner: Owner, level: int) -> frozenset[str]:
        """The names ``owner`` holds at ``level``."""
        return self._lockset(level).owned(owner)

    def is_owned(self, owner: Owner, level: int, names: Iterable[str] | str | None = None,
                 shared: bool | None = None) -> bool:
        """Whether ``owner`` holds ``names`` (None: anything) at ``level``."""
        lockset = self._lockset(level)
        if names is None:
            return lockset.is_owned(owner)
        return lockset.is_owned_in_mode(names, shared=shared, owner=owner)

    def owns_all(self, owner: Owner, level: int, shared: bool | None = None) -> bool:
        """Whether ``owner`` acquired the whole of ``level`` (ALL_SET)."""
        return self._lockset(level).owns_all(shared=shared, owner=owner)

    def owned_levels(self, owner: Owner) -> list[int]:
        return [level for level in LEVELS if self._sets[level].is_owned(owner)]

    def query_locks(self) -> list[dict[str, Any]]:
        """The lock monitor: one row per lock, sorted by name.

        Rows have the fields of LOCK_QUERY_FIELDS: ``name`` ("instance/inst1"),
        ``mode`` ("exclusive", "shared" or None), ``owner`` (owner ids, or None
        when free) and ``pending`` ([[mode, [owner ids]], …] in queue order,
        consecutive shared waiters grouped). Each row is consistent; rows are
        not one atomic snapshot.
        """
        rows = [row for level in LEVELS for row in self._sets[level].info()]
        rows.sort(key=lambda row: row["name"])
        return rows
