"""``python -m ganeti.opcodes --dump-json``: print the opcode schema."""

from __future__ import annotations

import argparse
import sys

from ganeti import serializer
from ganeti.opcodes import dump_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ganeti.opcodes",
        description="Print the schema of every opcode (parameters, checks, defaults, docs).")
    parser.add_argument("--dump-json", action="store_true", required=True,
                        help="print the schema as JSON on standard output")
    parser.parse_args(argv)
    sys.stdout.write(serializer.dump(dump_schema(), pretty=True))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
