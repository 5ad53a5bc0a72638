"""Running an npm project's own test suite from pytest.

Skips with the reason when node, npm or the project's node_modules are missing, unless
JOURNEY_REQUIRE_NODE=1 (CI sets it after ``npm ci``), in which case that is a failure (the same
switch as the Node conformance tests, through ``tests.support.require_or_skip``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import require_or_skip

ROOT = Path(__file__).resolve().parent.parent
#: A whole npm suite gets this long; each runs offline in a few seconds.
TIMEOUT_SECONDS = 300


def run_npm_tests(folder: Path) -> str:
    """Run ``npm test`` in ``folder``; return its output, fail the test with it when npm fails."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        require_or_skip("node", "node/npm are not installed (apt-get install nodejs npm)")
    if not (folder / "node_modules").is_dir():
        require_or_skip("node", f"{folder.relative_to(ROOT)}/node_modules is missing (run `npm ci` there)")
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    done = subprocess.run([npm, "test", "--silent"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_SECONDS, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"npm test in {folder.relative_to(ROOT)} failed:\n{output[-6000:]}")
    return output
