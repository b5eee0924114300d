"""The Hugo site builds without warnings, every link resolves, every page is reachable."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docs_support import DOCS, REPO, Build, content_urls, docs_tool, page_file, run_build


class _Sidebar(HTMLParser):
    """Links inside `<nav id="sidebar">`, and which one is marked as the current page."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.links: list[str] = []
        self.current: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and values.get("id") == "sidebar":
            self.depth = 1
        elif self.depth and tag == "nav":
            self.depth += 1
        elif self.depth and tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
            if values.get("aria-current") == "page":
                self.current.append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "nav":
            self.depth -= 1


def sidebar(path: Path) -> _Sidebar:
    parser = _Sidebar()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.serial  # it times the build: alone, not beside three other workers
def test_site_builds_without_warnings(docs_build: Build, site: Path) -> None:
    # then: a clean build, with its summary line, in well under the suite's budget
    output = docs_build.result.stdout + docs_build.result.stderr
    assert "WARN" not in output and "ERROR" not in output, output
    assert "docs: built" in docs_build.result.stdout
    assert docs_build.seconds < 30, f"docs build took {docs_build.seconds:.1f}s"
    # and: every markdown page under docs/content became an HTML page, whatever
    # pages other features have added (the how-tos of later flows included)
    for source, url in content_urls().items():
        assert page_file(site, url).is_file(), f"{source} -> {url} was not built"
    assert (site / "index.json").is_file()


def test_a_hugo_warning_fails_the_build(tmp_path: Path) -> None:
    # given: a copy of the site with a page holding raw HTML (Hugo warns and omits it)
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("public", "resources"))
    (source / "content" / "raw.md").write_text("---\ntitle: Raw\n---\n\n<div>raw</div>\n")
    # when
    result = run_build("--source", str(source), "--destination", str(tmp_path / "out"))
    # then: a non-zero exit with one clear line, then Hugo's warning
    assert result.returncode == 1
    assert result.stderr.startswith("error: docs build failed: hugo failed")
    assert "WARN  Raw HTML omitted" in result.stderr
    assert "goroutine" not in result.stderr


def test_every_internal_link_and_anchor_resolves(site: Path) -> None:
    # when
    problems, checked = docs_tool("linkcheck").check_site(site)
    # then
    assert problems == []
    assert checked > 200


def test_the_link_checker_finds_broken_links_and_anchors(tmp_path: Path) -> None:
    # given: a two-page site with one good link, one missing page, one missing anchor
    # and one external script
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2>')
    (tmp_path / "index.html").write_text(
        '<a href="/a/#here">ok</a> <a href="a/">ok</a> <a href="#top" id="top">ok</a>'
        '<a href="/b/">missing</a> <a href="/a/#nowhere">no anchor</a>'
        '<a href="https://example.org/">external link is fine</a>'
        '<script src="https://cdn.example.org/x.js"></script>'
    )
    # when
    problems, checked = docs_tool("linkcheck").check_site(tmp_path)
    # then
    assert checked == 5
    assert len(problems) == 3
    assert any("/b/" in p and "no such page" in p for p in problems)
    assert any("'nowhere'" in p for p in problems)
    assert any("external asset" in p for p in problems)


def test_every_page_is_in_the_sidebar_and_marked_current_on_itself(site: Path) -> None:
    # given
    urls = set(content_urls().values())
    # when
    seen: set[str] = set()
    for url in sorted(urls):
        nav = sidebar(page_file(site, url))
        seen.update(nav.links)
        # then: each page's sidebar marks exactly that page as current
        assert nav.current == [url], url
    # and: together, the sidebars reach every page
    assert urls <= seen, sorted(urls - seen)
    # and: the home page's sidebar lists every top-level page and section
    home = sidebar(site / "index.html").links
    for source, url in content_urls().items():
        if source.count("/") == 0 or (source.endswith("/_index.md") and source.count("/") == 1):
            assert url in home, source


def test_search_index_has_every_page_with_its_text_and_headings(site: Path) -> None:
    # when
    entries = json.loads((site / "index.json").read_text(encoding="utf-8"))
    # then
    by_url = {entry["url"]: entry for entry in entries}
    assert set(content_urls().values()) <= set(by_url)
    for entry in entries:
        assert entry["title"], entry["url"]
        assert {"url", "title", "section", "content", "headings"} <= set(entry)
    config = by_url["/reference/configuration/"]
    assert {"id": "train.gate.min_improvement", "title": "gate.min_improvement"} in config[
        "headings"
    ]
    assert "min_improvement" in config["content"]


def test_no_page_loads_anything_from_elsewhere(site: Path) -> None:
    # then: no CDN in the stylesheet or scripts (the link checker covers HTML tags)
    for path in [*site.rglob("*.css"), *site.rglob("*.js")]:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "@import" not in text and "fonts.googleapis" not in text, path


def test_generated_pages_and_output_are_git_ignored() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    # given
    generated = [
        "docs/public/index.html",
        "docs/content/reference/configuration.md",
        "docs/content/reference/libraries/_index.md",
        "docs/content/reference/libraries/models.md",
    ]
    # when
    result = subprocess.run(
        ["git", "check-ignore", *generated], cwd=REPO, capture_output=True, text=True
    )
    # then
    assert result.stdout.split() == generated
    tracked = subprocess.run(
        ["git", "ls-files", "docs/content/reference"], cwd=REPO, capture_output=True, text=True
    ).stdout.split()
    assert set(tracked) <= {"docs/content/reference/_index.md"}
