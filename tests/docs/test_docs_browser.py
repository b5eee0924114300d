"""The site in headless Chromium: sidebar, search, and nothing loaded from elsewhere."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest


pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def page(browser, server: str):
    """A page that records every request and every script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.requests = []  # type: ignore[attr-defined]
    tab.errors = []  # type: ignore[attr-defined]
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()


def assert_only_loopback(requests: list[str]) -> None:
    hosts = {urlsplit(url).hostname for url in requests}
    assert hosts == {"127.0.0.1"}, sorted(url for url in requests if "127.0.0.1" not in url)


def search(page, server: str, words: str) -> list[dict[str, str]]:
    page.fill("#search-input", words)
    page.wait_for_selector("#search-results a.search-result", timeout=10_000)
    return page.eval_on_selector_all(
        "#search-results a.search-result",
        "links => links.map(a => ({href: a.getAttribute('href'), text: a.textContent}))",
    )


def test_home_page_has_the_sidebar_and_search_finds_a_page(page, server: str) -> None:
    # when
    page.goto(server + "/", wait_until="load")
    # then: the sidebar lists the top-level pages, the home page marked current
    nav = page.eval_on_selector_all("#sidebar a", "links => links.map(a => a.getAttribute('href'))")
    for url in ("/quickstart/", "/architecture/", "/tour/", "/how-to/", "/reference/",
                "/troubleshooting/"):  # fmt: skip
        assert url in nav
    assert page.get_attribute("#sidebar a[aria-current=page]", "href") == "/"
    # when: a word is typed into the search box
    results = search(page, server, "champion")
    # then: results link to real pages, and following the first one lands there
    assert results and any(r["href"].startswith("/tour/") for r in results)
    first = results[0]["href"]
    response = page.goto(server + first, wait_until="load")
    assert response is not None and response.status == 200
    assert page.url == server + first
    assert page.errors == []
    assert_only_loopback(page.requests)


def test_search_finds_a_config_field_on_the_reference_page(page, server: str) -> None:
    # given: a reference page
    page.goto(server + "/reference/configuration/", wait_until="load")
    assert page.is_visible("nav.toc, aside.toc")
    # when
    results = search(page, server, "min_improvement")
    # then: the top result links to the field's own heading
    assert results[0]["href"] == "/reference/configuration/#train.gate.min_improvement"
    page.click("#search-results a.search-result >> nth=0")
    page.wait_for_url("**/reference/configuration/#train.gate.min_improvement")
    heading = page.locator("[id='train.gate.min_improvement']")
    assert heading.is_visible()
    assert "gate.min_improvement" in heading.inner_text()
    assert page.errors == []
    assert_only_loopback(page.requests)


def test_search_says_when_nothing_matches(page, server: str) -> None:
    page.goto(server + "/quickstart/", wait_until="load")
    page.fill("#search-input", "zzzyxwv")
    page.wait_for_selector("#search-results .r-empty", timeout=10_000)
    assert "No results" in page.inner_text("#search-results")
    assert_only_loopback(page.requests)
