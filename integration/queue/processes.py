"""``journey`` processes started as children of this one: the job a process supervisor (systemd,
Kubernetes, the Procfile's runner) does in production, done here for the benchmarks and tests
that run workers and a scheduler on one machine."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from integration.config import Settings

#: What a Celery worker logs once it consumes from its queue.
READY = "ready."


class JourneyProcesses:
    """Child ``journey`` commands on ``settings`` (their database, keys, Redis prefix and timing),
    each logging to ``log_dir/<name>.log``; :meth:`stop` ends them all."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.env = {**os.environ, **settings.environment()}
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, stdout: int | IO | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``journey ARGS`` as ``name``; its output goes to its log unless ``stdout`` is
        given (``subprocess.PIPE`` to read what it prints; its log then gets stderr alone)."""
        log = open(self.log_dir / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "integration", *args],
                                env={**self.env, **(env or {})},
                                stdout=log if stdout is None else stdout,
                                stderr=subprocess.STDOUT if stdout is None else log,
                                start_new_session=True)  # a kill -9 of one hits no other
        log.close()  # the child holds its own copy
        self.procs[name] = proc
        return proc

    def start_workers(self, count: int, *, timeout: float = 120.0) -> list[subprocess.Popen]:
        """Start ``count`` Celery workers (``journey worker --pool solo``: one task at a time,
        so one process is one worker) and wait until each consumes from the queue."""
        first = len([n for n in self.procs if n.startswith("worker-")])
        names = [f"worker-{first + n}" for n in range(count)]
        procs = [self.start(name, "worker", "--pool", "solo", "--concurrency", "1",
                            env={"JOURNEY_LOG_LEVEL": "INFO"})  # Celery says "ready" at INFO
                 for name in names]
        deadline = time.monotonic() + timeout
        while not all(READY in self.log(name) for name in names):
            for name, proc in zip(names, procs):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not ready after {timeout:g} s")
            time.sleep(0.2)
        return procs

    def log(self, name_or_proc: str | subprocess.Popen) -> str:
        """What a child wrote to its log so far."""
        name = name_or_proc if isinstance(name_or_proc, str) else next(
            n for n, p in self.procs.items() if p is name_or_proc)
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every child still running (a worker finishes its task in hand), then kill
        whichever has not exited after ``timeout`` seconds."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
