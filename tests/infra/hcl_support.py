"""Read the Terraform under infra/terraform with python-hcl2, for tests/infra."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TERRAFORM = INFRA / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"
INFRA_BIN = REPO / ".venv-infra" / "bin"

_REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_.\[\]\"-]+)\}$")


@dataclass(frozen=True)
class Block:
    """One labelled block (resource, data source, module, variable ...) of one file."""

    kind: str
    type: str
    name: str
    body: dict[str, Any]
    path: Path

    @property
    def address(self) -> str:
        return f"{self.path.relative_to(REPO)}: {self.kind} {self.type} {self.name}".strip()


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES.iterdir() if p.is_dir())


def root_dirs() -> list[Path]:
    """Every folder under envs/ that holds .tf files: one Terraform root each."""
    return sorted({p.parent for p in ENVS.rglob("*.tf") if ".terraform" not in p.parts})


@cache
def parse(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=options)


def blocks(kind: str, paths: list[Path] | None = None) -> list[Block]:
    """Blocks of one kind; resources and data sources have two labels, the rest one."""
    found: list[Block] = []
    for path in tf_files() if paths is None else paths:
        for entry in parse(path).get(kind, []):
            for first, inner in entry.items():
                if kind in ("resource", "data"):
                    for name, body in inner.items():
                        found.append(Block(kind, first, name, body, path))
                else:
                    found.append(Block(kind, "", first, inner, path))
    return found


def resources(type_: str | None = None, paths: list[Path] | None = None) -> list[Block]:
    return [b for b in blocks("resource", paths) if type_ is None or b.type == type_]


def data_sources(type_: str, paths: list[Path] | None = None) -> list[Block]:
    return [b for b in blocks("data", paths) if b.type == type_]


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.tf"))


def reference(value: Any) -> str | None:
    """`${aws_s3_bucket.this.id}` -> `aws_s3_bucket.this.id`; None for anything else."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value)
    return match.group(1) if match else None


def nested(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The nested blocks `name` of a body (python-hcl2 gives a list of dicts)."""
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def dynamic(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The `dynamic "name"` blocks of a body."""
    return [entry[name] for entry in nested(body, "dynamic") if name in entry]


def statements(document: Block) -> Iterator[dict[str, Any]]:
    yield from nested(document.body, "statement")
