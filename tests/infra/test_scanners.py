"""checkov, hadolint and terraform fmt over infra/, offline.

checkov and hadolint come from .venv-infra (`make test` installs it: checkov
cannot share .venv with python-hcl2, both ship an `hcl2` module).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hcl_support import INFRA, INFRA_BIN, TERRAFORM

CHECKOV = INFRA_BIN / "checkov"
HADOLINT = INFRA_BIN / "hadolint"
DOCKERFILE = INFRA / "docker" / "Dockerfile"


def require(tool: Path) -> Path:
    if not tool.is_file():
        pytest.skip(
            f"{tool.name} is not installed at {tool}: `make test` installs it (.venv-infra)"
        )
    return tool


@pytest.fixture(scope="module")
def checkov_report() -> list[dict]:
    # given
    checkov = require(CHECKOV)

    # when
    completed = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(INFRA),
            "--framework",
            "terraform",
            "dockerfile",
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert completed.stdout.strip(), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_no_failed_check(checkov_report: list[dict]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']}): "
        f"{c['check_name']}"
        for section in checkov_report
        for c in section["results"].get("failed_checks", [])
    ]
    assert failed == []


def test_checkov_scanned_terraform_and_the_dockerfile(checkov_report: list[dict]) -> None:
    # A scan that parsed nothing would pass the test above: make sure it read both.
    scanned = {section["check_type"]: section["summary"]["passed"] for section in checkov_report}
    assert scanned.get("terraform", 0) > 50
    assert scanned.get("dockerfile", 0) > 20
    parse_errors = [
        e for section in checkov_report for e in section["results"].get("parsing_errors", [])
    ]
    assert parse_errors == []


def test_every_skipped_checkov_check_carries_a_reason(checkov_report: list[dict]) -> None:
    skipped = [c for s in checkov_report for c in s["results"].get("skipped_checks", [])]
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 20 and reason != "No comment provided", (
            f"{check['check_id']} on {check['resource']} is skipped without a reason"
        )


def test_hadolint_passes_on_the_dockerfile() -> None:
    # given
    hadolint = require(HADOLINT)

    # when
    completed = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )

    # then
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_no_hadolint_rule_is_ignored_without_a_reason() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            previous = lines[number - 1].strip() if number else ""
            assert previous.startswith("#") and "hadolint" not in previous, (
                f"Dockerfile:{number + 1}: an ignored rule needs a reason on the line above"
            )


def test_terraform_fmt_check() -> None:
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.skip(
            "no terraform or tofu binary on PATH (none can be installed from the package "
            "registries this project uses); the HCL still parses in test_terraform.py"
        )
    completed = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
