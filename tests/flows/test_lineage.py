"""Lineage from `@champion` back to data, config, code, environment and runs; reproduction.

Real training runs under the Prefect test server, MLflow on SQLite in the session's
home. One model is trained twice (a weak v1, then a better v2 that takes the alias)
and every test reads it back.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from flows import lineage as lineage_cli
from flows import train as train_cli
from flows.config.train import TrainConfig, load_train_config
from flows.lineage import lineage_of
from flows.reproduce import plan_reproduction, reproduction_rows
from flows.runs.frameworks import train_sklearn
from libs.datasets import load_bundled
from libs.metrics.cost import COST_METRICS
from libs.settings import PlatformSettings
from tasks.tracking import recorded_config

NAME = "t-lineage-iris"


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def _csv(path: Path) -> Path:
    frame = load_bundled("iris")
    # a categorical column with gaps, filled with the string '0'
    frame["kind"] = np.where(frame.index % 3 == 0, "a", np.where(frame.index % 7 == 0, None, "b"))
    frame.to_csv(path, index=False)
    return path


def _config(source: Path, c: float) -> TrainConfig:
    return load_train_config(
        None,
        [
            f"data.source={source}",
            "data.target=target",
            "features.categorical.columns=[kind]",
            "features.categorical.impute=constant",
            "features.categorical.fill_value='0'",
            f"model.params.C={c}",
            f"tracking.model_name={NAME}",
        ],
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_home: Path) -> dict[str, object]:
    """v1 (weak, champion first), then v2 (better: the alias moves to it)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MLOPS_HOME", str(shared_home))
    for name in (
        "MLOPS_TRACKING_URI",
        "MLOPS_STORAGE",
        "MLOPS_ARTIFACT_ROOT",
        "MLFLOW_TRACKING_URI",
    ):
        mp.delenv(name, raising=False)
    source = _csv(tmp_path_factory.mktemp("lineage-data") / "iris.csv")
    first = train_sklearn(_config(source, 0.001))
    second = train_sklearn(_config(source, 1.0))
    yield {"source": source, "first": first, "second": second, "config": _config(source, 1.0)}
    mp.undo()


