"""`python -m blocks.register` as a user runs it: idempotent, one-line errors."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from cli_support import REPO, cli_env


def register(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m blocks.register` on the test worker's Prefect server (cli_env): a
    temporary server of its own would cost each command about 20 CPU-s."""
    base = {k: v for k, v in cli_env(home, **env).items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "blocks.register", *args],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_register_from_yaml_twice_changes_nothing(tmp_path: Path) -> None:
    # given
    spec = tmp_path / "blocks.yaml"
    spec.write_text(
        "bucket: team-data\nprefix: mlops\nendpoint_url: http://127.0.0.1:9000\n"
        "aws_access_key_id: minio\naws_secret_access_key: minio-secret\n"
    )
    home = tmp_path / "state"
    # the worker's server is shared: block names of this test's own
    own = uuid.uuid4().hex[:8]
    names = {"bucket": f"data-{own}", "credentials": f"aws-{own}"}
    blocks = ("--bucket-block", names["bucket"], "--credentials-block", names["credentials"])
    # when
    first = register(home, "--file", str(spec), *blocks)
    second = register(home, "--file", str(spec), *blocks)
    # then
    assert first.returncode == 0, first.stderr[-2000:]
    assert f"{names['credentials']}: created" in first.stdout
    assert f"{names['bucket']}: created" in first.stdout
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"{names['credentials']}: unchanged" in second.stdout
    assert f"{names['bucket']}: unchanged" in second.stdout
    assert "minio-secret" not in first.stdout + first.stderr + second.stdout + second.stderr
    # and: the blocks live in the Prefect the command talked to, holding the file's values
    bucket = load_bucket(cli_env(home)["PREFECT_API_URL"], names["bucket"])
    assert (bucket.bucket_name, bucket.bucket_folder) == ("team-data", "mlops")
    assert bucket.credentials.aws_access_key_id == "minio"


def load_bucket(api_url: str, name: str) -> Any:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_aws import S3Bucket

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        return S3Bucket.load(name)


def test_register_without_bucket_is_a_one_line_error(tmp_path: Path) -> None:
    result = register(tmp_path / "state")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: MLOPS_S3_BUCKET: required (or pass --file blocks.yaml)"
    assert not (tmp_path / "state").exists()


def test_register_rejects_a_bad_bucket_name(tmp_path: Path) -> None:
    result = register(tmp_path / "state", MLOPS_S3_BUCKET="Bad_Bucket")
    assert result.returncode == 2
    assert result.stderr.startswith("error: environment: bucket: String should match pattern")
