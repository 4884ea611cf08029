"""ganeti-rapi: the remote API daemon (HTTPS on port 5080, luxi to masterd).

Runs on the master node only (ssconf names the master; on any other node
it refuses to start, so after a master failover it runs where the master
is). ``prepare`` loads the RAPI certificate and binds the port before
detaching, so a missing certificate or a busy port is reported in the
caller's terminal. Authentication: the users file (HTTP Basic) and the
token file (Bearer), both re-read when they change; authorization: the
policy file. See man/ganeti-rapi.rst.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import ssl
from collections.abc import Callable

from aiohttp import web

from ganeti import constants, errors, netutils, pathutils, ssconf
from ganeti.daemon import Daemon, run_daemon
from ganeti.rapi import DEFAULT_MAX_BODY_SIZE, openapi, server
from ganeti.rapi.auth import Authenticator, TokenFileBackend, UsersFileBackend
from ganeti.rapi.baserlib import LuxiPool, Service, lu_registry_opcodes
from ganeti.rapi.policy import Authorizer, PolicyError, parse_policy
from ganeti.utils import argtypes

logger = logging.getLogger("ganeti.rapi")

DEFAULT_MAX_CLIENTS = 1000
DEFAULT_LUXI_THREADS = 200


def check_master(paths: pathutils.Paths, node_name: str) -> None:
    """Refuse to run on a node ssconf does not name as the master."""
    try:
        master = ssconf.SimpleStore(paths).read_value(ssconf.KEY_MASTER_NODE).strip()
    except errors.SsconfError:
        return  # no ssconf (yet): nothing contradicts running here
    if master and master != node_name:
        raise errors.GenericError("this node (%s) is not the master node (ssconf names %s);"
                                  " ganeti-rapi runs on the master only" % (node_name,
                                                                             master))


def tls_context(cert_file: str, key_file: str | None) -> ssl.SSLContext:
    """Present the RAPI certificate; clients are not asked for one."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as err:
        raise errors.GenericError("cannot load the RAPI certificate %s%s: %s"
                                  % (cert_file, " (key %s)" % key_file if key_file else "",
                                     err)) from err
    return ctx


class RapiDaemon(Daemon):
    name = constants.RAPI
    description = "Remote API daemon: Ganeti's RAPI v2 over HTTPS"
    default_port = constants.DEFAULT_RAPI_PORT

    def __init__(self) -> None:
        self._paths = pathutils.current()
        self._sock: socket.socket | None = None
        self._ssl: ssl.SSLContext | None = None
        #: The users/tokens files and the policy, once serving (re-read on SIGHUP).
        self._reloadable: list[Authenticator | Authorizer] = []

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--no-ssl", action="store_true",
                            help="serve plain HTTP (testing only)")
        parser.add_argument("-C", "--ssl-cert", default=None, metavar="FILE",
                            help="certificate (and key) to present (default: rapi.pem)")
        parser.add_argument("-K", "--ssl-key", default=None, metavar="FILE",
                            help="private key, if not in the certificate file")
        parser.add_argument("--require-authentication", action="store_true", default=True,
                            help="refuse anonymous requests (the default)")
        parser.add_argument("--allow-anonymous-reads", dest="require_authentication",
                            action="store_false",
                            help="let anonymous clients read (GET), as Ganeti did by default")
        parser.add_argument("--max-clients", type=argtypes.positive_int,
                            default=DEFAULT_MAX_CLIENTS,
                            help="connections the kernel queues before they are accepted"
                                 " (listen backlog; default: %(default)s)")
        parser.add_argument("--max-body-size", type=argtypes.positive_int,
                            default=DEFAULT_MAX_BODY_SIZE, metavar="BYTES",
                            help="largest request body accepted (default: %(default)s)")
        parser.add_argument("--users-file", default=None, metavar="FILE",
                            help="users file (default: rapi/users in the data directory)")
        parser.add_argument("--tokens-file", default=None, metavar="FILE",
                            help="hashed bearer tokens (default: rapi/tokens)")
        parser.add_argument("--policy-file", default=None, metavar="FILE",
                            help="authorization policy (default: rapi/policy)")

    def prepare(self, options: argparse.Namespace) -> None:
        check_master(self._paths, netutils.my_hostname())
        policy_file = options.policy_file or self._paths.rapi_policy_file
        try:
            with open(policy_file, encoding="utf-8") as handle:
                parse_policy(handle.read(), policy_file)
        except FileNotFoundError:
            pass
        except (OSError, PolicyError) as err:
            raise errors.GenericError(str(err)) from err
        if not options.no_ssl:
            self._ssl = tls_context(options.ssl_cert or self._paths.rapi_cert_file,
                                    options.ssl_key)
        sock = socket.socket(socket.AF_INET6 if ":" in options.bind else socket.AF_INET,
                             socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((options.bind, options.port))
        except OSError as err:
            sock.close()
            raise errors.GenericError("cannot listen on %s:%d: %s"
                                      % (options.bind, options.port, err.strerror)) from err
        sock.listen(options.max_clients)
        self._sock = sock

    async def serve(self, options: argparse.Namespace, stopping: asyncio.Event,
                    ready: Callable[[], None]) -> None:
        assert self._sock is not None
        authenticator = Authenticator([
            UsersFileBackend(options.users_file or self._paths.rapi_users_file),
            TokenFileBackend(options.tokens_file or self._paths.rapi_tokens_file),
        ])
        authorizer = Authorizer(options.policy_file or self._paths.rapi_policy_file)
        self._reloadable = [authenticator, authorizer]
        luxi_pool = LuxiPool(self._paths.master_socket, DEFAULT_LUXI_THREADS)
        service = Service(luxi_pool, authenticator, authorizer,
                          require_authentication=options.require_authentication,
                          supported_opcodes=lu_registry_opcodes())
        app = server.build_app(service, options.max_body_size, openapi.build_document)
        runner = web.AppRunner(app, access_log=logging.getLogger("ganeti.rapi.access")
                               if options.debug else None, handle_signals=False)
        await runner.setup()
        site = web.SockSite(runner, self._sock, ssl_context=self._ssl,
                            backlog=options.max_clients)
        await site.start()
        logger.info("Serving the remote API on %s:%d (%s)", options.bind, options.port,
                    "plain HTTP" if self._ssl is None else "HTTPS")
        ready()
        try:
            await stopping.wait()
        finally:
            self._reloadable = []
            await runner.cleanup()
            luxi_pool.close()
            authenticator.close()
            authorizer.close()

    def reload(self) -> None:
        # inotify misses some changes (a users file that is a symlink to a file
        # elsewhere, edits over NFS): SIGHUP forces a re-read, as in Ganeti.
        for files in self._reloadable:
            files.reload()
        logger.info("Users, tokens and policy files will be re-read (SIGHUP)")


def main(argv: list[str] | None = None) -> int:
    return run_daemon(RapiDaemon(), argv)
