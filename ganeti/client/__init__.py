"""The gnt-* commands: one module ``gnt_<name>.py`` with ``main()`` each."""
