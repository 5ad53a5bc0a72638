"""Running the ``journey`` command the way a user's shell does."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

JOURNEY = str(Path(sys.executable).with_name("journey"))


def journey(*args: str, env: dict, check: bool = True, timeout: int = 120):
    """Run ``journey ARGS``; with ``check``, fail the test (with its stderr) on a non-zero exit."""
    result = subprocess.run([JOURNEY, *args], env=env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"journey {' '.join(args)} -> {result.returncode}\n{result.stderr}")
    return result


def connect_sandbox(crm: Any, name: str, map_text: str, *, env: dict, tmp_path: Path) -> None:
    """``journey connect`` the sandbox ``crm`` (a ``tests.sync.crms.SandboxCrm``) as ``name``,
    provision its fields and apply ``map_text``, as an admin does in a shell."""
    info = crm.info
    if crm.crm == "salesforce":
        where = ["--instance-url", info["instance_url"], "--ca-file", info["ca_file"]]
    else:
        where = ["--base-url", info["base_url"]]
    journey("connect", crm.crm, "--name", name, "--access-token", info["access_token"], *where,
            env=env)
    journey("provision", name, env=env)
    map_file = tmp_path / f"{name}-map.yaml"
    map_file.write_text(map_text)
    journey("map", "apply", name, str(map_file), env=env)


def database_url(env: dict) -> str:
    """The SQLite database of the shell whose environment is ``env``."""
    return f"sqlite:///{Path(env['JOURNEY_DATA_DIR']) / 'journey.sqlite3'}"


#: Lease and CRM call timing for the crash tests: a write a killed process had in flight is
#: settled ``IN_FLIGHT_SECONDS`` after it was sent (lease/3 + connect + read + margin), long enough
#: for the next process to run to its end inside that time even on a loaded machine (the tests do
#: not wait it out: they move the dead process's stamps back by it, see
#: ``tests.kill_nine.age_in_flight``); a latency of ``LANDING_MS`` keeps a call on its way past the
#: start of the next process, and the tests wait for it to land.
IN_FLIGHT = {"JOURNEY_LEASE_SECONDS": "3", "JOURNEY_CRM_CONNECT_TIMEOUT": "1",
             "JOURNEY_CRM_READ_TIMEOUT": "60", "JOURNEY_IN_FLIGHT_MARGIN": "1"}
IN_FLIGHT_SECONDS = 3 / 3 + 1 + 60 + 1
LANDING_MS = 5000

def slow_sync(crm: Any, name: str, *, env: dict, latency_ms: int) -> subprocess.Popen:
    """Start ``journey sync NAME`` with every call to the sandbox ``crm`` taking ``latency_ms``
    (long enough to kill the process in the middle of one)."""
    crm.faults(latency_ms=latency_ms)
    return subprocess.Popen([JOURNEY, "sync", name], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
