"""The classification benchmark runs, is deterministic, and prints its figures."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_classify.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_classify", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_seed_gives_the_same_records(bench):
    assert bench.make_records(50, 7) == bench.make_records(50, 7)
    assert bench.make_records(50, 7) != bench.make_records(50, 8)


def test_main_prints_rates_and_the_share_outside_classify(bench, capsys):
    bench.main(["--records", "300"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("records: 300 ")
    labels = [line.split(":")[0] for line in lines]
    figures = ["generate seconds", "classify seconds", "classify records/second", "end-to-end records/second",
               "share of time outside classify()"]
    assert labels == ["records", "load average (1, 5, 15 min) at start", "stalled", *(f"{clock} {figure}" for clock in ("wall", "cpu") for figure in figures)]
    assert lines[-1].endswith("%")
