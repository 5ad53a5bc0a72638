"""Reading map text (YAML, or JSON) into plain data plus the line of every path in it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from mapping.problems import MapProblem, Path, format_path

# libyaml's loader gives the same nodes, marks and errors as the pure-Python one, ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class Document:
    """What a map text holds: its data (None when unreadable), line of each path, reading problems."""

    data: Any = None
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[MapProblem] = field(default_factory=list)


def read_document(text: str) -> Document:
    """Parse YAML (JSON is accepted too) and record line numbers and duplicate mapping keys.

    YAML refuses tabs as indentation, which JSON allows, so JSON that YAML cannot read is read
    again as JSON before the error is reported.
    """
    try:
        return _read_yaml(text)
    except yaml.YAMLError as exc:
        return _read_json(text) if text.lstrip().startswith(("{", "[")) else _yaml_failure(exc)


def _read_yaml(text: str) -> Document:
    doc = Document()
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _index(node, (), doc)
            doc.data = loader.construct_document(node)
    finally:
        loader.dispose()
    return doc


def _yaml_failure(exc: yaml.YAMLError) -> Document:
    if not isinstance(exc, yaml.MarkedYAMLError):
        # Reader errors (control characters, bad encoding) carry no line mark, only their own message.
        return Document(problems=[MapProblem("", f"malformed YAML: {exc}")])
    mark = exc.problem_mark or exc.context_mark
    reason = ", ".join(part for part in (exc.context, exc.problem) if part)
    line = mark.line + 1 if mark is not None else None
    return Document(problems=[MapProblem("", f"malformed YAML: {reason}", line)])


def _read_json(text: str) -> Document:
    try:
        return Document(data=json.loads(text))
    except json.JSONDecodeError as exc:
        return Document(problems=[MapProblem("", f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno)])


def _index(node: yaml.Node, path: Path, doc: Document) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                doc.problems.append(MapProblem(format_path(path + (key,)),
                                               f"duplicate key {key!r} (first on line {seen[key]})", line))
            else:
                seen[key] = line
                doc.lines[path + (key,)] = line
            _index(value_node, path + (key,), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[path + (index,)] = item.start_mark.line + 1
            _index(item, path + (index,), doc)
    if path == ():
        doc.lines[()] = node.start_mark.line + 1
