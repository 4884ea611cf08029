"""Ganeti's query filter language, compiled to the list form ``ganeti.query`` runs.

Grammar (Ganeti's): comparisons ``field == value`` (also ``!=``, ``<``, ``<=``,
``>``, ``>=``), regular expressions ``field =~ /re/`` (``m/re/``, flags ``i``
and ``s``) and ``!~``, globs ``field =* "web*"`` and ``!*`` (only ``*`` and
``?`` are special), list membership ``"value" in field`` and ``not in``, a
bare field name (its value is true), ``not``, ``and``, ``or`` and
parentheses. Values are quoted strings, integers, ``true``/``false``.

``names_filter`` builds the filter for names given on a ``list`` command line
(exact names, globs), ``looks_like_filter`` tells a filter from a name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from ganeti import errors

_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<regex>m?/(?:[^/\\]|\\.)*/[is]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|=~|!~|=\*|!\*|<|>|\(|\))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w./-]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_./-]*)
""", re.VERBOSE)

_COMPARISONS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
#: Characters that make a command-line argument a filter rather than a name.
_FILTER_CHARS = frozenset("=!<>()\"'~ \t")


def _error(text: str, message: str) -> errors.QueryFilterParseError:
    return errors.QueryFilterParseError("Invalid filter %r: %s" % (text, message))


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise _error(text, "unexpected character %r at position %d" % (text[pos], pos))
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


def glob_to_regex(pattern: str) -> str:
    """A glob with ``*`` and ``?`` as an anchored regular expression."""
    return "^%s$" % fnmatch.translate(pattern).removeprefix("(?s:").removesuffix(")\\Z")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _error(self.text, "unexpected end")
        self.pos += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        index = self.pos + offset
        return index < len(self.tokens) and self.tokens[index] == ("word", word)

    def parse(self) -> list[Any]:
        result = self.parse_or()
        if self.peek() is not None:
            raise _error(self.text, "unexpected %r" % self.peek()[1])  # type: ignore[index]
        return result

    def parse_or(self) -> list[Any]:
        items = [self.parse_and()]
        while self.is_word("or"):
            self.pos += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ["|", *items]

    def parse_and(self) -> list[Any]:
        items = [self.parse_not()]
        while self.is_word("and"):
            self.pos += 1
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else ["&", *items]

    def parse_not(self) -> list[Any]:
        if self.is_word("not"):
            self.pos += 1
            return ["!", self.parse_not()]
        return self.parse_atom()

    def parse_atom(self) -> list[Any]:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            inner = self.parse_or()
            if self.take() != ("op", ")"):
                raise _error(self.text, "missing ')'")
            return inner
        if kind in ("string", "number") or (kind == "word" and value in ("true", "false")):
            # VALUE in FIELD / VALUE not in FIELD
            literal = self.literal(kind, value)
            negate = False
            if self.is_word("not") and self.is_word("in", 1):
                self.pos += 1
                negate = True
            if not self.is_word("in"):
                raise _error(self.text, "expected 'in' after the value %s" % value)
            self.pos += 1
            field = self.field()
            contains = ["=[]", field, literal]
            return ["!", contains] if negate else contains
        if kind != "word":
            raise _error(self.text, "expected a field name, got %r" % value)
        field = value
        token = self.peek()
        if token is None or token[0] != "op" or token[1] in ("(", ")"):
            return ["?", field]
        op = self.take()[1]
        if op in _COMPARISONS:
            return [_COMPARISONS[op], field, self.value()]
        if op in ("=~", "!~"):
            regex_kind, regex_text = self.take()
            if regex_kind != "regex":
                raise _error(self.text, "%s needs a regular expression like /re/" % op)
            compiled = ["=~", field, _regex(self.text, regex_text)]
            return ["!", compiled] if op == "!~" else compiled
        if op in ("=*", "!*"):
            pattern = self.value()
            if not isinstance(pattern, str):
                raise _error(self.text, "%s needs a quoted glob pattern" % op)
            compiled = ["=~", field, glob_to_regex(pattern)]
            return ["!", compiled] if op == "!*" else compiled
        raise _error(self.text, "unexpected operator %r" % op)

    def field(self) -> str:
        kind, value = self.take()
        if kind != "word":
            raise _error(self.text, "expected a field name, got %r" % value)
        return value

    def value(self) -> Any:
        kind, value = self.take()
        return self.literal(kind, value)

    def literal(self, kind: str, value: str) -> Any:
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "word" and value in ("true", "false"):
            return value == "true"
        raise _error(self.text, "expected a value, got %r" % value)


def _regex(text: str, token: str) -> str:
    body = token[1:] if token.startswith("m") else token
    end = body.rindex("/")
    pattern, flags = body[1:end], body[end + 1:]
    if flags:
        pattern = "(?%s)%s" % (flags, pattern)
    try:
        re.compile(pattern)
    except re.error as err:
        raise _error(text, "bad regular expression %r: %s" % (pattern, err)) from err
    return pattern


def parse(text: str) -> list[Any]:
    """The list form of a filter written in the query language."""
    if not text.strip():
        raise _error(text, "empty filter")
    return _Parser(text).parse()


def looks_like_filter(text: str) -> bool:
    """Whether a command-line argument is a filter expression rather than a name."""
    return any(char in _FILTER_CHARS for char in text)


def has_glob(name: str) -> bool:
    return any(char in name for char in "*?[")


def names_filter(field: str, names: Sequence[str]) -> list[Any] | None:
    """A filter for names from a command line: exact names, or globs (``web*``)."""
    if not names:
        return None
    parts: list[Any] = []
    for name in names:
        if has_glob(name):
            parts.append(["=~", field, glob_to_regex(name)])
        else:
            parts.append(["==", field, name])
    return parts[0] if len(parts) == 1 else ["|", *parts]


def make_filter(args: Sequence[str], force_filter: bool, field: str = "name"
                ) -> list[Any] | None:
    """The filter of a list command line (Ganeti's rules).

    ``-F`` (force_filter) treats the single argument as a filter; so does a
    single argument that looks like one; otherwise the arguments are names.
    An argument starting with '[' is taken as a filter in list form (JSON).
    """
    if force_filter or (len(args) == 1 and looks_like_filter(args[0])):
        if len(args) != 1:
            raise errors.OpPrereqError("A filter (-F) must be given as one argument, got %d"
                                       % len(args), errors.ECODE_INVAL)
        text = args[0]
        if text.lstrip().startswith("["):
            from ganeti import serializer

            try:
                loaded = serializer.load(text)
            except ValueError as err:
                raise _error(text, "not valid JSON: %s" % err) from err
            if not isinstance(loaded, list):
                raise _error(text, "a JSON filter must be a list")
            return loaded
        return parse(text)
    return names_filter(field, list(args))
