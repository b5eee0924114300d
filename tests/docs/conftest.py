"""The documentation site, built once per session into a temporary folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from docs_support import Build, run_build


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """`docs/tools/build.py` run exactly as `make docs` runs it, into a temp folder."""
    site = tmp_path_factory.mktemp("docs-site") / "public"
    started = time.monotonic()
    result = run_build("--destination", str(site))
    return Build(result, site, time.monotonic() - started)


@pytest.fixture(scope="session")
def site(docs_build: Build) -> Path:
    """The built site's folder; fails every test that needs it when the build failed."""
    if docs_build.result.returncode != 0:
        pytest.fail(
            f"docs build failed (exit {docs_build.result.returncode}):\n"
            f"{docs_build.result.stderr[-4000:]}"
        )
    return docs_build.site
