"""Located problems in a journey map, and the error that carries all of them at once."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

#: A location inside a map document: mapping keys and list indexes, outermost first.
Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_path(path: Path) -> str:
    """Render a path as ``stages[2].expected_days`` or ``sources.salesforce.opportunity.stages["Closed Won"]``."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN_KEY.fullmatch(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{json.dumps(segment)}]"
    return text


def line_for(path: Path, lines: Mapping[Path, int]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one (a missing key has no line)."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


@dataclass(frozen=True, slots=True)
class MapProblem:
    """One thing wrong with a map: where (a path like ``stages[2].expected_days``), why, and the line."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} (line {self.line})" if self.line is not None else text

    def located(self, source: str) -> str:
        """The problem prefixed with its file and line, as ``maps/b2b.yaml:12: stages[2]...``."""
        where = f"{source}:{self.line}" if self.line is not None else source
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {text}"


def locate(issues: Iterable[tuple[Path, str]], lines: Mapping[Path, int]) -> list[MapProblem]:
    """Turn (path, message) pairs into :class:`MapProblem` s, each with the line of its path."""
    return [MapProblem(format_path(path), message, line_for(path, lines)) for path, message in issues]


def in_reading_order(problems: Iterable[MapProblem]) -> list[MapProblem]:
    """Problems ordered by line (those without a line last), then path."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.path, p.message))


class MapValidationError(ValueError):
    """A map was rejected; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: Sequence[MapProblem], *, source: str = "<map>") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        header = f"{source}: {count} problem{'s' if count != 1 else ''} in the journey map"
        super().__init__("\n".join([header, *(p.located(source) for p in self.problems)]))
