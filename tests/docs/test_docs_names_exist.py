"""Every repo path, make target, command-line flag and MLOPS_ setting a page names exists.

Pages drift from the code quietly: a renamed config, a removed flag, a target
that never was. This reads every docs page (and the READMEs) and checks each
name against the repository itself: paths against the work tree, `make X`
against the Makefile's targets, `python -m MODULE ... --flag` against that
command's own `--help`, and `MLOPS_*` against the code that reads them.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_support import REPO

PAGES = sorted((REPO / "docs" / "content").rglob("*.md")) + [
    REPO / "README.md",
    REPO / "deployments" / "README.md",
]
# Where the repository's own paths start (runtime folders like .mlops/ are not in it).
TOP = sorted(
    p.name for p in REPO.iterdir() if not p.name.startswith(".") and p.name not in {"shared"}
)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_PATH = re.compile(r"(?<![\w./-])((?:%s)(?:/[\w.*<>{}-]+)*/?)" % "|".join(map(re.escape, TOP)))
_MAKE = re.compile(r"\bmake ([a-z][a-z0-9_-]*)")
_COMMAND = re.compile(r"python -m ([a-z_][a-z0-9_.]*)((?:[ \t]+(?:\\\n)?[^\s|;&]+)*)")
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
_SETTING = re.compile(r"\bMLOPS_[A-Z][A-Z0-9_]*\b")


def _code_text(text: str) -> str:
    """Inline code spans and fenced blocks: where a page names things literally.

    Quoted error output (a line with `error:`) is left out: it names a file
    that is missing on purpose (`error: config file not found: configs/irsi.yaml`).
    """
    spans = _CODE_SPAN.findall(text) + _FENCE.findall(text)
    lines = "\n".join(spans).splitlines()
    return "\n".join(line for line in lines if "error:" not in line)


def _path_exists(name: str) -> bool:
    name = name.rstrip("/.,:")
    if any(c in name for c in "<>{}"):  # a pattern like libs/models/<name>.py: its folder
        name = re.split(r"[<{]", name, maxsplit=1)[0].rsplit("/", 1)[0]
    if "*" in name:
        return any(REPO.glob(name))
    return (REPO / name).exists()


@functools.cache
def make_targets() -> frozenset[str]:
    text = (REPO / "Makefile").read_text()
    return frozenset(re.findall(r"^([a-z][a-z0-9_-]*):", text, re.M))


@functools.cache
def command_flags(module: str) -> frozenset[str] | None:
    """The flags `python -m module --help` lists; None when it is not a command."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    shown = done.stdout + done.stderr
    if "usage:" not in shown:  # not an argparse command (or not a module at all)
        return None
    return frozenset(_FLAG.findall(shown)) | {"--help"}


@functools.cache
def code_settings() -> frozenset[str]:
    """Every MLOPS_ name the code, Makefile, CI scripts or tests use (a page may tell
    how to rerun a measured test, e.g. MLOPS_COMPARE_SQLITE)."""
    found: set[str] = set()
    folders = ("libs", "tasks", "flows", "blocks", "deployments", "benchmarks", "infra", "tests")
    for folder in folders:
        for path in (REPO / folder).rglob("*"):
            if path == Path(__file__).resolve():  # its self-test names a setting on purpose
                continue
            if path.is_file() and path.suffix in {".py", ".yaml", ".sh", ".tf", ""}:
                found |= set(_SETTING.findall(path.read_text(errors="ignore")))
    found |= set(_SETTING.findall((REPO / "Makefile").read_text()))
    from libs.settings import PlatformSettings  # pydantic-settings: MLOPS_ + field name

    found |= {f"MLOPS_{name.upper()}" for name in PlatformSettings.model_fields}
    return frozenset(found)


def problems(text: str, *, check_flags: bool = True) -> list[str]:
    """What a page's text names that the repository does not have."""
    code = _code_text(text)
    found = []
    for name in sorted(set(_PATH.findall(code))):
        if not _path_exists(name):
            found.append(f"path {name} does not exist")
    for target in sorted(set(_MAKE.findall(code))):
        if target not in make_targets():
            found.append(f"make target {target!r} is not in the Makefile")
    for setting in sorted(set(_SETTING.findall(text))):
        if setting not in code_settings():
            found.append(f"setting {setting} is read nowhere in the code")
    if check_flags:
        for module, rest in _COMMAND.findall(code):
            flags = command_flags(module)
            if flags is None:
                found.append(f"`python -m {module}` is not a command (no usage from --help)")
                continue
            for flag in _FLAG.findall(rest):
                if flag not in flags:
                    found.append(f"`python -m {module}` has no flag {flag}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_name_a_page_mentions_exists(page: Path) -> None:
    # given / when
    found = problems(page.read_text(encoding="utf-8"))
    # then
    assert found == [], f"{page.relative_to(REPO)}: " + "; ".join(found)


def test_the_checker_catches_a_missing_path_target_flag_and_setting() -> None:
    # given: a page that names one thing of each kind that does not exist
    page = (
        "Run `make trian`, then edit `configs/nope.yaml` and set `MLOPS_NO_SUCH`:\n\n"
        "```bash\npython -m flows.train --config configs/default.yaml --no-such-flag\n```\n"
    )
    # when
    found = problems(page)
    # then: each is named, and what exists is not
    assert "path configs/nope.yaml does not exist" in found
    assert "make target 'trian' is not in the Makefile" in found
    assert "setting MLOPS_NO_SUCH is read nowhere in the code" in found
    assert "`python -m flows.train` has no flag --no-such-flag" in found
    assert not any("configs/default.yaml" in f or "--config" in f for f in found)
