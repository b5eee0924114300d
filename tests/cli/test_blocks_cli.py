"""`python -m blocks.register` as a user runs it: idempotent, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def register(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "AWS_"))}
    base.update(
        MLOPS_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        MLOPS_PREFECT_SERVER="temporary",
        **env,
    )
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
    # when
    first = register(home, "--file", str(spec))
    second = register(home, "--file", str(spec))
    # then
    assert first.returncode == 0, first.stderr[-2000:]
    assert "mlops-aws: created" in first.stdout and "mlops-data: created" in first.stdout
    assert second.returncode == 0, second.stderr[-2000:]
    assert "mlops-aws: unchanged" in second.stdout and "mlops-data: unchanged" in second.stdout
    assert "minio-secret" not in first.stdout + first.stderr + second.stdout + second.stderr
    # and: the blocks live in the platform's own Prefect database
    assert (home / "prefect" / "prefect.db").is_file()


def test_register_without_bucket_is_a_one_line_error(tmp_path: Path) -> None:
    result = register(tmp_path / "state")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: MLOPS_S3_BUCKET: required (or pass --file blocks.yaml)"
    assert not (tmp_path / "state").exists()


def test_register_rejects_a_bad_bucket_name(tmp_path: Path) -> None:
    result = register(tmp_path / "state", MLOPS_S3_BUCKET="Bad_Bucket")
    assert result.returncode == 2
    assert result.stderr.startswith("error: environment: bucket: String should match pattern")
