"""Running the ``journey`` command the way a user's shell does."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

JOURNEY = str(Path(sys.executable).with_name("journey"))


def journey(*args: str, env: dict, check: bool = True, timeout: int = 120):
    """Run ``journey ARGS``; with ``check``, fail the test (with its stderr) on a non-zero exit."""
    result = subprocess.run([JOURNEY, *args], env=env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"journey {' '.join(args)} -> {result.returncode}\n{result.stderr}")
    return result
