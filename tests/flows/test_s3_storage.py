"""S3 as storage through Prefect blocks, against a real S3-protocol server on loopback."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import mlflow
import pytest
from mlflow import MlflowClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect_support import task_runs_of
from s3_support import FaultProxy, fail_first, reject_key

from blocks.register import StorageBlocksSpec, register_blocks
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from libs.datasets.synthetic import make_customers
from libs.errors import InputError
from libs.settings import PlatformSettings

KEY, SECRET = "AKIATESTKEY", "s3cr3t-value-that-must-never-leak-8f2c"
AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "MLFLOW_S3_ENDPOINT_URL",
    "MLOPS_STORAGE_BLOCK",
)


@pytest.fixture
def clean_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a run puts in the environment for MLflow is undone after the test."""
    for name in AWS_ENV:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def s3(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )


def new_bucket(endpoint: str) -> str:
    name = f"mlops-{uuid.uuid4().hex[:10]}"
    s3(endpoint).create_bucket(Bucket=name)
    return name


def blocks_for(endpoint: str, bucket: str, *, key: str = KEY, prefix: str = "team-a") -> str:
    """Register the two blocks under names unique to the test; returns the bucket block name."""
    suffix = uuid.uuid4().hex[:8]
    spec = StorageBlocksSpec(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=SECRET,  # type: ignore[arg-type]
    )
    register_blocks(spec, bucket_block=f"data-{suffix}", credentials_block=f"aws-{suffix}")
    return f"data-{suffix}"


