"""Generate the libraries' reference from their docstrings.

One page per package under `libs/` (and one for the top-level modules), listing
each public name (`__all__`) with its signature and docstring; classes list
their public methods and properties, pydantic models their fields. Read with
`inspect` from the imported modules: the libraries are pure, so importing them
has no side effects.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
from pathlib import Path
from typing import Any

from mdtext import escape_text

CORE_MODULES = ("libs.config", "libs.errors", "libs.settings")


def packages(root: Path) -> list[str]:
    """Every package directly under libs/, sorted."""
    return sorted(
        f"libs.{p.parent.name}"
        for p in (root / "libs").glob("*/__init__.py")
        if p.parent.name[0] != "_"
    )


def public_names(module: Any) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return list(names)


def _annotation(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    if isinstance(value, str):
        return value
    return inspect.formatannotation(value)


def signature(obj: Any, name: str) -> str | None:
    """`name(a: int, *, b: str = 'x') -> T`, annotations as written in the source."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    parts: list[str] = []
    seen_kw_only = False
    params = list(sig.parameters.values())
    for i, param in enumerate(params):
        if param.kind is param.KEYWORD_ONLY and not seen_kw_only:
            parts.append("*")
        if param.kind in (param.KEYWORD_ONLY, param.VAR_KEYWORD):
            seen_kw_only = True
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text, seen_kw_only = "*" + text, True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        note = _annotation(param.annotation)
        if note:
            text += f": {note}"
        if param.default is not param.empty:
            text += (" = " if note else "=") + _short_repr(param.default)
        parts.append(text)
        last_positional_only = param.kind is param.POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1].kind is not param.POSITIONAL_ONLY
        )
        if last_positional_only:
            parts.append("/")
    returns = _annotation(sig.return_annotation)
    tail = f" -> {returns}" if returns else ""
    one_line = f"{name}({', '.join(parts)}){tail}"
    if len(one_line) <= 88:
        return one_line
    return f"{name}(\n" + "".join(f"    {part},\n" for part in parts) + f"){tail}"


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _doc(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        doc = ""  # the signature dataclasses write in place of a docstring
    return escape_text(doc) if doc else "*No docstring.*"


def _is_pydantic_model(obj: Any) -> bool:
    return (
        inspect.isclass(obj) and hasattr(obj, "model_fields") and hasattr(obj, "model_json_schema")
    )


def _source(obj: Any, root: Path) -> str | None:
    try:
        path = inspect.getsourcefile(obj)
    except TypeError:
        return None
    if not path:
        return None
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def render_function(name: str, obj: Any, root: Path) -> list[str]:
    lines = [f"## `{name}` {{#{name}}}", ""]
    where = _source(obj, root)
    lines += [f"*function*{f' · `{where}`' if where else ''}", ""]
    sig = signature(obj, name)
    if sig:
        lines += ["```python", f"def {sig}", "```", ""]
    lines += [_doc(obj), ""]
    return lines


def _members(cls: Any) -> list[tuple[str, Any, str]]:
    """Public methods and properties that the class itself defines."""
    out: list[tuple[str, Any, str]] = []
    for member_name, raw in vars(cls).items():
        if member_name.startswith("_"):
            continue
        if isinstance(raw, property):
            out.append((member_name, raw.fget, "property"))
        elif isinstance(raw, classmethod | staticmethod):
            out.append(
                (
                    member_name,
                    raw.__func__,
                    "classmethod" if isinstance(raw, classmethod) else "staticmethod",
                )
            )
        elif inspect.isfunction(raw):
            out.append((member_name, raw, "method"))
    return out


def render_class(name: str, obj: Any, root: Path) -> list[str]:
    lines = [f"## `{name}` {{#{name}}}", ""]
    bases = [b.__name__ for b in obj.__bases__ if b is not object]
    kind = (
        "pydantic model"
        if _is_pydantic_model(obj)
        else "dataclass"
        if dataclasses.is_dataclass(obj)
        else "class"
    )
    where = _source(obj, root)
    meta = f"*{kind}*"
    if bases:
        meta += " · bases " + ", ".join(f"`{b}`" for b in bases)
    if where:
        meta += f" · `{where}`"
    lines += [meta, ""]
    if not _is_pydantic_model(obj) and (dataclasses.is_dataclass(obj) or not _members(obj)):
        sig = signature(obj, name)
        if sig:
            sig = sig.removesuffix(" -> None")
            lines += ["```python", f"class {sig}", "```", ""]
    lines += [_doc(obj), ""]
    if _is_pydantic_model(obj):
        fields = obj.model_fields
        if fields:
            lines += ["| field | type | default | description |", "|---|---|---|---|"]
            for field_name, info in fields.items():
                annotation = _annotation(info.annotation).replace("|", "\\|")
                default = "required" if info.is_required() else _field_default(info)
                text = escape_text(info.description or "").replace("|", "\\|").replace("\n", " ")
                lines.append(f"| `{field_name}` | `{annotation}` | {default} | {text} |")
            lines.append("")
    for member_name, member, member_kind in _members(obj):
        qual = f"{name}.{member_name}"
        lines += [f"### `{qual}` {{#{qual}}}", ""]
        if member_kind == "property":
            returns = _annotation(inspect.signature(member).return_annotation)
            lines += [f"*property*{f' → `{returns}`' if returns else ''}", ""]
        else:
            sig = signature(member, member_name)
            if sig:
                lines += ["```python", f"def {sig}", "```", ""]
        doc = inspect.getdoc(member)
        if doc:
            lines += [escape_text(doc), ""]
    return lines


def _field_default(info: Any) -> str:
    if info.default_factory is not None:
        return f"`{getattr(info.default_factory, '__name__', 'factory')}()`"
    text = _short_repr(info.default, 60)
    if _is_pydantic_model(type(info.default)):
        text = f"{type(info.default).__name__}()"
    return f"`{text}`".replace("|", "\\|")


def render_value(name: str, obj: Any) -> list[str]:
    text = _short_repr(obj, 400)
    return [
        f"## `{name}` {{#{name}}}",
        "",
        "*constant*",
        "",
        "```python",
        f"{name} = {text}",
        "```",
        "",
    ]


def render_names(module: Any, root: Path) -> list[str]:
    lines: list[str] = []
    for name in public_names(module):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            lines += render_class(name, obj, root)
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            lines += render_function(name, obj, root)
        else:
            lines += render_value(name, obj)
    return lines


def _front(title: str, link_title: str, description: str, weight: int, generated: str) -> list[str]:
    return [
        "---",
        f"title: {json.dumps(title)}",
        f"linkTitle: {json.dumps(link_title)}",
        f"description: {json.dumps(description)}",
        f"weight: {weight}",
        f"generated: {json.dumps(generated)}",
        "---",
        "",
    ]


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0].strip() if (doc or "").strip() else ""


