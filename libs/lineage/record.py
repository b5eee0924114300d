"""What a run records about itself: its config as documents, its environment."""

from __future__ import annotations

import functools
import json
import platform
import re
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

import yaml

from libs.errors import InputError

if TYPE_CHECKING:  # the DOE package loads statsmodels: only a sweep point needs it
    from libs.doe.space import FactorSpace

# Artifact paths inside a run, one place for the writer and the readers.
CONFIG_YAML = "config/config.yaml"
CONFIG_JSON = "config/config.json"
ENVIRONMENT_FILE = "environment/environment.json"
# The distributions `flows.lineage` shows on its one screen (the artifact has all of them).
KEY_PACKAGES = (
    "prefect",
    "mlflow",
    "scikit-learn",
    "pandas",
    "numpy",
    "pyarrow",
    "pydantic",
    "tensorflow",
    "keras",
)


_MODEL_REF = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*?)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>[0-9]+))?$"
)


def parse_model_ref(text: str, field: str = "model") -> tuple[str, str | None, str | None]:
    """`NAME`, `NAME@alias` or `NAME/version` -> (name, alias, version); a bare name means
    its champion (alias None and version None). Anything else is one InputError line."""
    match = _MODEL_REF.match(text or "")
    if not match:
        raise InputError(f"{field}: '{text}' is not NAME, NAME@alias or NAME/version")
    return match["name"], match["alias"], match["version"]


def config_documents(data: dict[str, Any]) -> tuple[str, str]:
    """The validated config (`model_dump(mode="json")`) as YAML and as JSON.

    YAML quotes a string that would read back as another type (`'0'`,
    `'true'`), so a string field that looks like a number stays a string.
    """
    text_yaml = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    text_json = json.dumps(data, indent=2, sort_keys=True) + "\n"
    return text_yaml, text_json


def environment_record() -> dict[str, Any]:
    """Python and every installed distribution, `name -> version`, sorted by name."""
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "packages": dict(_installed()),
    }


@functools.lru_cache(maxsize=1)
def _installed() -> tuple[tuple[str, str], ...]:
    """The installed distributions, read once per process (a scan of site-packages).

    A command is one process and the warm worker forks a new one per command,
    so an install between two runs is seen by the next.
    """
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages.setdefault(str(name).lower(), dist.version)
    return tuple(sorted(packages.items()))


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Every leaf as `section.key -> text` (lists as JSON), the form compared side by side."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = "{}"
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = "" if value is None else str(value)
    return out


def decision_line(promote: bool, reason: str) -> str:
    """The gate's decision in one line, for a version's description."""
    return f"{'Champion' if promote else 'Not promoted'}: {' '.join(reason.split())}"


def point_name(
    factors: list[str], params: dict[str, str], space: FactorSpace | None = None
) -> str | None:
    """A sweep point's run name from its factor values, `C=0.1,gamma=0.01`.

    Each factor by its short name (`libs.doe.names`: the last dotted part, parents
    added where two share it), each value with the digits its factor's range in
    `space` warrants (no float noise either way); None when a factor has no value
    among `params`.
    """
    if not factors or any(f not in params for f in factors):
        return None
    from libs.doe.names import Namer, typed

    return Namer.of(factors, space).point({f: typed(params[f]) for f in factors}, sep=",")


__all__ = [
    "CONFIG_JSON",
    "CONFIG_YAML",
    "ENVIRONMENT_FILE",
    "KEY_PACKAGES",
    "config_documents",
    "decision_line",
    "environment_record",
    "flatten",
    "parse_model_ref",
    "point_name",
]
