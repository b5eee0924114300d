"""Helpers shared by the documentation tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
TOOLS = DOCS / "tools"
BUILD = TOOLS / "build.py"


def docs_tool(name: str) -> ModuleType:
    """Import a module of docs/tools (they import each other by plain name)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module(name)


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@dataclass(frozen=True)
class Build:
    result: subprocess.CompletedProcess[str]
    site: Path
    seconds: float


def page_file(site: Path, url: str) -> Path:
    """The HTML file a site URL such as `/reference/configuration/` serves."""
    path = site / url.split("#", 1)[0].lstrip("/")
    return path / "index.html" if url.endswith("/") or path.is_dir() else path


def content_urls() -> dict[str, str]:
    """URL of every markdown page under docs/content, by its content path."""
    urls: dict[str, str] = {}
    content = DOCS / "content"
    for md in sorted(content.rglob("*.md")):
        rel = md.relative_to(content).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "_index":
            parts = parts[:-1]
        urls[md.relative_to(content).as_posix()] = "/" + "".join(f"{p.lower()}/" for p in parts)
    return urls
