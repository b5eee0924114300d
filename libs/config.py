"""Load a pydantic config from YAML plus `--set dotted.key=value` overrides.

All validation happens here, once, so a typo fails before any work starts and
the user sees one line naming the field and the problem.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from libs.errors import InputError

M = TypeVar("M", bound=BaseModel)

# A config is a page of YAML; a file this large is a wrong path (a data file, a log), and
# parsing it would take minutes before any field could be named.
MAX_CONFIG_BYTES = 1_000_000


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing file or bad YAML is an InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InputError(
                f"{path}: {size / 1e6:.1f} MB, more than a config may hold "
                f"({MAX_CONFIG_BYTES // 1_000_000} MB); is it the right file?"
            )
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not a text file (byte {exc.start} is not UTF-8); expected a YAML config"
        ) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read config file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise InputError(f"{path}: invalid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def set_dotted(
    config: Mapping[str, Any], path: str, value: Any, *, label: str | None = None
) -> dict[str, Any]:
    """Return a copy of `config` with `value` at the dotted `path`.

    The input is deep-copied, never mutated, so one base config can feed every
    point of a sweep. Missing intermediate keys (or keys left empty in YAML) are
    created; an intermediate that holds a value that is not a mapping is an error
    (the path is wrong, and silently replacing a value would hide it). `label`
    names the path in errors (default: "config path '<path>'").
    """
    label = label or f"config path {path!r}"
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise InputError(f"{label} is empty or has an empty segment")
    result: dict[str, Any] = copy.deepcopy(dict(config))
    node = result
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise InputError(f"{label}: {where!r} holds a {type(child).__name__}, not a mapping")
        node = child
    node[keys[-1]] = value
    return result


def apply_override(data: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Return a copy of `data` with `a.b.c=value` set; the value is parsed as YAML."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise InputError(f"--set {assignment!r}: expected dotted.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return set_dotted(data, key, value, label=f"--set {key}")


def _unwrap(annotation: Any) -> Any:
    """A model class, a tuple of union members, ("list", item), or None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple, set) and typing.get_args(annotation):
        return ("list", typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = tuple(m for m in map(_unwrap, typing.get_args(annotation)) if isinstance(m, type))
        return members[0] if len(members) == 1 else members or None
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _user_path(model: type[BaseModel] | None, loc: Sequence[Any]) -> str:
    """The dotted path as the user wrote it: union tags that pydantic adds are dropped."""
    parts: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(current, tuple) and current and current[0] != "list":
            member = next(
                (m for m in current if any(f.default == part for f in m.model_fields.values())),
                None,
            )
            if member is not None:
                current = member  # `part` is the union's tag, not a field
                continue
            current = None
        if isinstance(current, tuple) and current[:1] == ("list",) and isinstance(part, int):
            parts.append(str(part))
            current = _unwrap(current[1])
            continue
        fields = getattr(current, "model_fields", None) if isinstance(current, type) else None
        if fields is not None and part in fields:
            parts.append(str(part))
            current = _unwrap(fields[part].annotation)
            continue
        parts.append(str(part))
        current = None
    return ".".join(parts)


def format_validation_error(
    exc: ValidationError, source: str, model: type[BaseModel] | None = None
) -> str:
    """One line: where, which field, what is wrong (and how many more problems).

    Pydantic puts the tag of a discriminated union in the location
    (`model.sklearn.params`); the user wrote `model.params`, so tags are dropped.
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = _user_path(model, first["loc"]) or "(root)"
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "required field is missing"
    value = first.get("input")
    if first["type"] not in ("extra_forbidden", "missing") and isinstance(
        value, str | int | float | bool
    ):
        message += f" (got {value!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{source}: {field}: {message}{more}"


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate `data` into `model`, turning pydantic's report into one InputError line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, source, model)) from None


def load_config(model: type[M], path: str | Path | None = None, overrides: Sequence[str] = ()) -> M:
    """Defaults, then the YAML file, then each `--set` override, validated once."""
    data = read_yaml(path) if path else {}
    for assignment in overrides:
        data = apply_override(data, assignment)
    return validate(model, data, str(path) if path else "config")


def check_experiment_name(value: str) -> str:
    """An MLflow experiment name that cannot address another folder (its artifacts go
    under a folder of that name): no `..`, no slash, no control characters, not blank."""
    if not value.strip():
        raise ValueError("must not be empty")
    if ".." in value or "/" in value or "\\" in value:
        raise ValueError("must not contain '..', '/' or '\\'")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


__all__ = [
    "apply_override",
    "check_experiment_name",
    "format_validation_error",
    "load_config",
    "read_yaml",
    "set_dotted",
    "validate",
]
