"""Check JSON against hubspot-api-client's generated models: required fields and types."""
from __future__ import annotations

import inspect
import re
from datetime import datetime
from functools import cache
from typing import Any

REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")
ALLOWED = re.compile(r'if self\.local_vars_configuration\.client_side_validation and (\w+) not in '
                     r'allowed_values')
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object}


@cache
def _required(klass: type) -> frozenset[str]:
    return frozenset(REQUIRED.findall(inspect.getsource(klass)))


def problems(data: Any, klass: type, path: str = "$") -> list[str]:
    """Every way ``data`` fails ``klass``: a missing required field or a value of the wrong type."""
    if not isinstance(data, dict):
        return [f"{path}: expected an object for {klass.__name__}"]
    found = []
    by_json = {json: attr for attr, json in klass.attribute_map.items()}
    for attr in _required(klass):
        if data.get(klass.attribute_map[attr]) is None:
            found.append(f"{path}.{klass.attribute_map[attr]}: required by {klass.__name__}")
    for key, value in data.items():
        if key in by_json and value is not None:
            found += _type_problems(value, klass.openapi_types[by_json[key]], klass, f"{path}.{key}")
    return found


def _type_problems(value: Any, type_name: str, owner: type, path: str) -> list[str]:
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [p for i, v in enumerate(value) for p in _type_problems(v, type_name[5:-1], owner,
                                                                         f"{path}[{i}]")]
    if type_name.startswith("dict["):
        inner = type_name[5:-1].split(", ", 1)[1]
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        return [p for k, v in value.items() if v is not None
                for p in _type_problems(v, inner, owner, f"{path}.{k}")]
    if type_name == "datetime":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return [f"{path}: {value!r} is not an ISO datetime"]
        return [] if str(value).endswith("Z") else [f"{path}: {value!r} is not UTC with Z"]
    if type_name in PRIMITIVES:
        wanted = PRIMITIVES[type_name]
        ok = isinstance(value, wanted) and not (type_name in ("int", "float")
                                                and isinstance(value, bool))
        return [] if ok else [f"{path}: {value!r} is not {type_name}"]
    models = inspect.getmodule(owner).__name__.rsplit(".", 1)[0]
    klass = getattr(__import__(models, fromlist=[type_name]), type_name)
    return problems(value, klass, path)
