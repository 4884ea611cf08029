"""Authentication of RAPI requests: pluggable backends, files reloaded on change.

A backend turns an ``Authorization`` header into a ``User`` (name and
options such as ``read``/``write``) or refuses it. Two real backends:

- ``UsersFileBackend``: HTTP Basic against Ganeti's users file
  (``rapi/users``: ``name password [options]`` per line; the password is
  plain text, ``{cleartext}…`` or ``{HA1}`` + hex MD5 of
  ``name:Ganeti Remote API:password``);
- ``TokenFileBackend``: ``Authorization: Bearer <token>`` against a file of
  hashed tokens (``rapi/tokens``: ``name hash [options]``, the hash
  ``{SHA256}<hex>`` or ``{PBKDF2-SHA256}<iterations>$<salt hex>$<hex>``).

Both files are re-read when they change (pyinotify on their directory, a
stat check where inotify is unavailable) and on ``reload()`` (SIGHUP).
``python -m ganeti.rapi.auth NAME [OPTIONS]`` prints a token file line for
a token read from standard input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ganeti.rapi import OPT_READ, OPT_WRITE, REALM

logger = logging.getLogger("ganeti.rapi.auth")

VALID_OPTIONS = frozenset([OPT_READ, OPT_WRITE])
SCHEME_CLEARTEXT = "{CLEARTEXT}"
SCHEME_HA1 = "{HA1}"
SCHEME_SHA256 = "{SHA256}"
SCHEME_PBKDF2 = "{PBKDF2-SHA256}"
DEFAULT_PBKDF2_ITERATIONS = 200_000
#: Milliseconds the inotify thread waits per poll (bounds how long close() takes).
_POLL_MS = 200


@dataclass(frozen=True)
class User:
    """An authenticated caller; ``write`` implies ``read`` (Ganeti's rule)."""

    name: str
    options: frozenset[str] = field(default_factory=frozenset)
    backend: str = ""

    def has(self, option: str) -> bool:
        return option in self.options or (option == OPT_READ and OPT_WRITE in self.options)


class AuthFailed(Exception):
    """Credentials were given and are wrong (the message is logged, not sent)."""


class Backend(Protocol):
    """One way to authenticate; ``scheme`` is the Authorization scheme it reads."""

    scheme: str
    name: str

    def authenticate(self, credentials: str) -> User:
        """The user for these credentials; ``AuthFailed`` if they are wrong."""
        ...

    def reload(self) -> None:
        ...


# -- watching files ---------------------------------------------------------------

class FileWatcher:
    """Tells whether a file changed since the last ``consume()``.

    Uses pyinotify on the file's directory (the files are replaced by
    rename, so the directory is what must be watched); without inotify, the
    file's stat signature is compared on each call.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._changed = threading.Event()
        self._changed.set()
        self._notifier: Any = None
        self._signature: tuple[int, int, int, int] | None = None
        self._start_inotify()

    def _start_inotify(self) -> None:
        directory = os.path.dirname(self.path) or "."
        try:
            os.makedirs(directory, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # asyncore, on 3.11
                import pyinotify
            basename = os.path.basename(self.path)
            changed = self._changed

            class Handler(pyinotify.ProcessEvent):
                def process_default(self, event: Any) -> None:
                    if event.name == basename:
                        changed.set()

            manager = pyinotify.WatchManager()
            mask = (pyinotify.IN_CLOSE_WRITE | pyinotify.IN_MOVED_TO | pyinotify.IN_CREATE
                    | pyinotify.IN_DELETE | pyinotify.IN_MOVED_FROM | pyinotify.IN_ATTRIB)
            result = manager.add_watch(directory, mask)
            if not result or result.get(directory, -1) < 0:
                raise OSError("cannot watch %s" % directory)
            # pyinotify's ThreadedNotifier uses deprecated threading calls; a plain
            # Notifier polled from our own thread does the same quietly.
            notifier = pyinotify.Notifier(manager, Handler(), timeout=_POLL_MS)
            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    if notifier.check_events():
                        notifier.read_events()
                        notifier.process_events()

            thread = threading.Thread(target=watch, name="watch-%s" % basename, daemon=True)
            thread.start()
            self._notifier = (notifier, stop, thread)
        except Exception as err:  # no inotify here: fall back to stat checks
            logger.info("Not watching %s with inotify (%s); checking it on each request",
                        self.path, err)
            self._notifier = None

    def _stat_signature(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def consume(self) -> bool:
        """True once after each change (and on the first call)."""
        if self._notifier is None:
            signature = self._stat_signature()
            if signature != self._signature:
                self._signature = signature
                self._changed.set()
        if self._changed.is_set():
            self._changed.clear()
            return True
        return False

    def force(self) -> None:
        self._changed.set()

    def close(self) -> None:
        if self._notifier is not None:
            notifier, stop, thread = self._notifier
            stop.set()
            thread.join()
            notifier.stop()
            self._notifier = None


class ReloadingFile:
    """Entries parsed from a file, re-parsed when the file changes."""

    def __init__(self, path: str, parse: Callable[[str, str], Any], empty: Any) -> None:
        self.path = path
        self._parse = parse
        self._empty = empty
        self._entries = empty
        self._lock = threading.Lock()
        self._watcher = FileWatcher(path)

    def current(self) -> Any:
        if self._watcher.consume():
            with self._lock:
                self._entries = self._load()
        return self._entries

    def _load(self) -> Any:
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            logger.info("%s does not exist: no entries", self.path)
            return self._empty
        except OSError as err:
            logger.error("Cannot read %s: %s; no entries", self.path, err)
            return self._empty
        try:
            entries = self._parse(text, self.path)
        except Exception:  # a parser bug must not leave the old entries in force silently
            logger.exception("Cannot parse %s; no entries", self.path)
            return self._empty
        logger.info("Loaded %s", self.path)
        return entries

    def reload(self) -> None:
        self._watcher.force()

    def close(self) -> None:
        self._watcher.close()


def _parse_options(text: str, where: str) -> frozenset[str]:
    options = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = options - VALID_OPTIONS
    if unknown:
        logger.warning("%s: ignoring unknown options %s (known: %s)", where,
                       ", ".join(sorted(unknown)), ", ".join(sorted(VALID_OPTIONS)))
    return options & VALID_OPTIONS


def _split_scheme(secret: str) -> tuple[str | None, str]:
    """``{HA1}abc`` -> ("{HA1}", "abc"); no scheme -> (None, secret)."""
    if secret.startswith("{"):
        end = secret.find("}")
        if end > 0:
            return secret[:end + 1].upper(), secret[end + 1:]
    return None, secret


# -- the users file (HTTP Basic) --------------------------------------------------

@dataclass(frozen=True)
class UserEntry:
    name: str
    password: str
    options: frozenset[str]


def parse_users_file(text: str, where: str = "users file") -> dict[str, UserEntry]:
    """Entries of a users file by name; bad lines are logged and skipped."""
    users: dict[str, UserEntry] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            logger.warning("%s line %d: expected 'name password [options]', skipped",
                           where, number)
            continue
        name, password = parts[0], parts[1]
        options = _parse_options(parts[2] if len(parts) > 2 else "", "%s line %d"
                                 % (where, number))
        users[name] = UserEntry(name, password, options)
    return users


def ha1_hash(username: str, password: str, realm: str = REALM) -> str:
    """The ``{HA1}`` password form's hex digest (MD5, as HTTP Digest's HA1)."""
    return hashlib.md5(("%s:%s:%s" % (username, realm, password)).encode("utf-8"),
                       usedforsecurity=False).hexdigest()


def check_password(entry: UserEntry, password: str, realm: str = REALM) -> bool:
    scheme, stored = _split_scheme(entry.password)
    if scheme is None or scheme == SCHEME_CLEARTEXT:
        return hmac.compare_digest(stored.encode("utf-8"), password.encode("utf-8"))
    if scheme == SCHEME_HA1:
        return hmac.compare_digest(stored.lower().encode("ascii", "replace"),
                                   ha1_hash(entry.name, password, realm).encode("ascii"))
    logger.warning("User %s: unknown password scheme %s, refusing", entry.name, scheme)
    return False


class UsersFileBackend:
    """HTTP Basic against Ganeti's users file."""

    scheme = "basic"
    name = "users-file"

    def __init__(self, path: str) -> None:
        self._file = ReloadingFile(path, parse_users_file, {})

    def authenticate(self, credentials: str) -> User:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise AuthFailed("malformed Basic credentials") from err
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthFailed("Basic credentials without a ':'")
        entry = self._file.current().get(username)
        if entry is None:
            raise AuthFailed("unknown user %r" % username)
        if not check_password(entry, password):
            raise AuthFailed("wrong password for user %r" % username)
        return User(username, entry.options, self.name)

    def reload(self) -> None:
        self._file.reload()

    def close(self) -> None:
        self._file.close()


