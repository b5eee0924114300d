"""bitbucket-pipelines.yml: parses, runs .ci/run's make targets, pushes only after them."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml
from hcl_support import REPO

PIPELINE = REPO / "bitbucket-pipelines.yml"
CI_RUN = REPO / ".ci" / "run"
HOW_TO = REPO / "docs" / "content" / "how-to" / "terraform.md"
# The one way the image is built, by the pipeline and by hand in the how-to.
BUILD_COMMAND = 'docker build --file infra/docker/Dockerfile --tag "$IMAGE" .'


def make_targets(commands: list[str]) -> list[str]:
    """The targets of every `make ...` command (VAR=value arguments and options left out)."""
    targets: list[str] = []
    for command in commands:
        for part in re.split(r"&&|\|\||;|\|", command):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:  # a quote that spans the && or | the part was cut at
                words = part.split()
            while words and (words[0] == "env" or words[0].startswith("-") or "=" in words[0]):
                words = words[1:] if words[0] != "-u" else words[2:]
            if words and words[0] == "make":
                targets += [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    return targets


def steps(pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in pipeline:
        if "step" in item:
            found.append(item["step"])
        for group in ("parallel", "stage"):
            inner = item.get(group)
            if isinstance(inner, dict):
                inner = inner.get("steps", [])
            found += steps(inner or [])
    return found


def commands(step: dict[str, Any]) -> list[str]:
    return [c for c in step.get("script", []) if isinstance(c, str)]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text())


@pytest.fixture(scope="module")
def ci_targets() -> list[str]:
    lines = [line for line in CI_RUN.read_text().splitlines() if not line.strip().startswith("#")]
    targets = make_targets(lines)
    assert targets, ".ci/run calls no make target"
    return targets


def test_make_targets_are_read_from_commands() -> None:
    assert make_targets(['make test PYTEST_ARGS="-q -p x"']) == ["test"]
    assert make_targets(["env -u A -u B make deploy TARGET=aws/1/r"]) == ["deploy"]
    assert make_targets(["apt-get update && make lint typecheck"]) == ["lint", "typecheck"]
    assert make_targets(["echo make"]) == []


def test_every_branch_runs_the_targets_of_ci_run(config: dict, ci_targets: list[str]) -> None:
    # given
    default = steps(config["pipelines"]["default"])

    # when
    targets = [t for step in default for t in make_targets(commands(step))]

    # then
    assert set(ci_targets) <= set(targets)


def test_main_tests_then_pushes_the_image_then_deploys(config: dict, ci_targets: list[str]) -> None:
    # given
    main = steps(config["pipelines"]["branches"]["main"])
    scripts = [" ".join(commands(step)) for step in main]

    def first(pattern: str) -> int:
        matches = [i for i, script in enumerate(scripts) if re.search(pattern, script)]
        assert matches, f"no step of main matches {pattern!r}"
        return matches[0]

    # when
    tested = max(first(rf"\bmake {t}\b") for t in ci_targets)
    built = first(r"docker build .*infra/docker/Dockerfile")
    pushed = first(r"docker push")
    deployed = first(r"\bmake deploy\b")

    # then
    assert tested < built <= pushed < deployed
    assert "ecr get-login-password" in scripts[pushed]


def test_no_credential_is_written_in_the_pipeline() -> None:
    text = PIPELINE.read_text()
    assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", text)
    assert not re.search(r"\bpnu_[A-Za-z0-9]{20,}", text)
    # Credentials are only ever read from repository variables ($NAME), never assigned.
    assert not re.search(
        r"(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|PREFECT_API_KEY)\s*[=:]\s*[^\s$]", text
    )


def test_the_deploy_keeps_ci_keys_out_of_the_storage_blocks(config: dict) -> None:
    main = steps(config["pipelines"]["branches"]["main"])
    (deploy,) = [c for step in main for c in commands(step) if "make deploy" in c]
    assert "-u AWS_ACCESS_KEY_ID" in deploy and "-u AWS_SECRET_ACCESS_KEY" in deploy


def test_the_how_to_builds_the_image_as_the_pipeline_does(config: dict) -> None:
    # given
    main = steps(config["pipelines"]["branches"]["main"])
    builds = [c for step in main for c in commands(step) if c.startswith("docker build")]

    # then
    assert builds == [BUILD_COMMAND]
    assert BUILD_COMMAND in HOW_TO.read_text()
