"""Served requests on S3 with only the storage block (issue 37): the scoring server's request
log goes to the block's bucket with the block's credentials, and the watch flow reads it
back from there; nothing in the environment but the block's name.

Before: the server wrote to `MLOPS_STORAGE` (the local folder by default) through plain
fsspec, and the watch read the same place: with a storage block, the requests never
reached the bucket, and an s3:// `MLOPS_STORAGE` had no credentials.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from test_s3_storage import (
    SECRET,
    champion_on_s3,
    clean_aws_env,  # noqa: F401 - a fixture
    keys,
    only_the_block,
    s3,
)

from flows.runs.watch_requests import watch_requests
from flows.serve_model import open_serving_storage, request_log_for
from libs.datasets import load_bundled
from libs.settings import check_environment
from tasks import tracking

pytestmark = pytest.mark.slow


def test_served_requests_go_to_the_bucket_and_the_watch_reads_them_there(
    flow_home: Path,
    model_name: str,
    s3_server: str,
    clean_aws_env: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a champion trained onto S3 through the storage block
    bucket = champion_on_s3(s3_server, model_name, monkeypatch)
    # and: nothing in the environment but the block (as a fresh scoring server starts)
    only_the_block(monkeypatch)
    settings = check_environment()
    # when: the scoring server opens its storage, loads the champion and logs requests
    storage = open_serving_storage(settings)
    served = tracking.serving.load_served_model(settings, model_name, "1")
    rows = load_bundled("iris").drop(columns=["target"]).head(40)
    request_log = request_log_for(storage, model_name, 1.0)
    assert request_log is not None
    request_log.start()
    request_log.offer(rows.head(25), served.model.predict(rows.head(25)), served.version)
    request_log.offer(rows.tail(15), served.model.predict(rows.tail(15)), served.version)
    request_log.close()
    # then: one batch, written as Parquet into the bucket under the block's prefix
    assert (request_log.written_files, request_log.failed_writes) == (1, 0)
    logged = [k for k in keys(s3_server, bucket) if k.startswith(f"team-a/requests/{model_name}/")]
    assert len(logged) == 1 and logged[0].endswith(".parquet"), logged
    body = s3(s3_server).get_object(Bucket=bucket, Key=logged[0])["Body"].read()
    batch = pd.read_parquet(io.BytesIO(body))
    assert len(batch) == 40 and set(batch["model_version"]) == {"1"}
    # and: nothing went to the local folder
    assert not (flow_home / "data" / "requests" / model_name).exists()
    # and: the block's credentials reached MLflow (the champion loaded from the bucket)
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") == SECRET
    # when: the watch flow runs on the same settings
    result = watch_requests(model_name, settings=settings, experiment=f"watch-{model_name}")
    # then: it read the 40 logged requests back from the bucket
    assert result.rows == 40
    assert result.output_uri == f"s3://{bucket}/team-a/requests/{model_name}"
    assert result.drift is not None
