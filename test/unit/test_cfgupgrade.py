"""tools/cfgupgrade: verifies, upgrades old layouts, and never writes a bad file."""

import io as stdio
import json
import os
import shutil
import subprocess
import sys

import pytest

from ganeti import config, constants
from ganeti.tools import cfgupgrade

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")


@pytest.fixture
def old_config(tmp_path):
    path = str(tmp_path / "config.data")
    shutil.copy(os.path.join(DATA, "ganeti-2.11-config.data"), path)
    return path


def run(*argv):
    out = stdio.StringIO()
    code = cfgupgrade.run(list(argv), out)
    return code, out.getvalue()


def test_upgrades_old_layout_and_keeps_a_backup(old_config):
    original = open(old_config, "rb").read()
    code, out = run("--path", old_config)
    assert code == 0, out
    assert "Upgraded" in out
    upgraded = json.load(open(old_config))
    assert upgraded["version"] == constants.CONFIG_VERSION
    assert upgraded["disks"], "disks moved to the top level"
    for inst in upgraded["instances"].values():
        assert all(isinstance(d, str) for d in inst["disks"])
    backups = [n for n in os.listdir(os.path.dirname(old_config)) if ".bak-" in n]
    assert len(backups) == 1
    assert open(os.path.join(os.path.dirname(old_config), backups[0]), "rb").read() == original
    config.ConfigWriter(old_config)  # the result loads and verifies
    code, out = run("--path", old_config)
    assert code == 0 and "nothing to do" in out


def test_dry_run_and_verify_only_change_nothing(old_config):
    before = open(old_config, "rb").read()
    assert run("--path", old_config, "--dry-run")[1].startswith("Would rewrite")
    code, out = run("--path", old_config, "--verify-only")
    assert code == 0 and "an upgrade is needed" in out
    assert open(old_config, "rb").read() == before


def test_inconsistent_config_is_reported_and_left_alone(tmp_path):
    data = json.load(open(os.path.join(DATA, "ganeti-3.0-config.data")))
    node = next(iter(data["nodes"].values()))
    node["group"] = "no-such-group"
    path = tmp_path / "config.data"
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    code, out = run("--path", str(path), "--force")
    assert code == 1
    assert "inconsistent" in out and "no-such-group" in out
    assert path.read_bytes() == before
    assert not [n for n in os.listdir(tmp_path) if ".bak-" in n]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"version": 1}', "'version' is 1"),
])
def test_unreadable_configs(tmp_path, content, message):
    path = tmp_path / "config.data"
    path.write_text(content)
    code, out = run("--path", str(path))
    assert code == 1 and message in out


def test_missing_file(tmp_path):
    code, out = run("--path", str(tmp_path / "nope"))
    assert code == 1 and "Cannot read" in out


def test_tool_script_runs(old_config):
    tool = os.path.join(os.path.dirname(DATA), "..", "tools", "cfgupgrade")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(os.path.join(DATA, "..", "..")))
    result = subprocess.run([sys.executable, tool, "--path", old_config, "--verify-only"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "verifies" in result.stdout
