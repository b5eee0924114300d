"""S3 with only a storage block: scoring loads the model with the block's credentials, and a
block with half a key pair fails at once, naming the block and the missing field."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pandas as pd
import pytest
from test_s3_storage import (
    SECRET,
    champion_on_s3,
    clean_aws_env,  # noqa: F401 - a fixture
    make_iris_rows,
    new_bucket,
    only_the_block,
    s3,
    task_run_counts,
)

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.predict import batch_predict
from libs.errors import InputError


def test_batch_scoring_on_s3_with_only_the_storage_block(
    flow_home: Path,
    model_name: str,
    s3_server: str,
    clean_aws_env: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a champion trained onto S3, and input rows in the bucket
    bucket = champion_on_s3(s3_server, model_name, monkeypatch)
    body = make_iris_rows().to_csv(index=False).encode()
    s3(s3_server).put_object(Bucket=bucket, Key="team-a/batch.csv", Body=body)
    # and: nothing in the environment but the block (a fresh process, as a user runs it)
    only_the_block(monkeypatch)
    # when
    summary = batch_predict(
        PredictConfig(
            model=model_name,
            input=f"s3://{bucket}/team-a/batch.csv",
            output=f"s3://{bucket}/team-a/scored.csv",
            experiment=f"s3-inference-{model_name}",
        )
    )
    # then: the model was loaded from the bucket and every row scored
    assert summary.rows == 5
    scored = s3(s3_server).get_object(Bucket=bucket, Key="team-a/scored.csv")["Body"].read()
    assert len(pd.read_csv(io.BytesIO(scored))) == 5
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") == SECRET  # from the block, for MLflow


def test_a_block_with_a_secret_but_no_key_id_fails_naming_the_field(
    flow_home: Path,
    model_name: str,
    s3_server: str,
    clean_aws_env: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: credentials with the secret only
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.credentials import AwsClientParameters

    suffix = uuid.uuid4().hex[:8]
    credentials = AwsCredentials(
        aws_secret_access_key=SECRET,
        aws_client_parameters=AwsClientParameters(endpoint_url=s3_server),
    )
    credentials.save(f"half-{suffix}")
    S3Bucket(bucket_name=new_bucket(s3_server), credentials=credentials).save(f"data-{suffix}")
    monkeypatch.setenv("MLOPS_STORAGE_BLOCK", f"data-{suffix}")
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
    # then: one line naming the block and the missing field, and no retry
    with pytest.raises(InputError, match=rf"block 'data-{suffix}' lack aws_access_key_id"):
        state.result()
    assert task_run_counts(state) == {"open-storage": 1}
