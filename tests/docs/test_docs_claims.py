"""What the docs claim about caching, a reproduction and a version's tags, checked against
the code (issue 35): the README's caching section names every task cached across runs;
the reproduction's registering matches what a sweep point's config records; the tags the
tour lists are the ones a version keeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from docs_support import REPO

from flows.config.sweep import load_sweep_config, plan_sweep
from tasks.tracking import VERSION_TAGS

README = REPO / "README.md"
LINEAGE = REPO / "docs" / "content" / "how-to" / "lineage.md"
TOUR = REPO / "docs" / "content" / "tour.md"
# A task cached across runs has a cache key of its own (the default keys include the run).
_CACHED_TASK = re.compile(r'@(?:io_)?task\((?:name=)?"([\w-]+)"[^)]*cache_key_fn=', re.S)


def _section(path: Path, heading: str) -> str:
    text = path.read_text()
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start : end if end > 0 else None]


def cached_tasks() -> set[str]:
    found: set[str] = set()
    for module in (REPO / "tasks").glob("*.py"):
        found |= set(_CACHED_TASK.findall(module.read_text()))
    return found


def test_the_readme_names_every_task_cached_across_runs() -> None:
    # given
    tasks = cached_tasks()
    caching = _section(README, "## Caching").lower()
    # then: the finder sees the three, and the section names each (and --reproduce)
    assert tasks == {"ingest", "preprocess", "train"}
    for name in tasks:
        assert name in caching, name
    assert "--reproduce" in caching and "--refresh-cache" in caching


def test_a_reproduction_registers_as_its_recorded_config_says() -> None:
    # given: what a sweep point's config records (a sweep-made version's run keeps it)
    plan = plan_sweep(load_sweep_config(REPO / "configs" / "sweeps" / "wine_rf_screening.yaml"))
    registers = {job.config.tracking.register_model for job in plan.jobs}
    text = " ".join(_section(LINEAGE, "## Re-run a version").split())
    # then: the page says a sweep's version reproduces without registering, as the code does
    assert registers == {False}
    assert "tracking.register_model: false" in text
    assert "Registered model: none (registration disabled)" in text
    assert "it registers a new version, and" not in text  # the old, unconditional claim


def test_the_tour_lists_the_tags_a_version_keeps() -> None:
    # given
    tour = TOUR.read_text()
    table = tour[tour.index("| version tag | meaning |") :].split("\n\n")[0]
    listed = set(re.findall(r"^\| `([\w.]+)`|, `([\w.]+)`", table, re.M))
    names = {a or b for a, b in listed}
    # then
    assert names == {"gate", "gate.state", *VERSION_TAGS}
