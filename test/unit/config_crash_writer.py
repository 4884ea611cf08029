"""Helper process for test_config_crash: saves the configuration in a loop.

Usage: config_crash_writer.py CONFIG_PATH

Prints "ready" once the configuration is loaded, then, after every save,
the configuration serial number that save wrote (flushed), forever.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ganeti import config


def main() -> None:
    writer = config.ConfigWriter(sys.argv[1])
    instances = list(writer.get_all_instances_info().values())
    print("ready", flush=True)
    step = 0
    while True:
        inst = instances[step % len(instances)]
        inst.tags = [t for t in inst.tags if not t.startswith("crash:")] + ["crash:%d" % step]
        writer.update(inst)
        print(writer.get_config_serial(), flush=True)
        step += 1


if __name__ == "__main__":
    main()
