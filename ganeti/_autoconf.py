"""Install-time settings.

This file is the source tree's default; ``./configure`` regenerates it from
``_autoconf.py.in`` so that an installed copy carries the prefix, sysconfdir
and localstatedir given to configure. ``pathutils`` is the only reader.
"""

PACKAGE_VERSION = "0.1.0"
PREFIX = "/usr"
SYSCONFDIR = "/etc"
LOCALSTATEDIR = "/var"
