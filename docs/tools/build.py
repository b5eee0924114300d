"""`make docs`: generate the reference pages, then build the Hugo site.

    python docs/tools/build.py [--destination DIR] [--base-url URL] [--source DIR]

1. Writes content/reference/configuration.md from the config models' JSON
   schema and content/reference/libraries/ from the libraries' docstrings
   (both git-ignored: they are rebuilt from the code every time).
2. Runs the venv's Hugo with --panicOnWarning, so any warning fails the build.
3. Checks every internal link and anchor of the output.

Exits 0 on success; otherwise prints one line saying what failed (and Hugo's
own output) and exits 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
DOCS = TOOLS.parent
ROOT = DOCS.parent
sys.path[:0] = [str(TOOLS), str(ROOT)]

import confref  # noqa: E402
import libref  # noqa: E402
import linkcheck  # noqa: E402


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def write_if_changed(path: Path, text: str) -> None:
    """Atomic write that leaves an unchanged file alone (keeps Hugo's watch quiet)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def generate(source: Path) -> list[str]:
    """Write the generated reference pages under `source`/content/reference; returns notes."""
    reference = source / "content" / "reference"
    page, notes = confref.render_page()
    write_if_changed(reference / "configuration.md", page)
    libraries = reference / "libraries"
    pages = libref.render_pages(ROOT)
    if libraries.is_dir():
        for stale in libraries.glob("*.md"):
            if stale.name not in pages:
                stale.unlink()
    for name, text in pages.items():
        write_if_changed(libraries / name, text)
    return notes


def hugo_binary() -> str:
    candidate = Path(sys.executable).parent / "hugo"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("hugo")
    if found:
        return found
    raise BuildError(
        f"hugo not found next to {sys.executable} or on PATH: run `make install-dev` "
        "(the dev extra pins the hugo package)"
    )


def run_hugo(source: Path, destination: Path, base_url: str) -> str:
    command = [
        hugo_binary(),
        "build",
        "--source",
        str(source),
        "--destination",
        str(destination),
        "--baseURL",
        base_url,
        "--cleanDestinationDir",
        "--panicOnWarning",
        "--printPathWarnings",
        "--logLevel",
        "warn",
        "--noBuildLock",
    ]
    env = {**os.environ, "HUGO_ENVIRONMENT": "production"}
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError("hugo did not finish within 300 s") from exc
    output = (result.stdout + result.stderr).strip()
    # With --panicOnWarning a warning ends in a Go stack trace: show the messages only.
    messages = [line for line in output.splitlines() if line.startswith(("WARN", "ERROR"))]
    if result.returncode != 0:
        detail = "\n".join(messages) if messages else output
        raise BuildError(f"hugo failed (exit {result.returncode}):\n{detail}")
    if messages:
        raise BuildError("hugo reported warnings:\n" + "\n".join(messages))
    return output


def build(source: Path, destination: Path, base_url: str) -> None:
    started = time.monotonic()
    notes = generate(source)
    for note in notes:
        print(f"docs: note: {note}")
    generated = time.monotonic()
    run_hugo(source, destination, base_url)
    built = time.monotonic()
    problems, checked = linkcheck.check_site(destination)
    if problems:
        raise BuildError(
            f"{len(problems)} broken internal link(s) in {destination}:\n" + "\n".join(problems)
        )
    pages = sum(1 for _ in destination.rglob("*.html"))
    print(
        f"docs: built {pages} pages into {destination} "
        f"(generate {generated - started:.1f}s, hugo {built - generated:.1f}s, "
        f"{checked} internal links ok)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docs/tools/build.py", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DOCS, help="the Hugo site (default: docs/)")
    parser.add_argument(
        "--destination", type=Path, default=None, help="output folder (default: <source>/public)"
    )
    parser.add_argument("--base-url", default="/", help="the site's base URL (default: /)")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    destination = (args.destination or source / "public").resolve()
    try:
        build(source, destination, args.base_url)
    except BuildError as exc:
        print(f"error: docs build failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a generator bug, or an import error in the code documented
        traceback.print_exc()
        print(f"error: docs build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