def render_pages(root: Path) -> dict[str, str]:
    """File name (relative to content/reference/libraries/) -> page text."""
    pages: dict[str, str] = {}
    names = packages(root)
    for weight, package in enumerate(names, start=1):
        module = importlib.import_module(package)
        short = package.split(".", 1)[1]
        doc = inspect.getdoc(module) or ""
        body = _front(
            f"libs/{short}",
            short,
            _first_line(doc).rstrip("."),
            weight,
            f"the docstrings of `{package}`",
        )
        body += [escape_text(doc), ""]
        body += render_names(module, root)
        pages[f"{short}.md"] = "\n".join(body).rstrip() + "\n"
    core = _front(
        "libs: config, errors, settings",
        "core modules",
        "Config loading with one-line errors, the shared error type, platform settings",
        len(names) + 1,
        "the docstrings of " + ", ".join(f"`{m}`" for m in CORE_MODULES),
    )
    for module_name in CORE_MODULES:
        module = importlib.import_module(module_name)
        core += [
            f"## `{module_name}` {{#{module_name.replace('.', '-')}}}",
            "",
            escape_text(inspect.getdoc(module) or ""),
            "",
        ]
        core += [
            line.replace("## ", "### ", 1)
            if line.startswith("## ")
            else line.replace("### ", "#### ", 1)
            if line.startswith("### ")
            else line
            for line in render_names(module, root)
        ]
    pages["core.md"] = "\n".join(core).rstrip() + "\n"
    index = _front(
        "Libraries reference",
        "Libraries",
        "The pure libraries under libs/, from their docstrings",
        20,
        "the docstrings of `libs/*`",
    )
    index += [
        "The libraries under `libs/` are pure: DataFrames, arrays and typed specs in,",
        "values out. They import neither Prefect nor MLflow, and only `libs/io` touches",
        "storage. Flows and tasks compose them; see [Architecture](/architecture.md).",
        "",
        "Each page below lists a package's public names (its `__all__`) with their",
        "signatures and docstrings.",
        "",
    ]
    pages["_index.md"] = "\n".join(index)
    return pages
