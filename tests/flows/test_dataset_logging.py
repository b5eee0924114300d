"""Dataset inputs of large frames: MLflow's schema, without scanning every value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas

from libs.settings import PlatformSettings
from tasks import tracking

# MLflow's note that a local path matches its local source type twice.
pytestmark = pytest.mark.filterwarnings("ignore:The specified dataset source:UserWarning")


def logged_dataset(home: Path, frame: pd.DataFrame, digest: str | None):
    settings = PlatformSettings()
    run = tracking.start_run(
        settings,
        experiment="datasets",
        artifact_root=None,
        run_name="r",
        params={},
        tags={},
        flow_run_id=None,
    )
    tracking.log_dataset(
        run,
        frame,
        name="big",
        source=str(home / "x.parquet"),
        context="training",
        target="y",
        digest=digest,
    )
    inputs = MlflowClient(run.tracking_uri).get_run(run.run_id).inputs.dataset_inputs
    return inputs[0].dataset


def test_a_large_frame_gets_the_schema_mlflow_would_infer_from_all_rows(
    platform_home: Path,
) -> None:
    # given: 5000 rows; the only missing value sits where no sample of 1000 looks
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=5000),
            "n": rng.integers(0, 9, size=5000),
            "plan": rng.choice(["basic", "pro"], size=5000),
            "when": pd.date_range("2024-01-01", periods=5000, freq="h"),
            "y": rng.integers(0, 2, size=5000),
        }
    )
    frame.loc[4999, "x"] = np.nan
    # when
    dataset = logged_dataset(platform_home, frame, digest="feedc0de")
    # then: the same column types and required flags as MLflow's full scan
    ours = json.loads(dataset.schema)["mlflow_colspec"]
    full = from_pandas(frame, source=str(platform_home / "x.parquet"), targets="y").schema
    assert ours == full.to_dict()
    assert {c["name"]: c["required"] for c in ours}["x"] is False
    # and: the digest given is the one recorded, and the profile counts every row
    assert dataset.digest == "feedc0de"
    assert json.loads(dataset.profile) == {"num_rows": 5000, "num_elements": 25000}


def test_a_small_frame_is_logged_as_mlflow_does_it(platform_home: Path) -> None:
    # given
    frame = pd.DataFrame({"a": [1.0, None, 3.0], "y": [0, 1, 0]})
    # when
    dataset = logged_dataset(platform_home, frame, digest=None)
    # then
    expected = from_pandas(frame, source=str(platform_home / "x.parquet"), targets="y")
    assert dataset.digest == expected.digest
    assert json.loads(dataset.schema)["mlflow_colspec"] == expected.schema.to_dict()
