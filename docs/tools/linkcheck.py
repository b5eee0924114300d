"""Check every internal link and anchor of a built site, with the standard library only.

    python docs/tools/linkcheck.py docs/public

An internal link is any `href`/`src` without a scheme. Each must name a file
of the site (a directory means its index.html) and, with a `#fragment`, an
element id in that file. External `http(s)` links are allowed in `<a>` only:
a page must not load anything (script, style, image, font) from elsewhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

LOADING = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("source", "src"),
    ("iframe", "src"),
}


@dataclass
class PageLinks:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attr, url)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageLinks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        for key in ("id", "name") if tag == "a" else ("id",):
            if key in values:
                self.page.ids.add(values[key])
        for attr in ("href", "src"):
            if attr in values:
                self.page.links.append((tag, attr, values[attr]))


def parse(path: Path) -> PageLinks:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.page


def url_of(site: Path, path: Path) -> str:
    rel = path.relative_to(site).as_posix()
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def target_file(site: Path, url_path: str) -> Path | None:
    candidate = site / unquote(url_path).lstrip("/")
    if url_path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def check_site(site: Path) -> tuple[list[str], int]:
    """Problems found (one line each) and the number of internal links checked."""
    pages = {p: parse(p) for p in sorted(site.rglob("*.html"))}
    problems: list[str] = []
    checked = 0
    for path, page in pages.items():
        base = url_of(site, path)
        for tag, attr, raw in page.links:
            parts = urlsplit(raw)
            where = f"{base}: <{tag} {attr}={raw!r}>"
            if parts.scheme in ("http", "https") or raw.startswith("//"):
                if (tag, attr) in LOADING:
                    problems.append(f"{where}: loads an external asset")
                continue
            if parts.scheme in ("mailto", "data"):
                continue
            if parts.scheme:
                problems.append(f"{where}: unexpected scheme {parts.scheme!r}")
                continue
            checked += 1
            resolved = urlsplit(urljoin(base, raw))
            target = path if not parts.path else target_file(site, resolved.path)
            if target is None:
                problems.append(f"{where}: no such page or file")
                continue
            if resolved.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(resolved.fragment) not in ids:
                    problems.append(f"{where}: no element with id {unquote(resolved.fragment)!r}")
    return problems, checked


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "docs/public")
    problems, checked = check_site(site)
    for line in problems:
        print(line, file=sys.stderr)
    print(f"linkcheck: {checked} internal links, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
