"""The generated references cover the code: every config field, every public library name."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docs_support import REPO, docs_tool, page_file


class _Headings(HTMLParser):
    """Text and id of every h2-h4, and every id on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, str] = {}  # text -> id
        self.ids: set[str] = set()
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag in ("h2", "h3", "h4"):
            self._open, self._text = str(values.get("id", "")), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3", "h4") and self._open is not None:
            self.headings.setdefault("".join(self._text).strip(), self._open)
            self._open = None


def headings(path: Path) -> _Headings:
    parser = _Headings()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def field_paths(schema: dict[str, Any]) -> set[str]:
    """Every dotted field path of a JSON schema: `a.b`, list items `a[].b`, mappings `a.<key>.b`.

    Written independently of docs/tools/confref.py so that a walker bug there
    cannot hide a missing field.
    """
    defs = schema.get("$defs", {})

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        return node

    def objects(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        node = deref(node)
        if node.get("properties"):
            yield "", node
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, []):
                yield from objects(branch)
        if isinstance(node.get("items"), dict):
            for suffix, child in objects(node["items"]):
                yield "[]" + suffix, child
        if isinstance(node.get("additionalProperties"), dict):
            for suffix, child in objects(node["additionalProperties"]):
                yield ".<key>" + suffix, child

    def walk(node: dict[str, Any], prefix: str) -> Iterator[str]:
        for name, prop in deref(node).get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            yield path
            for suffix, child in objects(prop):
                yield from walk(child, path + suffix)

    return set(walk(schema, ""))


def test_configuration_reference_lists_every_field_of_every_config_model(site: Path) -> None:
    # given: the config models the build documents (TrainConfig, and SweepConfig once it exists)
    models, _ = docs_tool("confref").load_models()
    page = headings(page_file(site, "/reference/configuration/"))
    assert models[0][0] == "flows.config.train.TrainConfig"
    for qualname, _command, prefix, model in models:
        schema = model.model_json_schema()
        # when
        paths = field_paths(schema)
        # then: a heading per field, and the model's own heading
        assert paths, qualname
        missing = sorted(p for p in paths if p not in page.headings)
        assert missing == [], f"{qualname}: fields missing from the reference"
        assert schema["title"] in page.headings, qualname
        assert page.headings[schema["title"]] == prefix
    # and: the training config's fields are where the other pages link to
    train = field_paths(models[0][3].model_json_schema())
    assert {"data.source", "features.numeric.clip", "model.params", "gate.threshold"} <= train
    assert page.headings["gate.min_improvement"] == "train.gate.min_improvement"


def test_field_walker_follows_refs_unions_lists_and_mappings() -> None:
    # given: a schema with each construct the walker must follow
    schema = {
        "$defs": {
            "Leaf": {"properties": {"x": {"type": "integer"}}},
            "A": {"properties": {"kind": {"const": "a"}, "a": {"type": "string"}}},
            "B": {"properties": {"kind": {"const": "b"}, "b": {"type": "string"}}},
        },
        "properties": {
            "one": {"$ref": "#/$defs/Leaf"},
            "maybe": {"anyOf": [{"$ref": "#/$defs/Leaf"}, {"type": "null"}]},
            "either": {"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]},
            "many": {"type": "array", "items": {"$ref": "#/$defs/Leaf"}},
            "named": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Leaf"}},
        },
    }
    # when
    paths = field_paths(schema)
    # then
    assert paths == {
        "one",
        "one.x",
        "maybe",
        "maybe.x",
        "either",
        "either.kind",
        "either.a",
        "either.b",
        "many",
        "many[].x",
        "named",
        "named.<key>.x",
    }
    # and: the generator's walker agrees on the same schema
    confref = docs_tool("confref")
    assert {f.path for f in confref.walk(schema, schema["$defs"])} == paths


def test_libraries_reference_documents_every_public_name(site: Path) -> None:
    # given: every package under libs/ and the core modules
    libref = docs_tool("libref")
    pages = {
        package: f"/reference/libraries/{package.split('.')[1]}/"
        for package in libref.packages(REPO)
    }
    pages.update({module: "/reference/libraries/core/" for module in libref.CORE_MODULES})
    assert {"libs.datasets", "libs.features", "libs.models", "libs.gate", "libs.doe"} <= set(pages)
    for module_name, url in pages.items():
        module = importlib.import_module(module_name)
        # when
        ids = headings(page_file(site, url)).ids
        # then: each name of __all__ has its own anchor on the package's page
        missing = [name for name in libref.public_names(module) if name not in ids]
        assert missing == [], f"{module_name}: {missing}"


def test_docstring_text_cannot_become_html() -> None:
    # given
    escape_text = docs_tool("mdtext").escape_text
    # then: angle brackets are escaped outside code, kept inside code and indented blocks
    assert escape_text("under <home>/data, `<kept>`") == "under &lt;home&gt;/data, `<kept>`"
    assert escape_text("    python -m x <a>") == "    python -m x <a>"
    assert escape_text("a {{< shortcode >}}") == "a {&#123;&lt; shortcode &gt;}}"
