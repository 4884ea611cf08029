#!/bin/sh
# Generates ./configure and Makefile.in from configure.ac and Makefile.am
# (needs autoconf and automake). Then: ./configure && make && make install.
set -e
cd "$(dirname "$0")"
exec autoreconf --install --force