# -- the token file (Bearer) ------------------------------------------------------

@dataclass(frozen=True)
class TokenEntry:
    name: str
    scheme: str
    digest: bytes
    salt: bytes = b""
    iterations: int = 0
    options: frozenset[str] = frozenset()

    def matches(self, token: str) -> bool:
        data = token.encode("utf-8")
        if self.scheme == SCHEME_SHA256:
            computed = hashlib.sha256(data).digest()
        else:
            computed = hashlib.pbkdf2_hmac("sha256", data, self.salt, self.iterations)
        return hmac.compare_digest(computed, self.digest)


def parse_token_hash(text: str) -> tuple[str, bytes, bytes, int]:
    """(scheme, digest, salt, iterations) of a stored token hash; ValueError if bad."""
    scheme, rest = _split_scheme(text)
    if scheme == SCHEME_SHA256:
        digest = bytes.fromhex(rest)
        if len(digest) != 32:
            raise ValueError("a SHA256 digest has 64 hex digits")
        return scheme, digest, b"", 0
    if scheme == SCHEME_PBKDF2:
        parts = rest.split("$")
        if len(parts) != 3:
            raise ValueError("expected {PBKDF2-SHA256}<iterations>$<salt hex>$<digest hex>")
        iterations = int(parts[0])
        if iterations < 1:
            raise ValueError("iterations must be positive")
        return scheme, bytes.fromhex(parts[2]), bytes.fromhex(parts[1]), iterations
    raise ValueError("unknown token hash scheme %r (known: %s, %s)"
                     % (scheme or text[:10], SCHEME_SHA256, SCHEME_PBKDF2))


