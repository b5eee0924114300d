"""Applying a design point to a nested training config."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from libs.errors import InputError


def set_dotted(config: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of `config` with `value` at the dotted `path`.

    The input is deep-copied, never mutated, so one base config can feed every
    point of a sweep. Missing intermediate keys are created; an intermediate
    that exists but is not a mapping is an error (the path is wrong, and
    silently replacing a value would hide it).
    """
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise InputError(f"config path {path!r} is empty or has an empty segment")
    result: dict[str, Any] = copy.deepcopy(dict(config))
    node = result
    for depth, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise InputError(
                f"config path {path!r}: {where!r} holds a {type(child).__name__}, not a mapping"
            )
        node = child
    node[keys[-1]] = value
    return result


def apply_point(config: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `config` with every factor of a design point set."""
    result: dict[str, Any] = copy.deepcopy(dict(config))
    for path, value in point.items():
        result = set_dotted(result, path, value)
    return result


__all__ = ["apply_point", "set_dotted"]
