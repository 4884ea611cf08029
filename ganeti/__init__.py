"""A cluster virtualization manager in the tradition of Ganeti.

The package holds the library that every daemon and command shares; see
doc/ and DESIGN.md for the architecture.
"""