def parse_token_file(text: str, where: str = "token file") -> list[TokenEntry]:
    entries: list[TokenEntry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            logger.warning("%s line %d: expected 'name hash [options]', skipped",
                           where, number)
            continue
        try:
            scheme, digest, salt, iterations = parse_token_hash(parts[1])
        except ValueError as err:
            logger.warning("%s line %d: %s; skipped", where, number, err)
            continue
        options = _parse_options(parts[2] if len(parts) > 2 else "", "%s line %d"
                                 % (where, number))
        entries.append(TokenEntry(parts[0], scheme, digest, salt, iterations, options))
    return entries


def hash_token(token: str, scheme: str = SCHEME_PBKDF2,
               iterations: int = DEFAULT_PBKDF2_ITERATIONS) -> str:
    """The stored form of a token (for the token file)."""
    if scheme == SCHEME_SHA256:
        return SCHEME_SHA256 + hashlib.sha256(token.encode("utf-8")).hexdigest()
    if scheme == SCHEME_PBKDF2:
        salt = os.urandom(16)
        digest = hashlib.pbkdf2_hmac("sha256", token.encode("utf-8"), salt, iterations)
        return "%s%d$%s$%s" % (SCHEME_PBKDF2, iterations, salt.hex(), digest.hex())
    raise ValueError("unknown token hash scheme %r" % scheme)


class TokenFileBackend:
    """``Authorization: Bearer <token>`` against a file of hashed tokens.

    Verified tokens are remembered (by their SHA-256) until the file changes,
    so the slow PBKDF2 check runs once per token, not once per request.
    """

    scheme = "bearer"
    name = "token-file"

    def __init__(self, path: str) -> None:
        self._file = ReloadingFile(path, parse_token_file, [])
        self._verified: dict[bytes, TokenEntry] = {}
        self._entries_seen: Any = None
        self._lock = threading.Lock()

    def authenticate(self, credentials: str) -> User:
        token = credentials.strip()
        if not token:
            raise AuthFailed("empty bearer token")
        entries = self._file.current()
        key = hashlib.sha256(token.encode("utf-8")).digest()
        with self._lock:
            if entries is not self._entries_seen:
                self._verified.clear()
                self._entries_seen = entries
            cached = self._verified.get(key)
        if cached is not None:
            return User(cached.name, cached.options, self.name)
        for entry in entries:
            if entry.matches(token):
                with self._lock:
                    if len(self._verified) > 10_000:
                        self._verified.clear()
                    self._verified[key] = entry
                return User(entry.name, entry.options, self.name)
        raise AuthFailed("unknown bearer token")

    def reload(self) -> None:
        self._file.reload()

    def close(self) -> None:
        self._file.close()


# -- the chain ----------------------------------------------------------------------

class Authenticator:
    """Picks the backend by the Authorization scheme; None for anonymous requests."""

    def __init__(self, backends: Sequence[Backend]) -> None:
        self.backends = list(backends)

    def authenticate(self, header: str | None) -> User | None:
        """The user, None without credentials; ``AuthFailed`` for bad ones."""
        if not header:
            return None
        scheme, _, credentials = header.strip().partition(" ")
        for backend in self.backends:
            if backend.scheme == scheme.lower():
                return backend.authenticate(credentials)
        raise AuthFailed("unsupported authorization scheme %r (supported: %s)"
                         % (scheme, ", ".join(sorted({b.scheme for b in self.backends}))))

    def reload(self) -> None:
        for backend in self.backends:
            backend.reload()

    def close(self) -> None:
        for backend in self.backends:
            close = getattr(backend, "close", None)
            if close is not None:
                close()


def main(argv: list[str] | None = None) -> int:
    """Print a token file line for the token on standard input."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-") or len(args) > 2:
        sys.stderr.write("usage: python -m ganeti.rapi.auth NAME [read|write] < token\n")
        return 2
    token = sys.stdin.readline().strip()
    if not token:
        sys.stderr.write("no token on standard input\n")
        return 1
    options = args[1] if len(args) > 1 else OPT_WRITE
    sys.stdout.write("%s %s %s\n" % (args[0], hash_token(token), options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