def keys(endpoint: str, bucket: str) -> list[str]:
    pages = s3(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def test_block_registration_is_idempotent(s3_server: str) -> None:
    # given
    spec = StorageBlocksSpec(
        bucket="some-bucket",
        prefix="p",
        endpoint_url=s3_server,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,  # type: ignore[arg-type]
    )
    names = {"bucket_block": "idem-data", "credentials_block": "idem-aws"}
    # when
    first = register_blocks(spec, **names)
    second = register_blocks(spec, **names)
    changed = register_blocks(spec.model_copy(update={"prefix": "q"}), **names)
    # then
    assert first == {"idem-aws": "created", "idem-data": "created"}
    assert second == {"idem-aws": "unchanged", "idem-data": "unchanged"}
    assert changed == {"idem-aws": "unchanged", "idem-data": "updated"}


def champion_on_s3(endpoint: str, model_name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket reached through the storage block, and a model trained onto it (version
    1, the champion); returns the bucket. The experiment is the model's own: an experiment
    keeps the artifact root it was created with."""
    bucket = new_bucket(endpoint)
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", blocks_for(endpoint, bucket))
    config = load_train_config(
        None,
        [
            "data.source=iris",
            "data.max_rows=60",
            f"tracking.model_name={model_name}",
            f"tracking.experiment=s3-{model_name}",
        ],
    )
    train_sklearn(config)
    return bucket


def only_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the environment but the block's name, as in a fresh process."""
    for name in AWS_ENV:
        if name != "MLOPS_STORAGE_BLOCK":
            monkeypatch.delenv(name, raising=False)


def test_training_run_on_s3_storage(
    flow_home: Path, model_name: str, s3_server: str, clean_aws_env: None, monkeypatch
) -> None:
    # given: storage and MLflow artifacts in a bucket reached through blocks
    bucket = new_bucket(s3_server)
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", blocks_for(s3_server, bucket))
    config = load_train_config(
        None,
        [
            "data.source=iris",
            f"tracking.model_name={model_name}",
            f"tracking.experiment=s3-{model_name}",
        ],
    )
    # when
    state = train_sklearn(config, return_state=True)
    summary = state.result()
    # then: snapshot, report and model artifacts are objects in the bucket
    stored = keys(s3_server, bucket)
    assert any(k.startswith("team-a/snapshots/iris/") for k in stored)
    assert f"team-a/reports/{summary.run_id}/report.html" in stored
    assert any(k.startswith("team-a/mlartifacts/") and k.endswith("MLmodel") for k in stored), (
        "\n".join(stored)
    )
    assert summary.report_uri.startswith(f"s3://{bucket}/team-a/reports/")
    # and: the registered model loads back from S3 and predicts
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    rows = make_iris_rows()
    assert len(model.predict(rows)) == len(rows)
    # and: the secret appears nowhere that was logged
    assert_no_secret_logged(summary.run_id, str(state.state_details.flow_run_id))


def make_iris_rows():
    from libs.datasets import load_bundled

    return load_bundled("iris").drop(columns=["target"]).head(5)


def assert_no_secret_logged(run_id: str, flow_run_id: str) -> None:
    client = MlflowClient(PlatformSettings().resolved_tracking_uri)
    run = client.get_run(run_id)
    logged = [*run.data.params.values(), *run.data.tags.values()]
    local = mlflow.artifacts.download_artifacts(run_id=run_id, tracking_uri=client.tracking_uri)
    logged += [
        p.read_bytes().decode("utf-8", "replace") for p in Path(local).rglob("*") if p.is_file()
    ]
    with get_client(sync_client=True) as prefect:
        flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        logged += [str(a.data) for a in prefect.read_artifacts(flow_run_filter=flt)]
        logged += [log.message for log in prefect.read_logs()]
    assert logged
    assert not [text for text in logged if SECRET in text]


def test_missing_bucket_fails_fast_naming_it(
    flow_home: Path, model_name: str, s3_server: str, clean_aws_env: None, monkeypatch
) -> None:
    # given: a block whose bucket does not exist
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", blocks_for(s3_server, "no-such-bucket-here"))
    config = load_train_config(None, ["data.source=iris", f"tracking.model_name={model_name}"])
    # when
    state = train_sklearn(config, return_state=True)
    # then: one line naming the bucket, and no retries of the storage check
    with pytest.raises(InputError, match=r"bucket 'no-such-bucket-here' does not exist"):
        state.result()
    assert task_run_counts(state) == {"open-storage": 1}


def test_rejected_credentials_fail_fast_naming_the_block(
    flow_home: Path,
    model_name: str,
    s3_server: str,
    s3_proxy: FaultProxy,
    clean_aws_env: None,
    monkeypatch,
) -> None:
    # given: an endpoint that refuses this access key
    bucket = new_bucket(s3_server)
    s3_proxy.rules.append(reject_key("AKIAREVOKED"))
    block = blocks_for(s3_proxy.url, bucket, key="AKIAREVOKED")  # type: ignore[attr-defined]
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", block)
    config = load_train_config(None, ["data.source=iris", f"tracking.model_name={model_name}"])
    # when
    state = train_sklearn(config, return_state=True)
    # then
    with pytest.raises(
        InputError, match=rf"storage block '{block}': access to bucket '{bucket}' denied"
    ):
        state.result()
    assert task_run_counts(state) == {"open-storage": 1}
    assert s3_proxy.injected


def test_transient_s3_errors_are_retried_and_the_run_succeeds(
    flow_home: Path,
    model_name: str,
    s3_server: str,
    s3_proxy: FaultProxy,
    clean_aws_env: None,
    monkeypatch,
    tmp_path: Path,
) -> None:
    # given: the raw data is in the bucket, and the endpoint fails the first reads of it
    bucket = new_bucket(s3_server)
    csv = tmp_path / "customers.csv"
    make_customers(150, seed=4).to_csv(csv, index=False)
    s3(s3_server).upload_file(str(csv), bucket, "raw/customers.csv")
    s3_proxy.rules.append(fail_first(3, "GET", "/raw/customers.csv", status=503))
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", blocks_for(s3_proxy.url, bucket))  # type: ignore[attr-defined]
    config = load_train_config(
        None,
        [
            f"data.source=s3://{bucket}/raw/customers.csv",
            "data.target=churned",
            "features.drop=[customer_id]",
            f"tracking.model_name={model_name}",
            f"tracking.experiment=s3-{model_name}",
        ],
    )
    # when
    summary = train_sklearn(config)
    # then
    assert [f for f in s3_proxy.injected if f[2] == 503], "the fault was injected"
    run = MlflowClient(PlatformSettings().resolved_tracking_uri).get_run(summary.run_id)
    assert run.info.status == "FINISHED"


def task_run_counts(state) -> dict[str, int]:
    """Task name -> run count for the flow run behind `state` (retries count up)."""
    runs = task_runs_of(state.state_details.flow_run_id, ("open-storage",))
    return {r.name.rsplit("-", 1)[0]: r.run_count for r in runs}
