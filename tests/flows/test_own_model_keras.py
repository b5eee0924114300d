"""Your own Keras builder (`model.builder`), from a folder outside the checkout: checked on
one row before any run, trained through the gate, loaded where the folder is absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.config.train import load_train_config
from flows.runs.frameworks import train_tensorflow
from libs.datasets import load_bundled
from libs.errors import InputError
from libs.settings import PlatformSettings

pytest.importorskip("tensorflow", reason="tensorflow (the tf extra) is missing")

NETS = textwrap.dedent(
    '''
    """A team's own Keras bodies: the platform adds the output layer for the task."""
    import keras


    def build(input_shape, task, params):
        inputs = keras.Input(shape=input_shape)
        x = keras.layers.Dense(params.get("units", 16), activation="relu")(inputs)
        return keras.Model(inputs, x, name="team_net")


    def not_a_model(input_shape, task, params):
        return {"layers": 2}


    def wrong_width(input_shape, task, params):
        inputs = keras.Input(shape=(3,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))
    '''
)

LOAD_AND_PREDICT = textwrap.dedent(
    """
    import importlib.util, json, sys
    import mlflow, pandas as pd
    absent = importlib.util.find_spec("team_nets") is None
    model = mlflow.pyfunc.load_model(sys.argv[1])
    rows = pd.read_json(sys.argv[2], orient="split")
    print(json.dumps({"absent": absent, "predictions": [int(p) for p in model.predict(rows)]}))
    """
)


@pytest.fixture
def nets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "team_nets.py").write_text(NETS)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def keras_overrides(builder: str, model_name: str = "unused") -> list[str]:
    return [
        "data.source=iris",
        f"tracking.model_name={model_name}",
        "model.framework=tensorflow",
        f"model.builder={builder}",
        "model.params.units=16",
        "model.epochs=30",
        "model.learning_rate=0.02",
        "gate.threshold=0.6",
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        ("team_nets.not_a_model", "'team_nets.not_a_model' returned dict, not a Keras model"),
        ("team_nets.wrong_width", "model fails on one row of 4 features"),
        ("team_nets.absent_fn", "model.builder: module 'team_nets' has no 'absent_fn'"),
    ],
)
def test_a_bad_builder_is_refused_before_any_run(nets: Path, builder: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        load_train_config(None, keras_overrides(builder))
    assert expected in str(info.value)
    assert str(info.value).startswith("config: model.builder: ")


@pytest.mark.slow
def test_your_builder_trains_through_the_gate_and_loads_without_its_folder(
    flow_home: Path, model_name: str, nets: Path, tmp_path: Path
) -> None:
    # given
    config = load_train_config(None, keras_overrides("team_nets.build", model_name))
    # when
    summary = train_tensorflow(config)
    # then
    assert summary.version == "1" and summary.champion, summary.gate_reason
    run = MlflowClient(PlatformSettings().resolved_tracking_uri).get_run(summary.run_id)
    assert run.data.tags["model.code"] == "team_nets"
    # and: a fresh interpreter elsewhere, without the folder on its path, predicts raw rows
    frame = load_bundled("iris")
    rows = frame.drop(columns=["target"]).iloc[[0, 1, 2, 3]]
    rows_file = tmp_path / "rows.json"
    rows.to_json(rows_file, orient="split")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLOPS_HOME")}
    env["MLFLOW_TRACKING_URI"] = PlatformSettings().resolved_tracking_uri
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, f"models:/{model_name}@champion", str(rows_file)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["absent"] is True
    assert answer["predictions"] == [0, 0, 0, 0]  # four setosa rows
