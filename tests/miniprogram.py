"""The mini-program for the test run: Node found (≥ 18), its packages installed (``npm ci``, once), and
each build made once per run into a folder of the run's own (``MP_OUTPUT``), never over the
developer's ``miniprogram/dist``.  Without Node the tests skip saying how to get it; under
REQUIRE_MINIPROGRAM=1 (CI) they fail instead."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "miniprogram"
SCREENSHOTS = Path(os.environ.get("MINIPROGRAM_SCREENSHOTS")
                   or Path(__file__).parent.parent / "build" / "miniprogram-screenshots")


def _refuse(message):
    if os.environ.get("REQUIRE_MINIPROGRAM") == "1":
        pytest.fail(message)
    pytest.skip(message)


def node():
    """``npm``'s path once Node ≥ 18 and the packages are there (``npm ci`` when they are not)."""
    npm, executable = shutil.which("npm"), shutil.which("node")
    if not npm or not executable:
        _refuse("the mini-program's tests need Node.js 18 or newer (e.g. apt-get install nodejs npm, or nodejs.org)")
    version = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        _refuse(f"the mini-program's tests need Node.js 18 or newer, not {version}")
    if not (ROOT / "node_modules" / ".bin" / "taro").exists():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, "npm ci failed:\n" + done.stdout[-3000:] + done.stderr[-3000:]
    return npm


def build(npm, target, output, **env):
    """``taro build --type target`` into ``output``; the completed process (asserting success)."""
    done = run_build(npm, target, output, **env)
    assert done.returncode == 0, f"build {target} failed:\n" + done.stdout[-4000:] + done.stderr[-4000:]
    return done


def run_build(npm, target, output, **env):
    environment = {**os.environ, "MP_OUTPUT": str(output), "BROWSERSLIST_IGNORE_OLD_DATA": "1", **env}
    return subprocess.run([npm, "run", f"build:{target}"], cwd=ROOT, capture_output=True, text=True,
                          env=environment, timeout=600)
