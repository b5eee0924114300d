"""Applying a design point to a nested training config."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from libs.config import set_dotted


def apply_point(config: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `config` with every factor of a design point set."""
    result: dict[str, Any] = copy.deepcopy(dict(config))
    for path, value in point.items():
        result = set_dotted(result, path, value)
    return result


__all__ = ["apply_point"]