def test_every_hop_from_champion(trained: dict, flow_home: Path) -> None:
    # given
    source: Path = trained["source"]
    second = trained["second"]
    assert second.champion and second.version == "2"
    # when
    record = lineage_of(f"{NAME}@champion", PlatformSettings(), "http://prefect.today:4200")
    # then: the version and its gate decision
    model = record["model"]
    assert model["version"] == "2" and model["aliases"] == ["champion"]
    assert model["description"].startswith("Champion: no threshold; beats champion v1 (")
    assert model["model_id"].startswith("m-")
    assert record["gate"]["promote"] is True and "beats champion v1" in record["gate"]["reason"]
    # data: the user's file by absolute path and full sha256, and the snapshot's
    data = record["data"]
    assert data["source_uri"] == str(source.resolve())
    assert data["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert len(data["snapshot_sha256"]) == 64 and data["rows"] == 150
    # config: the typed config itself, string fields kept as strings
    config = TrainConfig.model_validate(record["config"]["values"])
    assert config == trained["config"] and config.features.categorical.fill_value == "0"
    assert record["config"]["digest"] == config.digest()
    # code, environment, runs
    assert len(record["code"]["commit"]) == 40 and record["code"]["dirty"] in (True, False)
    assert record["environment"]["packages"]["mlflow"]
    assert record["environment"]["python"]
    run = client().get_run(record["mlflow_run"]["id"])
    flow_run_id = run.data.tags["prefect.flow_run_id"]
    assert record["prefect_flow_run"]["id"] == flow_run_id
    assert record["prefect_flow_run"]["url"] == (
        f"http://prefect.today:4200/runs/flow-run/{flow_run_id}"
    )
    # and: the champion history, from the tags written when the alias moved
    history = record["champion_history"]
    assert [h["version"] for h in history] == ["1", "2"]
    assert history[0]["replaced_by"] == "2" and history[0]["until"]
    assert history[1]["until"] is None and history[1]["since"] >= history[0]["since"]


def test_the_version_carries_few_readable_tags_and_its_lineage_in_gate_json(
    trained: dict, flow_home: Path
) -> None:
    # when
    mv = client().get_model_version(NAME, "2")
    run = client().get_run(mv.run_id)
    # then: the registry page shows the decision in one line and a few filterable keys
    assert set(mv.tags) <= {
        "gate", "gate.state", "config_digest", "data.snapshot_sha256", "champion.since",
        "champion.previous",
    }  # fmt: skip
    assert mv.tags["gate"].startswith("promoted: accuracy 0.")
    assert ", no threshold; beats champion v1 (" in mv.tags["gate"]
    assert mv.tags["gate.state"] == "done"
    for key in ("config_digest", "data.snapshot_sha256"):
        assert mv.tags[key] == run.data.tags[key]
    # and: the rest is one hop away, in the run's gate.json
    local = client().download_artifacts(mv.run_id, "gate.json", str(flow_home))
    record = json.loads(Path(local).read_text())
    assert record["model"] == NAME and record["version"] == "2"
    assert record["decision"]["promote"] is True and record["decision"]["metric"] == "accuracy"
    lineage = record["lineage"]
    assert lineage["git.commit"] == run.data.tags["mlflow.source.git.commit"]
    assert lineage["data.source_sha256"] == run.data.tags["data.source_sha256"]
    assert lineage["git.dirty"] in ("true", "false")
    assert lineage["prefect.flow_run_id"] == run.data.tags["prefect.flow_run_id"]
    assert lineage["model_id"] == mv.source.removeprefix("models:/")
    # and: the logged model is named after the registered model, with params and datasets
    logged = client().get_logged_model(lineage["model_id"])
    assert logged.name == NAME
    assert logged.params["model.params.C"] == "1.0"
    linked = {(m.key, m.dataset_name) for m in logged.metrics or []}
    assert ("accuracy", "iris-test") in linked
    # and: the run says where it came from, in a classic-ML experiment
    assert run.data.tags["mlflow.user"]
    assert run.data.tags["mlflow.source.name"]
    experiment = client().get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert recorded_config(client(), run.info.run_id) == trained["config"].model_dump(mode="json")


def test_reproduce_on_unchanged_data_gives_identical_metrics(
    trained: dict, flow_home: Path
) -> None:
    # given
    plan = plan_reproduction(f"{NAME}/2", PlatformSettings(), allow_data_change=False)
    assert plan.config == trained["config"] and "unchanged" in plan.data_note
    # when: every cached step recomputed
    again = train_sklearn(plan.config, refresh_cache=True)
    # then: every logged metric to the last digit, bootstrap intervals included
    # (time and size are measured again)
    logged = client().get_run(again.run_id).data.metrics
    assert set(logged) == set(plan.original["metrics"])
    quality = {k: v for k, v in logged.items() if k not in COST_METRICS}
    assert quality == {k: plan.original["metrics"][k] for k in quality}
    assert any(k.endswith("_ci_low") for k in quality)
    text = reproduction_rows(plan, logged, plan.config.digest())
    assert text.splitlines()[1].endswith(f"all {len(quality)} metrics identical")


def test_reproduce_on_changed_data_is_refused_in_one_line_unless_allowed(
    trained: dict, flow_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a copy of the data, trained on, then one byte changed
    source = _csv(tmp_path / "iris.csv")
    config = _config(source, 1.0).model_copy(
        update={
            "tracking": _config(source, 1.0).tracking.model_copy(
                update={"model_name": "t-lineage-edit"}
            )
        }
    )
    train_sklearn(config)
    recorded = hashlib.sha256(source.read_bytes()).hexdigest()
    text = source.read_text()
    source.write_text(text.replace("5.1,3.5", "5.2,3.5", 1))
    found = hashlib.sha256(source.read_bytes()).hexdigest()
    # when: the command line is asked to reproduce
    code = train_cli.main(["--reproduce", "t-lineage-edit/1"])
    # then: exit 2, one line naming both digests, nothing trained
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and recorded in err and found in err
    assert "--allow-data-change" in err
    assert len(client().search_model_versions("name = 't-lineage-edit'")) == 1
    # and: with the flag, the plan goes ahead on the data as it is now (no stale cache)
    plan = plan_reproduction("t-lineage-edit/1", PlatformSettings(), allow_data_change=True)
    assert recorded in plan.data_note and found in plan.data_note
    redone = train_sklearn(plan.config, refresh_cache=True)
    run = client().get_run(redone.run_id)
    assert run.data.tags["data.source_sha256"] == found


def test_compare_and_json_from_the_command_line(
    trained: dict, flow_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    code = lineage_cli.main(["--compare", f"{NAME}/1", f"{NAME}/2"])
    table = capsys.readouterr().out
    json_code = lineage_cli.main([f"{NAME}/1", "--json"])
    record = json.loads(capsys.readouterr().out)
    missing = lineage_cli.main([f"{NAME}/99"])
    err = capsys.readouterr().err
    # then
    assert code == 0 and json_code == 0
    lines = table.splitlines()
    assert lines[0].split() == ["section", "field", f"{NAME}/1", f"{NAME}/2"]
    row = next(line for line in lines if "model.params.C" in line).split()
    assert row[:4] == ["config", "model.params.C", "0.001", "1.0"]
    assert any(line.startswith("metric") and "accuracy" in line for line in lines)
    assert record["model"]["version"] == "1" and record["champion_history"][0]["version"] == "1"
    assert (
        missing == 2 and err.strip() == f"error: model: registered model '{NAME}' has no version 99"
    )


def test_a_sweep_names_its_points_keeps_its_config_and_shows_in_lineage(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given: a two-point sweep
    from flows.config.sweep import load_sweep_config
    from flows.runs.sweep import run_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"""
train:
  data: {{source: iris, max_rows: 90}}
  model: {{name: logistic_regression}}
  tracking: {{experiment: sweep-lineage, model_name: {model_name}}}
factors:
  - {{name: model.params.C, type: continuous, scale: log, low: 0.01, high: 1}}
design: {{kind: full_factorial, levels: 2}}
objective: {{metric: accuracy}}
"""
    )
    # when
    summary = run_sweep(load_sweep_config(path))
    # then: the children are named by their point, the parent keeps its config
    parent = client().get_run(summary.parent_run_id)
    runs = client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{summary.parent_run_id}'",
    )
    assert sorted(r.data.tags["mlflow.runName"] for r in runs) == [
        "C=0.01",
        "C=1",
    ]  # no float noise (issue 33)
    assert recorded_config(client(), summary.parent_run_id)["design"]["kind"] == "full_factorial"
    # and: the registered best says which sweep and point it came from
    record = lineage_of(f"{model_name}@champion", PlatformSettings(), None)
    assert record["sweep"]["parent_run_id"] == summary.parent_run_id
    assert record["sweep"]["point"] in ("C=0.01", "C=1")
    # and: its config was recorded when its lean run was completed, so it can be re-run
    assert record["config"]["recorded"]
    assert (
        TrainConfig.model_validate(record["config"]["values"]).digest()
        == record["config"]["digest"]
    )
    assert record["prefect_flow_run"]["url"] is None and record["prefect_flow_run"]["note"]
