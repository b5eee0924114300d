"""Cross-run caching of ingest, preprocess and scikit-learn training, keyed on data digests,
specs and code."""

from __future__ import annotations

from pathlib import Path

from prefect_support import task_runs_of

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from libs.datasets.synthetic import make_customers


def task_states(state) -> dict[str, str]:
    """Task name -> state name ('Completed', 'Cached', ...) for one flow run."""
    runs = task_runs_of(state.state_details.flow_run_id, ("ingest", "preprocess", "train"))
    return {r.name.rsplit("-", 1)[0]: r.state.name for r in runs if r.state}


def run(csv: Path, model_name: str, *overrides: str, refresh: bool = False) -> dict[str, str]:
    config = load_train_config(
        None,
        [
            f"data.source={csv}",
            "data.target=churned",
            "features.drop=[customer_id]",
            "model.name=logistic_regression",
            f"tracking.model_name={model_name}",
            *overrides,
        ],
    )
    state = train_sklearn(config, refresh_cache=refresh, return_state=True)
    assert state.is_completed()
    return task_states(state)


def test_unchanged_config_and_data_skip_ingest_preprocess_and_training(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given
    csv = tmp_path / "customers.csv"
    make_customers(200, seed=11).to_csv(csv, index=False)
    # when
    first = run(csv, model_name)
    second = run(csv, model_name)
    # then
    assert (first["ingest"], first["preprocess"], first["train"]) == ("Completed",) * 3
    assert (second["ingest"], second["preprocess"], second["train"]) == ("Cached",) * 3
    # and: what depends on the run itself is always done again
    assert second["evaluate"] == "Completed"
    assert second["log-model"] == "Completed"


def test_changed_model_params_refit_the_model_only(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given
    csv = tmp_path / "customers.csv"
    make_customers(200, seed=16).to_csv(csv, index=False)
    run(csv, model_name)
    # when
    changed = run(csv, model_name, "model.params.C=0.5")
    # then
    assert (changed["ingest"], changed["preprocess"]) == ("Cached", "Cached")
    assert changed["train"] == "Completed"
    # and: a different split seed changes the rows, so everything after ingest reruns
    reseeded = run(csv, model_name, "split.seed=7")
    assert (reseeded["preprocess"], reseeded["train"]) == ("Completed", "Completed")


def test_changed_feature_spec_recomputes_preprocess_only(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given
    csv = tmp_path / "customers.csv"
    make_customers(200, seed=12).to_csv(csv, index=False)
    run(csv, model_name)
    # when
    changed = run(csv, model_name, "features.numeric.scale=minmax")
    # then: the model is refitted on the new features, too
    assert (changed["ingest"], changed["preprocess"]) == ("Cached", "Completed")
    assert changed["train"] == "Completed"


def test_changed_data_file_recomputes_ingest(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given
    csv = tmp_path / "customers.csv"
    make_customers(200, seed=13).to_csv(csv, index=False)
    run(csv, model_name)
    # when: same path, new content
    make_customers(200, seed=14).to_csv(csv, index=False)
    changed = run(csv, model_name)
    # then
    assert (changed["ingest"], changed["preprocess"]) == ("Completed", "Completed")


def test_refresh_cache_forces_recomputation(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given
    csv = tmp_path / "customers.csv"
    make_customers(200, seed=15).to_csv(csv, index=False)
    run(csv, model_name)
    # when
    refreshed = run(csv, model_name, refresh=True)
    # then
    assert (refreshed["ingest"], refreshed["preprocess"]) == ("Completed", "Completed")
    assert refreshed["train"] == "Completed"
