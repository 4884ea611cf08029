"""Install-time settings.

This file is the source tree's default and is never rewritten. The
autotools build (``make``) generates the installed copy from
``_autoconf.py.in``, so that it carries the prefix, sysconfdir and
localstatedir given to ``./configure``. ``pathutils`` is the only reader.
"""

PACKAGE_VERSION = "0.1.0"
PREFIX = "/usr"
SYSCONFDIR = "/etc"
LOCALSTATEDIR = "/var"
