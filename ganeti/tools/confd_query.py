"""confd-query: ask the cluster's confd servers a question from the command line.

``confd-query [options] TYPE [ARGUMENT...]`` sends one query to every
master candidate (or the ``--server`` addresses) and prints the freshest
answer (highest configuration serial). Types are Ganeti's request names,
case-insensitive, ``-`` or ``_`` alike, or their numbers::

  ping                                   config version
  node-role-byname NODE                  master, candidate, offline, drained, regular
  node-pip-by-instance-ip IP... [--link LINK]   primary IP of the instance's node
  cluster-master [name|ip|mnode_pip...]  master name, or the fields asked
  node-pip-list | mc-pip-list            primary IPs of all nodes / master candidates
  instances-ips-list [LINK]              instance IPs on a link (default link)
  node-drbd NODE                         DRBD minors of the node
  node-instances NODE                    the node's (primary, secondary) instances
  instance-disks INSTANCE                the instance's disks
  config-query PATH                      any allowed configuration value by path

Exit status: 0 answered, 1 the servers answered with an error, 2 bad
usage, 3 no server answered (or the key or server list can't be read).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ganeti import confd, constants, errors, pathutils, serializer
from ganeti.confd import client as confd_client
from ganeti.confd import config_query, protocol

EXIT_OK = 0
EXIT_ERROR_REPLY = 1
EXIT_USAGE = 2
EXIT_NO_ANSWER = 3

#: Short names accepted beside Ganeti's (e.g. node-role for NODE_ROLE_BYNAME).
_ALIASES = {"NODE_ROLE": confd.REQ_NODE_ROLE_BYNAME, "GET": confd.REQ_CONFIG_QUERY}
_TYPES = {name: number for number, name in confd.REQUEST_NAMES.items()}
_FIELD_CODES = {name: code for code, name in confd.REQFIELD_NAMES.items()}


def request_type(text: str) -> int:
    """A request type from its name (any case, - or _) or number."""
    key = text.strip().upper().replace("-", "_")
    if key.isdigit():
        return int(key)
    number = _TYPES.get(key, _ALIASES.get(key))
    if number is None:
        raise argparse.ArgumentTypeError(
            "unknown query type %r; known: %s" % (text, ", ".join(
                name.lower().replace("_", "-") for name in confd.REQUEST_NAMES.values())))
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confd-query", description="Query the cluster's confd servers.",
        epilog=__doc__.split("\n\n", 2)[2] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("type", nargs="?", type=request_type, help="query type")
    parser.add_argument("arguments", nargs="*", help="the query's arguments")
    parser.add_argument("--json", action="store_true",
                        help="print the reply as JSON (answer, status, serial, server)")
    parser.add_argument("-s", "--server", action="append", default=[], metavar="ADDRESS",
                        help="ask this server (repeatable; default: the master "
                             "candidates listed in ssconf)")
    parser.add_argument("-p", "--port", type=int, default=constants.DEFAULT_CONFD_PORT,
                        help="confd UDP port (default: %(default)s)")
    parser.add_argument("-t", "--timeout", type=float, default=confd_client.DEFAULT_TIMEOUT,
                        help="seconds to wait for replies (default: %(default)s)")
    parser.add_argument("--link", help="NIC link for node-pip-by-instance-ip")
    parser.add_argument("--list-paths", action="store_true",
                        help="list the paths config-query may read, and exit")
    return parser


def build_query(req_type: int, arguments: list[str], link: str | None) -> Any:
    """The query value of a request; ValueError names a bad argument."""
    def count(low: int, high: int) -> None:
        if not low <= len(arguments) <= high:
            wanted = str(low) if low == high else "%d to %d" % (low, high)
            if high > 99:
                wanted = "at least %d" % low
            raise ValueError("%s takes %s argument(s), got %d"
                             % (confd.REQUEST_NAMES.get(req_type, req_type), wanted,
                                len(arguments)))

    if req_type in (confd.REQ_PING, confd.REQ_NODE_PIP_LIST, confd.REQ_MC_PIP_LIST):
        count(0, 0)
        return None
    if req_type in (confd.REQ_NODE_ROLE_BYNAME, confd.REQ_NODE_DRBD,
                    confd.REQ_NODE_INSTANCES, confd.REQ_INSTANCE_DISKS,
                    confd.REQ_CONFIG_QUERY):
        count(1, 1)
        return arguments[0]
    if req_type == confd.REQ_INSTANCES_IPS_LIST:
        count(0, 1)
        return arguments[0] if arguments else None
    if req_type == confd.REQ_NODE_PIP_BY_INSTANCE_IP:
        count(1, 1000)
        query: dict[str, Any] = ({confd.REQQ_IP: arguments[0]} if len(arguments) == 1
                                 else {confd.REQQ_IPLIST: arguments})
        if link:
            query[confd.REQQ_LINK] = link
        return query
    if req_type == confd.REQ_CLUSTER_MASTER:
        if not arguments:
            return None
        unknown = [a for a in arguments if a.lower() not in _FIELD_CODES]
        if unknown:
            raise ValueError("unknown cluster-master field(s) %s; known: %s"
                             % (", ".join(unknown), ", ".join(_FIELD_CODES)))
        return {confd.REQQ_FIELDS: [_FIELD_CODES[a.lower()] for a in arguments]}
    # A type we don't know the shape of: pass the argument through as is.
    count(0, 1)
    return arguments[0] if arguments else None


def format_answer(req_type: int, answer: Any) -> str:
    """The answer as a person reads it."""
    if req_type == confd.REQ_NODE_ROLE_BYNAME and isinstance(answer, int):
        return confd.NODE_ROLE_NAMES.get(answer, str(answer))
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list) and all(isinstance(a, str | int) for a in answer):
        return "\n".join(str(a) for a in answer)
    return serializer.dump(answer, pretty=True).rstrip("\n")


def run(argv: list[str] | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    stderr = err or sys.stderr
    parser = _parser()
    options = parser.parse_intermixed_args(argv)
    if options.list_paths:
        print("\n".join(config_query.allowed_paths()), file=stdout)
        return EXIT_OK
    if options.type is None:
        parser.print_usage(stderr)
        print("confd-query: error: a query type is needed", file=stderr)
        return EXIT_USAGE
    try:
        query = build_query(options.type, options.arguments, options.link)
    except ValueError as problem:
        print("confd-query: error: %s" % problem, file=stderr)
        return EXIT_USAGE
    if options.timeout <= 0:
        print("confd-query: error: --timeout must be positive, got %s" % options.timeout,
              file=stderr)
        return EXIT_USAGE
    try:
        if options.server:
            client = confd_client.ConfdClient(protocol.load_hmac_key(pathutils.current()),
                                              options.server, options.port, options.timeout)
        else:
            client = confd_client.ConfdClient.from_ssconf(port=options.port,
                                                          timeout=options.timeout)
        with client:
            result = client.query(options.type, query)
    except errors.GenericError as problem:
        print("confd-query: %s" % problem, file=stderr)
        return EXIT_NO_ANSWER
    reply = result.best.reply
    if options.json:
        print(serializer.dump({"status": reply.status, "answer": reply.answer,
                               "serial": reply.serial, "server": result.server,
                               "replies": len(result.replies)}, pretty=True), end="",
              file=stdout)
    elif result.ok:
        print(format_answer(options.type, reply.answer), file=stdout)
    if not result.ok:
        if not options.json:
            print("confd-query: %s (from %s, serial %d)"
                  % (confd_client.describe_error(reply), result.server, reply.serial),
                  file=stderr)
        return EXIT_ERROR_REPLY
    return EXIT_OK


def main() -> None:
    sys.exit(run())
