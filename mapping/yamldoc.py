"""Reading map text (YAML, or JSON) into plain data plus the line of every path in it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from mapping.limits import (MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_NODES, DocumentRejected, check_integer_text,
                            loads_json)
from mapping.problems import MapProblem, Path, format_path

_TAG = "tag:yaml.org,2002:"
#: The only YAML types a map holds; any other tag (python objects, binary, sets...) is refused.
_ALLOWED_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq",
                                                   "timestamp", "merge"))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's: same nodes, marks and errors, ten times faster) reading dates as text.

    A map's values are text, numbers and true/false; an unquoted date stays the text it was.
    """


_Loader.add_constructor(_TAG + "timestamp", yaml.SafeLoader.construct_yaml_str)
_LOADER = _Loader


class _Refused(Exception):
    """A document broke a limit at a path and line."""

    def __init__(self, message: str, path: Path, line: int | None) -> None:
        super().__init__(message)
        self.problem = MapProblem(format_path(path), message, line)


@dataclass(slots=True)
class Document:
    """What a map text holds: its data (None when unreadable), line of each path, reading problems."""

    data: Any = None
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[MapProblem] = field(default_factory=list)


def read_document(text: str) -> Document:
    """Parse YAML (JSON is accepted too) and record line numbers and duplicate mapping keys.

    YAML refuses tabs as indentation, which JSON allows, so JSON that YAML cannot read is read
    again as JSON before the error is reported. The limits of :mod:`mapping.limits` (size, nesting,
    values after alias expansion, number size) are checked before any work that grows with them.
    """
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        return Document(problems=[MapProblem("", "the map holds a character that is not valid Unicode",
                                             text.count("\n", 0, exc.start) + 1)])
    if size > MAX_DOCUMENT_BYTES:
        return Document(problems=[MapProblem("", f"the map is {size:,} bytes; at most "
                                                 f"{MAX_DOCUMENT_BYTES:,} are accepted")])
    try:
        return _read_yaml(text)
    except _Refused as exc:
        return Document(problems=[exc.problem])
    except yaml.YAMLError as exc:
        return _read_json(text) if text.lstrip().startswith(("{", "[")) else _yaml_failure(exc)


def _read_yaml(text: str) -> Document:
    _check_nesting(text)
    doc = Document()
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_node(loader, node, (), {}, set())
            _index(node, (), doc)
            doc.data = loader.construct_document(node)
    finally:
        loader.dispose()
    return doc


def _check_nesting(text: str) -> None:
    """Refuse nesting past :data:`MAX_DEPTH` from the parser's events, before any node is built.

    libyaml's parser keeps its own stack, so this pass is safe at any depth; building nodes is not.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", (), event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_node(loader: yaml.BaseLoader, node: yaml.Node, path: Path, seen: dict[int, tuple[int, int]],
                open_nodes: set[int]) -> tuple[int, int]:
    """(values, height) of ``node`` with aliases expanded, refusing what breaks a limit.

    Each node is measured once (``seen``), so a billion-laughs document costs its size, not its
    expansion; ``open_nodes`` holds the nodes being measured, which an alias inside them must not name.
    """
    key, line = id(node), node.start_mark.line + 1
    if key in open_nodes:
        raise _Refused("an alias refers to a collection that contains it", path, line)
    if key not in seen:
        if node.tag not in _ALLOWED_TAGS:
            raise _Refused(f"the YAML tag {node.tag.replace(_TAG, '!!')} is not allowed: a map holds only "
                           "text, numbers, true/false, lists and mappings", path, line)
        open_nodes.add(key)
        values, height = 1, 0
        for child_path, child in _children(node, path):
            child_values, child_height = _check_node(loader, child, child_path, seen, open_nodes)
            values, height = values + child_values, max(height, child_height)
            if values > MAX_NODES:
                raise _Refused(f"holds more than {MAX_NODES:,} values once its aliases are expanded",
                               path, line)
        open_nodes.discard(key)
        if isinstance(node, yaml.ScalarNode):
            _check_number(loader, node, path)
        seen[key] = (values, height + 1)
    values, height = seen[key]
    if len(path) + height > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels once its aliases are expanded", path, line)
    return values, height


def _children(node: yaml.Node, path: Path) -> Iterator[tuple[Path, yaml.Node]]:
    """(path, node) of each key and value of a mapping, each item of a list."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield path, key_node
            yield (path + (key_node.value,) if isinstance(key_node, yaml.ScalarNode) else path), value_node
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield path + (index,), item


def _check_number(loader: yaml.BaseLoader, node: yaml.ScalarNode, path: Path) -> None:
    """Refuse a number too large, infinite, not a number, or text tagged as a number."""
    line = node.start_mark.line + 1
    try:
        if node.tag == _TAG + "int":
            check_integer_text(node.value)
            loader.construct_yaml_int(node)
        elif node.tag == _TAG + "float" and not math.isfinite(loader.construct_yaml_float(node)):
            raise DocumentRejected(f"number {node.value[:40]} is out of range")
    except DocumentRejected as exc:
        raise _Refused(str(exc), path, line) from None
    except ValueError:
        raise _Refused(f"{node.value[:40]!r} is tagged as a number but is not one", path, line) from None


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
        return Document(data=loads_json(text))
    except DocumentRejected as exc:
        return Document(problems=[MapProblem("", str(exc), exc.line)])


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
