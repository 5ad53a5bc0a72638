"""Hostile map documents: a seeded generator of broken, huge and malicious maps, and a run over them.

Run: ``.venv/bin/python bench/bench_mapfuzz.py [--maps N] [--seed S]``. Each map is parsed in a child
process (so a runaway parse cannot take the benchmark down) with a 10-second and 1-GB limit. Prints
how many were accepted, rejected with located problems, crashed (any other exception, a timeout or
running out of memory) and the slowest parse. Wanted: 0 crashed, every parse within a second or two.
"""
from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import time
from typing import Callable, Iterator, Sequence

import yaml

from mapping import MapValidationError, default_map_text, parse_map

TIME_LIMIT_SECONDS = 10
MEMORY_LIMIT_BYTES = 1 << 30


def billion_laughs(rng: random.Random) -> str:
    """Nested aliases that expand to width**depth nodes (the 427-byte classic at width 9, depth 9)."""
    width, depth = rng.randint(6, 10), rng.randint(6, 10)
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, depth):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"stages: [*a{depth - 1}]")
    return "\n".join(lines) + "\n"


def recursive_alias(rng: random.Random) -> str:
    """An anchor that refers to itself: an endless structure."""
    kind = rng.choice(["&loop [*loop]", "&loop {key: *loop}", "&loop [a, [b, *loop]]"])
    return default_map_text() + f"\nextra: {kind}\n"


def deep_nesting(rng: random.Random) -> str:
    """Flow collections nested deeper than any parser stack should go."""
    depth = rng.choice([200, 1_000, 5_000, 50_000])
    opener, closer = rng.choice([("[", "]"), ("{a: ", "}")])
    return f"version: 1\nname: deep\nstages: {opener * depth}1{closer * depth}\n"


def huge_number(rng: random.Random) -> str:
    """A number in the place of expected days that is too long, infinite or not a number."""
    value = rng.choice(["1" * rng.randint(4_400, 20_000), "1e400", "-1e400", ".nan", ".inf",
                        "9" * 40, "0x" + "f" * 5_000, "1_000_000_000_000_000_000_000"])
    return default_map_text().replace("expected_days: 14", f"expected_days: {value}", 1)


def tagged(rng: random.Random) -> str:
    """A YAML tag that asks the loader to build something other than plain data."""
    tag = rng.choice([
        "!!python/object/apply:os.system ['echo owned']", "!!python/name:os.system ''",
        "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [{a: 1}, {b: 2}]", "!!pairs [[a, 1]]",
        "!!timestamp 2024-01-01", "!custom thing", "!!float 'x'", "!!int 'abc'", "!!str [1, 2]",
        "!!map [1]", "2024-01-01 10:00:00",
    ])
    return default_map_text().replace("label: Awareness", f"label: {tag}", 1)


def odd_keys(rng: random.Random) -> str:
    """Mapping keys that are not strings, merges, and duplicate anchors."""
    extra = rng.choice(["? [a, b]\n: c", "1: x", "null: y", "? {a: 1}\n: z", "true: t",
                        "base: &b {key: x}\nmerged: {<<: *b}", "stages2: &s [1]\nstages3: &s [2]",
                        "<<: [1, 2]", "<<: *missing"])
    return default_map_text() + "\n" + extra + "\n"


def wrong_type(rng: random.Random) -> str:
    """The default map with one value, anywhere in it, replaced by a value of another type."""
    data = yaml.safe_load(default_map_text())
    node, key = _random_slot(rng, data)
    node[key] = rng.choice([None, True, 0, -1, 3.5, "", "x" * 1000, [], {}, [1, [2]], {"a": {"b": None}},
                            2 ** 70, -(2 ** 63)])
    return yaml.safe_dump(data, sort_keys=False)


def _random_slot(rng: random.Random, data) -> tuple[object, object]:
    node, key = data, rng.choice(list(data))
    while isinstance(node[key], (dict, list)) and node[key] and rng.random() < 0.7:
        node = node[key]
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
    return node, key


