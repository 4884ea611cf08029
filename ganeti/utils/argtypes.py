"""Value types for command-line options (argparse ``type=``), shared by the
gnt-* commands and the daemons so every option rejects bad values alike."""

from __future__ import annotations

import argparse

from ganeti import errors

_TRUE_WORDS = frozenset(["true", "yes", "y", "on", "1"])
_FALSE_WORDS = frozenset(["false", "no", "n", "off", "0"])


def parse_bool(text: str, what: str) -> bool:
    """yes/no, true/false, on/off, y/n, 1/0; anything else names ``what``."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise errors.ParameterError("%s: expected yes or no, got %r" % (what, text))


def yes_no(text: str) -> bool:
    try:
        return parse_bool(text, "value")
    except errors.ParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _integer(text: str, minimum: int, expectation: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError("expected %s, got %r" % (expectation, text))
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "a non-negative integer")


def port(text: str) -> int:
    value = _integer(text, 1, "a port number from 1 to 65535")
    if value > 65535:
        raise argparse.ArgumentTypeError("expected a port number from 1 to 65535, got %r"
                                         % text)
    return value
