"""`make deploy`: work pools, storage blocks and deployments of one target, idempotently.

    python -m deployments.apply [--target local | workstations | local/<machine>
                                 | aws/<account>/<region>]

A target (deployments/targets/NAME.yaml, deployments/local/MACHINE/target.yaml
or deployments/aws/ACCOUNT/REGION/target.yaml)
names its work pools, the pool the deployments use, where the code lives on the
workers, and environment for the flow runs. Needs a Prefect server: the one of
`make serve`, or PREFECT_API_URL. Applying the same target twice changes nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from libs.config import read_yaml, validate
from libs.errors import InputError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class PoolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
    type: Literal["process", "docker", "ecs", "kubernetes"] = "process"
    description: str = ""
    concurrency_limit: int | None = Field(None, ge=1)


class TargetSpec(BaseModel):
    """Where and how a set of deployments runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project_dir: str = "."
    work_pool: str
    pools: list[PoolSpec] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)


def target_path(name: str) -> Path:
    if name.startswith(("aws/", "local/")):
        return HERE / name / "target.yaml"
    return HERE / "targets" / f"{name}.yaml"


def load_target(name: str) -> TargetSpec:
    path = target_path(name)
    if not path.is_file():
        raise InputError(f"--target {name}: no target file at {path.relative_to(REPO)}")
    target = validate(TargetSpec, read_yaml(path), str(path.relative_to(REPO)))
    if target.work_pool not in {p.name for p in target.pools}:
        raise InputError(
            f"{path.relative_to(REPO)}: work_pool: '{target.work_pool}' is not in pools"
        )
    return target


def apply_pools(pools: list[PoolSpec]) -> dict[str, str]:
    """Create missing pools and update changed ones; returns each pool's outcome."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound

    outcome: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for pool in pools:
            try:
                current = client.read_work_pool(pool.name)
            except ObjectNotFound:
                client.create_work_pool(
                    WorkPoolCreate(
                        name=pool.name,
                        type=pool.type,
                        description=pool.description,
                        concurrency_limit=pool.concurrency_limit,
                    )
                )
                outcome[pool.name] = "created"
                continue
            if current.type != pool.type:
                raise InputError(
                    f"pool '{pool.name}' exists with type '{current.type}', "
                    f"target says '{pool.type}'"
                )
            if (current.description or "") != pool.description or (
                current.concurrency_limit != pool.concurrency_limit
            ):
                client.update_work_pool(
                    pool.name,
                    WorkPoolUpdate(
                        description=pool.description, concurrency_limit=pool.concurrency_limit
                    ),
                )
                outcome[pool.name] = "updated"
            else:
                outcome[pool.name] = "unchanged"
    return outcome


def render_prefect_yaml(target: TargetSpec) -> dict[str, Any]:
    """deployments/prefect.yaml with the target's flow-run environment added."""
    data = yaml.safe_load((HERE / "prefect.yaml").read_text())
    if target.env:
        for deployment in data["deployments"]:
            pool = deployment.setdefault("work_pool", {})
            variables = pool.setdefault("job_variables", {})
            variables["env"] = {**target.env, **variables.get("env", {})}
    return data


def deploy(target: TargetSpec, api_url: str) -> None:
    project_dir = target.project_dir
    if not project_dir.startswith("/"):
        project_dir = str((REPO / project_dir).resolve())
    with tempfile.NamedTemporaryFile(
        "w", prefix=".rendered-", suffix=".yaml", dir=HERE, delete=False
    ) as handle:
        yaml.safe_dump(render_prefect_yaml(target), handle, sort_keys=False)
        rendered = Path(handle.name)
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "MLOPS_PROJECT_DIR": project_dir,
        "MLOPS_WORK_POOL": target.work_pool,
    }
    try:
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "prefect"),
                "--no-prompt",
                "deploy",
                "--all",
                "--prefect-file",
                str(rendered),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        rendered.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"prefect deploy failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.apply", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--target", default="local")
    args = parser.parse_args(argv)
    try:
        target = load_target(args.target)
        from prefect.settings import get_current_settings

        from deployments.runtime import local_prefect

        with local_prefect():
            api_url = get_current_settings().api.url
            if not api_url:
                raise InputError(
                    "no Prefect server: run `make serve` first, or set PREFECT_API_URL "
                    "(MLOPS_PREFECT_SERVER=temporary is set)"
                )
            pools = apply_pools(target.pools)
            blocks: dict[str, str] = {}
            if os.environ.get("MLOPS_S3_BUCKET"):
                from blocks.register import register_blocks, spec_from_env

                blocks = register_blocks(spec_from_env())
            deploy(target, api_url)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, what in {**pools, **blocks}.items():
        print(f"{name}: {what}")
    names = [d["name"] for d in yaml.safe_load((HERE / "prefect.yaml").read_text())["deployments"]]
    print(f"Deployed {', '.join(names)} to pool '{target.work_pool}'.")
    print(f"Start a worker with: make worker POOL={target.work_pool}")
    print("Run one with: prefect deployment run 'train/iris' --watch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
