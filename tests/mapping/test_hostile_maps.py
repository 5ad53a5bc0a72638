"""Hostile map documents get a clean, located error fast: size, aliases, nesting, numbers, tags.

Each parse runs in a child process (bench/bench_mapfuzz.py) so a runaway parse fails the test
instead of holding the suite; the 300-map run is the benchmark's.
"""
from __future__ import annotations

import pytest

from bench.bench_mapfuzz import hostile_maps, isolated_outcome
from mapping import MapValidationError, default_map_text, parse_map
from mapping.limits import MAX_DOCUMENT_BYTES, DocumentRejected, loads_json

# The classic: nine levels of nine aliases, 9**9 strings once expanded, in about 430 bytes.
BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{n}: &a{n} [{','.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]) + "\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(MapValidationError) as caught:
        parse_map(text, source="hostile.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_billion_laughs_is_refused_at_once_without_expanding():
    outcome, _ = isolated_outcome(BILLION_LAUGHS)
    assert outcome == "rejected"
    assert problems_of(BILLION_LAUGHS) == [
        "a5: holds more than 100,000 values once its aliases are expanded (line 6)"]


#: The line of the first stage's expected days in the default map.
FIRST_DAYS_LINE = default_map_text().splitlines().index("    expected_days: 14") + 1
FIRST_LABEL_LINE = default_map_text().splitlines().index("    label: Awareness") + 1
NAME_LINE = default_map_text().splitlines().index("name: B2B default") + 1


@pytest.mark.parametrize("text, expected", [
    (default_map_text() + "extra: &loop [*loop]\n", "extra[0]: an alias refers to a collection that contains it "
     f"(line {len(default_map_text().splitlines()) + 1})"),
    ("version: 1\nstages: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels (line 2)"),
    ("deep: &d " + "[" * 20 + "]" * 20 + "\nversion: 1\nstages: [[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]\n",
     "stages[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 32 levels once its aliases are "
     "expanded (line 1)"),
    (default_map_text().replace("expected_days: 14", "expected_days: " + "9" * 5000, 1),
     f"stages[0].expected_days: number with 5000 digits is too large (at most 19 digits) (line {FIRST_DAYS_LINE})"),
    (default_map_text().replace("expected_days: 14", "expected_days: 1.0e+400", 1),
     f"stages[0].expected_days: number 1.0e+400 is out of range (line {FIRST_DAYS_LINE})"),
    (default_map_text().replace("expected_days: 14", "expected_days: .nan", 1),
     f"stages[0].expected_days: number .nan is out of range (line {FIRST_DAYS_LINE})"),
    (default_map_text().replace("expected_days: 14", "expected_days: !!int abc", 1),
     f"stages[0].expected_days: 'abc' is tagged as a number but is not one (line {FIRST_DAYS_LINE})"),
    (default_map_text().replace("label: Awareness", "label: !!python/object/apply:os.system ['touch /tmp/x']", 1),
     "stages[0].label: the YAML tag !!python/object/apply:os.system is not allowed: a map holds only text, "
     f"numbers, true/false, lists and mappings (line {FIRST_LABEL_LINE})"),
    (default_map_text().replace("label: Awareness", "label: !!binary aGVsbG8=", 1),
     "stages[0].label: the YAML tag !!binary is not allowed: a map holds only text, numbers, true/false, "
     f"lists and mappings (line {FIRST_LABEL_LINE})"),
    (default_map_text().replace("B2B default", "B2B \ud800", 1),
     f"the map holds a character that is not valid Unicode (line {NAME_LINE})"),
    ("[" * 5000 + "]" * 5000, "nested deeper than 32 levels"),
    ('{\t"version": ' + "9" * 5000 + "}", "version: number with 5000 digits is too large (at most 19 digits) (line 1)"),
])
def test_each_hostile_document_gets_one_located_problem(text, expected):
    assert problems_of(text) == [expected]


def test_a_document_over_the_size_limit_is_refused_before_parsing():
    text = default_map_text() + "#" + "x" * MAX_DOCUMENT_BYTES + "\n"
    assert problems_of(text) == [f"the map is {len(text.encode()):,} bytes; at most 1,000,000 are accepted"]


def test_a_date_stays_the_text_it_was():
    jmap = parse_map(default_map_text().replace("label: Awareness", "label: 2024-01-01", 1))
    assert jmap.stages[0].label == "2024-01-01"


def test_a_default_persona_that_is_not_text_is_a_problem_not_a_crash():
    text = default_map_text().replace("default_persona: general", "default_persona: {a: 1}", 1)
    assert "default_persona: must be a string (line" in problems_of(text)[0]


@pytest.mark.parametrize("text", ['{"eventId": 1e400}', "[NaN]", '{"a": Infinity}', "[" * 40 + "]" * 40,
                                  '{"n": ' + "1" * 30 + "}", '{"a": '])
def test_bounded_json_refuses_what_the_limits_forbid(text):
    with pytest.raises(DocumentRejected):
        loads_json(text)


def test_bounded_json_reads_ordinary_documents():
    assert loads_json('{"a": [1, 2.5, "x", {"b": null}], "s": "[[[[{{"}') == {
        "a": [1, 2.5, "x", {"b": None}], "s": "[[[[{{"}


def test_fuzzed_maps_never_crash():
    outcomes = [(name, isolated_outcome(text)[0]) for name, text in hostile_maps(36, 20261130)]
    assert [pair for pair in outcomes if pair[1].startswith("crashed")] == []
