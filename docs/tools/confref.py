"""Generate the configuration reference page from the config models' JSON schema.

Walks `model_json_schema()` (following `$ref` into `$defs`, unions, lists and
mappings) so that every field of every config model gets a heading with its
dotted path, type, default, constraints and description. The page is written
at build time and git-ignored, so it cannot drift from the code.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from mdtext import escape_text

# (id prefix, where the model may live, what runs it); the first is required, the
# rest are documented when importable (a flow that has not landed yet is skipped).
CONFIG_MODELS: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    ("train", (("flows.config.train", "TrainConfig"),), "python -m flows.train --config FILE"),
    (
        "sweep",
        (("flows.config.sweep_schema", "SweepConfig"), ("flows.sweep", "SweepConfig")),
        "python -m flows.sweep --config FILE",
    ),
)


@dataclass(frozen=True)
class FieldDoc:
    path: str
    schema: dict[str, Any]  # the field's own schema (may hold $ref, anyOf)
    required: bool
    variant: str | None


def load_models() -> tuple[list[tuple[str, str, str, Any]], list[str]]:
    """(qualified name, command, id prefix, model) for each importable config model, and notes."""
    found: list[tuple[str, str, str, Any]] = []
    notes: list[str] = []
    for index, (prefix, places, command) in enumerate(CONFIG_MODELS):
        errors: list[str] = []
        for module_name, class_name in places:
            try:
                model = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError) as exc:
                errors.append(f"{module_name}.{class_name}: {exc}")
                continue
            found.append((f"{module_name}.{class_name}", command, prefix, model))
            break
        else:
            if index == 0:
                raise ImportError("; ".join(errors))
            notes.append(f"{prefix} config not importable, skipped ({'; '.join(errors)})")
    return found, notes


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s; keys beside a `$ref` (default, description) win over the target's."""
    seen = 0
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**defs[name], **rest}
        seen += 1
        if seen > 50:
            raise ValueError(f"$ref cycle at {name}")
    return schema


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return (
        list(schema.get("anyOf", []))
        + list(schema.get("oneOf", []))
        + list(schema.get("allOf", []))
    )


def _variant_label(schema: dict[str, Any], discriminator: str | None) -> str:
    props = schema.get("properties", {})
    if discriminator and discriminator in props:
        const = props[discriminator].get("const")
        if const is None and len(props[discriminator].get("enum", [])) == 1:
            const = props[discriminator]["enum"][0]
        if const is not None:
            return f"{discriminator}: {const}"
    return str(schema.get("title", "variant"))


def children(schema: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, dict, str | None]]:
    """(path suffix, object schema, variant label) for each object nested in a field."""
    node = resolve(schema, defs)
    out: list[tuple[str, dict, str | None]] = []
    if node.get("properties"):
        out.append(("", node, None))
    branches = [resolve(b, defs) for b in _branches(node)]
    objects = [b for b in branches if b.get("properties")]
    discriminator = (node.get("discriminator") or {}).get("propertyName")
    for branch in objects:
        label = _variant_label(branch, discriminator) if len(objects) > 1 else None
        out.append(("", branch, label))
    for branch in [node, *branches]:
        items = branch.get("items")
        if isinstance(items, dict):
            out.extend(("[]" + s, b, v) for s, b, v in children(items, defs))
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict):
            out.extend((".<key>" + s, b, v) for s, b, v in children(extra, defs))
    return out


def walk(
    schema: dict[str, Any], defs: dict[str, Any], prefix: str = "", variant: str | None = None
) -> Iterator[FieldDoc]:
    """Every field under an object schema, depth first, in declaration order."""
    node = resolve(schema, defs)
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield FieldDoc(path, prop, name in required, variant)
        for suffix, child, label in children(prop, defs):
            yield from walk(child, defs, path + suffix, label or variant)


