"""The journey map file: parse and check it (YAML or JSON), write it back, and the packaged default."""
from __future__ import annotations

from functools import lru_cache

from importlib import resources
from os import PathLike
from pathlib import Path as FilePath
from typing import Any, Mapping

import yaml

from mapping.model import JourneyMap
from mapping.problems import MapProblem, MapValidationError, Path, in_reading_order, locate
from mapping.validate import map_issues
from mapping.yamldoc import read_document

_DEFAULT_MAP = "b2b_default.yaml"


def parse_map(text: str, *, source: str = "<map>") -> JourneyMap:
    """Parse and check map text (YAML, or JSON); raise :class:`MapValidationError` with every problem.

    ``source`` names the text in error messages (a file path, ``<upload>``...).
    """
    doc = read_document(text)
    if doc.data is None:
        raise MapValidationError(doc.problems or [MapProblem("", "the map is empty")], source=source)
    return _checked_map(doc.data, doc.lines, doc.problems, source)


def map_from_dict(data: Any, *, source: str = "<map>") -> JourneyMap:
    """Check already-parsed map data and build the map; raise :class:`MapValidationError` if wrong."""
    return _checked_map(data, {}, [], source)


def _checked_map(data: Any, lines: Mapping[Path, int], reading_problems: list[MapProblem],
                 source: str) -> JourneyMap:
    problems = [*reading_problems, *locate(map_issues(data), lines)]
    if problems:
        raise MapValidationError(in_reading_order(problems), source=source)
    return JourneyMap.model_validate(data)


def load_map_file(path: str | PathLike[str]) -> JourneyMap:
    """Read and parse a map file; messages start with the file path and line (``maps/b2b.yaml:12: ...``)."""
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MapValidationError([MapProblem("", f"cannot read the map file: {reason}")],
                                 source=str(path)) from exc
    return parse_map(text, source=str(path))


def map_to_dict(jmap: JourneyMap) -> dict[str, Any]:
    """The map as plain data in the file's shape (keys left out where they hold nothing)."""
    return jmap.model_dump(mode="json", exclude_none=True)


class _MapDumper(yaml.SafeDumper):
    """Writes readable YAML that reads back exactly.

    PyYAML writes the Unicode line breaks NEL, LS and PS raw in plain and single-quoted scalars,
    where a reader folds them away; double quotes make it escape them.
    """

    def represent_str(self, data: str) -> yaml.ScalarNode:
        style = '"' if any(char in data for char in "\x85\u2028\u2029") else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_MapDumper.add_representer(str, _MapDumper.represent_str)


def map_to_yaml(jmap: JourneyMap) -> str:
    """The map as YAML text; ``parse_map(map_to_yaml(m)) == m``."""
    return yaml.dump(map_to_dict(jmap), Dumper=_MapDumper, sort_keys=False, allow_unicode=True, width=120)


def default_map_text() -> str:
    """The text of the packaged default B2B map (with its comments)."""
    return resources.files("mapping.defaults").joinpath(_DEFAULT_MAP).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_map() -> JourneyMap:
    """The packaged default B2B map (parsed once; maps are immutable)."""
    return parse_map(default_map_text(), source=f"mapping/defaults/{_DEFAULT_MAP}")


def default_sources(crm: str) -> dict[str, Any]:
    """The packaged default map's ``sources.<crm>`` part, in map-file form (empty if it has none)."""
    return map_to_dict(default_map()).get("sources", {}).get(crm, {})
