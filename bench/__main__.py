"""Run every benchmark and write their figures to bench/RESULTS.md (``make bench``)."""
from __future__ import annotations

import contextlib
import importlib
import io
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

MODULES = ["bench.bench_classify", "bench.bench_salesforce", "bench.bench_hubspot", "bench.bench_sync",
           "bench.bench_people", "bench.bench_mapfuzz", "bench.bench_openapi_fuzz",
           "bench.bench_card", "bench.bench_day_counts"]
#: Sections of RESULTS.md written by hand (benchmarks too long for `make bench`, such as
#: ``python -m bench.bench_scale``, and hand runs with their reading); kept as they are when the
#: file is regenerated.
KEPT_SECTIONS = ("## Classification rate", "## Syncs near the API minimum", "## Day counts over 24 hours",
                 "## People pass", "## API fuzzing", "## App card latency", "## Hostile maps",
                 "## Many portals on Celery", "## Worker isolation", "## Map history",
                 "## Record list pages", "## Big HubSpot org",
                 "## Big Salesforce org through Bulk API 2.0", "## Journey analytics",
                 "## The store at scale", "## Workspace funnel and page",
                 "## Test suite wall time")


def main() -> None:
    """Run each benchmark's ``main([])``, echo its output, and record it in RESULTS.md."""
    sections = []
    for name in MODULES:
        buffer = io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(_Tee(sys.stdout, buffer)):
            print(f"== {name}")
            importlib.import_module(name).main([])
        sections.append((name, buffer.getvalue(), time.monotonic() - started))
    out = Path(__file__).with_name("RESULTS.md")
    kept = _kept_sections(out.read_text()) if out.exists() else []
    lines = ["# Benchmark results", "",
             f"Latest run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
             f"{platform.python_implementation()} {platform.python_version()} "
             "(2 cores, the project's standard machine). Regenerate with `make bench`.", ""]
    for name, text, seconds in sections:
        lines += [f"## {name} ({seconds:.0f} s)", "", "```", text.rstrip(), "```", ""]
    out.write_text("\n".join(lines + kept))
    print(f"wrote {out}")


def _kept_sections(text: str) -> list[str]:
    """The lines of each section of ``text`` named in KEPT_SECTIONS, up to the next section."""
    kept: list[str] = []
    keeping = False
    for line in text.splitlines():
        if line.startswith("## "):
            keeping = line.startswith(KEPT_SECTIONS)
        if keeping:
            kept.append(line)
    return kept


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)


if __name__ == "__main__":
    main()
