"""A writer killed at any moment leaves a loadable, valid config.data.

A helper process saves a large configuration in a loop; it is SIGKILLed at
random moments, many times. After each kill the file must parse and verify
(the old or the new version, never a torn one), the serial number must be
one the writer reached, and temporary files must not pile up.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from ganeti import config
from ganeti.objects import ConfigData

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from config_scale import build_config  # noqa: E402

KILLS = 30


def _temp_files(path: str) -> list[str]:
    prefix = ".%s.tmp" % os.path.basename(path)
    return [e for e in os.listdir(os.path.dirname(path)) if e.startswith(prefix)]


def _serial_on_disk(path: str) -> int:
    with open(path, "rb") as handle:
        raw = handle.read()
    data = config.load_config_data(raw)  # reader path: no clean-up, no writer
    problems = config.config_verify.verify(data)
    assert problems == [], problems[:5]
    return data.serial_no


def test_kill_during_save_never_leaves_a_torn_config(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "config.data")
    config.ConfigWriter.create(path, ConfigData.from_dict(build_config(200, 2500, seed=7)))
    rng = random.Random(1234)
    reported = _serial_on_disk(path)
    interrupted_saves = 0
    for _kill in range(KILLS):
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "config_crash_writer.py"),
                                 path], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            output, _ = proc.communicate()
        serials = [int(line) for line in output.split()]
        if serials:
            reported = serials[-1]
        on_disk = _serial_on_disk(path)
        # The last save the writer reported is on disk; at most one more
        # (finished but not yet reported) may follow it.
        assert reported <= on_disk <= reported + 1
        reported = on_disk
        leftovers = _temp_files(path)
        assert len(leftovers) <= 1, leftovers
        interrupted_saves += len(leftovers)
    # The next writer clears what a killed one left behind.
    config.ConfigWriter(path)
    assert _temp_files(path) == []
    print("kills: %d, interrupted mid-write: %d, final serial %d"
          % (KILLS, interrupted_saves, reported))
