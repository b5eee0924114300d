"""The flows image's Dockerfile and the build context, read as text (no Docker engine here)."""

from __future__ import annotations

import re
import tomllib

from hcl_support import INFRA, REPO

DOCKERFILE = INFRA / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_two_stages_on_a_pinned_slim_python_311() -> None:
    bases = [args for keyword, args in instructions() if keyword == "FROM"]
    assert len(bases) == 2
    for base in bases:
        image = base.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", image), (
            f"{image}: not a pinned slim 3.11"
        )


def test_the_builder_installs_the_pinned_project_and_the_runtime_copies_its_venv() -> None:
    # given
    steps = instructions()
    runtime_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    builder, runtime = steps[:runtime_from], steps[runtime_from:]

    # then
    # the aws extra for the workers, postgres for the team stack's servers (modules/servers)
    assert any(k == "RUN" and "-c constraints.txt '.[aws,postgres]'" in a for k, a in builder)
    assert any(k == "COPY" and a.startswith("--from=builder /opt/venv") for k, a in runtime)
    assert not any(k == "RUN" and "pip install" in a for k, a in runtime)


def test_runs_as_a_non_root_user_with_a_health_check_and_the_worker_by_default() -> None:
    steps = instructions()
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert [a for k, a in steps if k == "HEALTHCHECK"]
    (cmd,) = [a for k, a in steps if k == "CMD"]
    assert '"prefect", "worker", "start", "--pool", "ec2"' in cmd


def test_no_secret_goes_into_a_layer() -> None:
    for keyword, args in instructions():
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert not re.search(r"(?i)(key|secret|token|password)\w*=", args), args


def test_dockerignore_keeps_local_state_and_tooling_out_of_the_context() -> None:
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".mlops", "tests", "docs", ".env"} <= ignored
    # what the Dockerfile copies must not be ignored
    copied = {
        a.split()[-2].rstrip("/")
        for k, a in instructions()
        if k == "COPY" and not a.startswith("--from")
    }
    sources = {s for a in copied for s in [a]} | {"pyproject.toml", "constraints.txt"}
    assert not sources & ignored
    for source in sources:
        assert (REPO / source).exists(), f"the Dockerfile copies {source}, which does not exist"


def test_the_builder_copies_every_package_the_project_installs() -> None:
    # given: the packages pyproject.toml tells setuptools to find
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    steps = instructions()
    runtime_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")

    # when
    copied = {a.split()[0].rstrip("/") for k, a in steps[:runtime_from] if k == "COPY"}

    # then
    assert packages
    assert packages <= copied