def byte_noise(rng: random.Random) -> str:
    """The default map with a few characters deleted, duplicated or replaced by odd ones."""
    text = list(default_map_text())
    for _ in range(rng.randint(1, 12)):
        at = rng.randrange(len(text))
        action = rng.random()
        if action < 0.3:
            del text[at]
        elif action < 0.6:
            text.insert(at, rng.choice(["\x00", "\t", "\ufeff", "\x85", "\u2028", "&", "*", "!", "{", "[",
                                        ":", "-", "?", "|", ">", "%", "@", "`", "\"", "'", "\ud800", "\x1b"]))
        else:
            text[at] = text[rng.randrange(len(text))]
    return "".join(text)


def oversized(rng: random.Random) -> str:
    """A document past the size limit: a huge comment, a huge string or very many stages."""
    kind = rng.randrange(3)
    if kind == 0:
        return default_map_text() + "#" + "x" * rng.randint(1_100_000, 3_000_000) + "\n"
    if kind == 1:
        return default_map_text().replace("B2B default", "x" * rng.randint(1_100_000, 2_000_000), 1)
    stages = "".join(f"  - {{key: s{i}, label: S{i}, expected_days: 1}}\n" for i in range(40_000))
    return "version: 1\nname: many\nstages:\n" + stages


def json_shaped(rng: random.Random) -> str:
    """JSON documents: deep arrays, huge numbers, a top level that is not an object."""
    return rng.choice(['[' * 100_000 + ']' * 100_000, '{"version": 1e999}', '"just a string"', "[1, 2, 3]",
                       '{"version": ' + "9" * 5_000 + "}", '{"a": "\\ud800"}', "{\t\"version\": 1}", "null",
                       "{" * 3_000])


GENERATORS: list[Callable[[random.Random], str]] = [
    billion_laughs, recursive_alias, deep_nesting, huge_number, tagged, odd_keys, wrong_type,
    byte_noise, byte_noise, byte_noise, oversized, json_shaped,
]


def hostile_maps(count: int, seed: int) -> Iterator[tuple[str, str]]:
    """``count`` (generator name, map text) pairs; the same seed gives the same maps."""
    rng = random.Random(seed)
    for index in range(count):
        make = GENERATORS[index % len(GENERATORS)] if index < len(GENERATORS) else rng.choice(GENERATORS)
        yield make.__name__, make(rng)


def parse_outcome(text: str) -> str:
    """"accepted", "rejected" (a MapValidationError listing its problems) or "crashed: ..."."""
    try:
        parse_map(text, source="fuzz.yaml")
    except MapValidationError as exc:
        return "rejected" if exc.problems else "crashed: a MapValidationError without problems"
    except BaseException as exc:  # anything else is the crash this benchmark counts
        return f"crashed: {type(exc).__name__}: {str(exc)[:120]}"
    return "accepted"


def _child(text: str, out) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    out.send(parse_outcome(text))


def isolated_outcome(text: str) -> tuple[str, float]:
    """The outcome of parsing ``text`` in a child process, and the seconds it took."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    started = time.monotonic()
    child = ctx.Process(target=_child, args=(text, send))
    child.start()
    outcome = receive.recv() if receive.poll(TIME_LIMIT_SECONDS) else "crashed: timeout"
    child.kill()
    child.join()
    if outcome == "crashed: timeout" and child.exitcode not in (None, -9):
        outcome = f"crashed: exit code {child.exitcode}"
    return outcome, time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> None:
    """Parse N hostile maps and print the counts, the slowest parse and each crash."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args(argv)
    counts = {"accepted": 0, "rejected": 0, "crashed": 0}
    slowest, crashes = (0.0, ""), []
    for name, text in hostile_maps(args.maps, args.seed):
        outcome, seconds = isolated_outcome(text)
        counts[outcome.split(":")[0]] += 1
        slowest = max(slowest, (seconds, name))
        if outcome.startswith("crashed"):
            crashes.append(f"{name}: {outcome}")
    print(f"maps: {args.maps} (seed {args.seed})")
    print(f"accepted: {counts['accepted']}")
    print(f"rejected with located problems: {counts['rejected']}")
    print(f"crashed: {counts['crashed']} (wanted 0)")
    print(f"slowest parse seconds: {slowest[0]:.2f} ({slowest[1]})")
    for line in crashes:
        print(f"  {line}")


if __name__ == "__main__":
    main()