def type_name(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short, readable type: `string`, `list of string`, `DataSpec`, `one of a, b`."""
    if "$ref" in schema:
        target = resolve({"$ref": schema["$ref"]}, defs)
        if "enum" in target:
            return type_name(target, defs)
        return str(target.get("title") or schema["$ref"].rsplit("/", 1)[-1])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    branches = _branches(schema)
    if branches:
        names = [type_name(b, defs) for b in branches]
        return " or ".join(dict.fromkeys(names))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(type_name(s, defs) for s in schema["prefixItems"]) + "]"
        items = schema.get("items")
        return f"list of {type_name(items, defs)}" if isinstance(items, dict) else "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"mapping of string to {type_name(extra, defs)}"
        return str(schema.get("title")) if schema.get("properties") else "mapping"
    if kind == "null":
        return "null"
    return str(kind or "any")


_CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches `{}`"),
)


def constraints(schema: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for node in [schema, *_branches(schema)]:
        for key, template in _CONSTRAINTS:
            if key in node:
                out.append(template.format(node[key]))
    return list(dict.fromkeys(out))


def _default(field: FieldDoc, node: dict[str, Any]) -> str | None:
    if field.required:
        return None
    if "default" not in field.schema and "default" not in node:
        return None
    value = field.schema.get("default", node.get("default"))
    if isinstance(value, dict) and value and node.get("properties"):
        return None  # an object's defaults are listed field by field below it
    text = json.dumps(value)
    return f"`{text}`" if len(text) <= 120 else f"`{text[:117]}...`"


def anchor(prefix: str, path: str) -> str:
    return (
        prefix
        + "."
        + re.sub(r"[^A-Za-z0-9_.\-]+", "-", path.replace("[]", "").replace("<key>", "key"))
    )


def render_model(qualname: str, command: str, prefix: str, model: Any) -> str:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    title = str(schema.get("title", qualname.rsplit(".", 1)[-1]))
    lines = [f"## `{title}` {{#{prefix}}}", ""]
    if schema.get("description"):
        lines += [escape_text(schema["description"]), ""]
    lines += [f"Module `{qualname}`; used by `{command}`.", ""]
    defaults = _defaults_yaml(model)
    if defaults:
        lines += ["The embedded defaults, as YAML:", "", "```yaml", defaults.rstrip(), "```", ""]
    used: set[str] = set()
    for field in walk(schema, defs):
        node = resolve(field.schema, defs)
        ident = anchor(prefix, field.path)
        if field.variant:
            ident += "-" + re.sub(r"[^A-Za-z0-9_\-]+", "-", field.variant).strip("-")
        base, n = ident, 2
        while ident in used:
            ident, n = f"{base}-{n}", n + 1
        used.add(ident)
        top = "." not in field.path and "[]" not in field.path
        level = "###" if top else "####"
        lines += [f"{level} `{field.path}` {{#{ident}}}", ""]
        meta = [f"*{type_name(field.schema, defs)}*"]
        if field.required:
            meta.append("**required**")
        default = _default(field, node)
        if default is not None:
            meta.append(f"default {default}")
        meta += constraints(node)
        if field.variant:
            meta.append(f"when `{field.variant}`")
        lines += [" · ".join(meta), ""]
        description = field.schema.get("description") or node.get("description")
        if description:
            lines += [escape_text(str(description)), ""]
    return "\n".join(lines)


def _defaults_yaml(model: Any) -> str | None:
    try:
        instance = model()
    except Exception:
        return None  # required fields: no defaults to show
    return yaml.safe_dump(instance.model_dump(mode="json"), sort_keys=False)


def render_page() -> tuple[str, list[str]]:
    """The whole configuration reference page (front matter included), and notes."""
    models, notes = load_models()
    sources = ", ".join(f"`{name}.model_json_schema()`" for name, *_ in models)
    head = [
        "---",
        "title: Configuration reference",
        "linkTitle: Configuration",
        "description: Every field of the run configs, generated from the pydantic models.",
        "weight: 10",
        f"generated: {json.dumps(sources)}",
        "---",
        "",
        "A run config is YAML. It is validated once, before any work starts: the embedded",
        "defaults, then the file given with `--config`, then each `--set dotted.key=value`",
        "(the value is parsed as YAML). Unknown keys, wrong types and out-of-range values",
        "fail with one line that names the field, and exit code 2; see",
        "[Troubleshooting](/troubleshooting.md#one-line-config-errors).",
        "",
        "Each heading below is a field's dotted path, the same path `--set` takes and the",
        "name of the MLflow parameter the run logs. Print the schema itself with:",
        "",
        "```bash",
        "python -m flows.train --print-schema",
        "```",
        "",
    ]
    body = [render_model(*entry) for entry in models]
    return "\n".join(head + body) + "\n", notes
