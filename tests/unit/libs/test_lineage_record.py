"""libs.lineage: the config documents a run keeps, names, and how lineage reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flows.config.train import TrainConfig, load_train_config
from libs.doe.space import FactorSpace
from libs.errors import InputError
from libs.lineage import (
    compare_rows,
    config_documents,
    decision_line,
    environment_record,
    metric_diff_rows,
    parse_model_ref,
    point_name,
    render_compare,
    render_show,
)

REPO = Path(__file__).resolve().parents[3]


def _record(version: str, *, c: float, accuracy: float, sha: str, commit: str) -> dict:
    config = TrainConfig.model_validate({"model": {"params": {"C": c}}}).model_dump(mode="json")
    return {
        "model": {"name": "m", "version": version, "aliases": [], "model_id": "m-1"},
        "gate": {"promote": True, "reason": "no threshold; no champion yet"},
        "metrics": {"accuracy": accuracy, "f1_macro": 0.5},
        "data": {"source_uri": "/d.csv", "source_sha256": sha, "snapshot_sha256": "s", "rows": 9},
        "config": {"digest": f"d{c}", "values": config},
        "code": {"commit": commit, "dirty": False},
        "environment": {"python": "3.11", "packages": {"mlflow": "3"}},
        "mlflow_run": {"id": "r", "status": "FINISHED", "experiment": "training"},
        "prefect_flow_run": {"id": "f", "url": "http://ui/runs/flow-run/f"},
        "champion_history": [{"version": version, "since": "2026-01-01", "until": None}],
    }


def test_a_string_that_looks_like_a_number_survives_the_yaml_and_json_documents(
    tmp_path: Path,
) -> None:
    # given: a categorical fill value that YAML would read as a number if unquoted
    config = load_train_config(None, ["features.categorical.fill_value='0'"])
    assert config.features.categorical.fill_value == "0"
    # when
    text_yaml, text_json = config_documents(config.model_dump(mode="json"))
    (tmp_path / "config.yaml").write_text(text_yaml)
    # then: both documents rebuild the same typed config, with the same digest
    from_yaml = load_train_config(tmp_path / "config.yaml")
    from_json = TrainConfig.model_validate(json.loads(text_json))
    assert from_yaml == config == from_json
    assert from_yaml.digest() == config.digest()
    assert yaml.safe_load(text_yaml)["features"]["categorical"]["fill_value"] == "0"


def test_the_default_config_file_is_the_embedded_defaults() -> None:
    # then: a run with no config and a run with configs/default.yaml are the same run
    assert load_train_config(REPO / "configs" / "default.yaml").digest() == TrainConfig().digest()


def test_environment_lists_python_and_installed_distributions() -> None:
    # when
    env = environment_record()
    # then
    assert env["python"].count(".") == 2
    assert {"mlflow", "prefect", "pandas", "pyarrow", "pydantic"} <= set(env["packages"])
    assert list(env["packages"]) == sorted(env["packages"])


def test_model_references_parse_and_bad_ones_fail_in_one_line() -> None:
    assert parse_model_ref("iris-rf") == ("iris-rf", None, None)
    assert parse_model_ref("iris-rf@champion") == ("iris-rf", "champion", None)
    assert parse_model_ref("iris-rf/12") == ("iris-rf", None, "12")
    for bad in ("", "iris rf", "iris/v1", "/3", "a@b/3"):
        with pytest.raises(InputError, match="NAME, NAME@alias or NAME/version"):
            parse_model_ref(bad)


def test_sweep_points_are_named_by_their_factor_values() -> None:
    params = {"model.params.C": "0.1", "model.params.gamma": "0.01", "split.seed": "1"}
    assert point_name(["model.params.C", "model.params.gamma"], params) == "C=0.1,gamma=0.01"
    # two factors sharing a last part keep their parent parts (issue 33's short names)
    clash = {"features.numeric.fill_value": "1", "features.categorical.fill_value": "x"}
    assert point_name(sorted(clash), clash) == "categorical.fill_value=x,numeric.fill_value=1"
    assert point_name(["model.params.missing"], params) is None
    assert point_name([], params) is None


def test_a_point_name_has_no_float_noise() -> None:
    # given: a log-scale factor's value as the design made it (0.020000000000000004)
    space = FactorSpace(
        factors=[
            {
                "name": "model.params.learning_rate",
                "type": "continuous",
                "low": 0.02,
                "high": 0.2,
                "scale": "log",
            },
            {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 4},
        ]
    )
    params = {"model.params.learning_rate": "0.020000000000000004", "model.params.max_depth": "4"}
    # when / then: rounded by the factor's range, and without a space to 4 digits
    assert point_name(space.names, params, space) == "learning_rate=0.02,max_depth=4"
    assert point_name(space.names, params) == "learning_rate=0.02,max_depth=4"


def test_the_gate_decision_reads_in_one_line() -> None:
    assert decision_line(True, "accuracy 0.98 >= 0.9;\n no champion yet") == (
        "Champion: accuracy 0.98 >= 0.9; no champion yet"
    )
    assert decision_line(False, "x").startswith("Not promoted: ")


def test_compare_lists_config_data_metric_and_code_differences_only() -> None:
    # given
    a = _record("1", c=1.0, accuracy=0.9, sha="aaa", commit="c1")
    b = _record("2", c=0.5, accuracy=0.95, sha="bbb", commit="c2")
    # when
    rows = compare_rows(a, b)
    table = render_compare(a, b)
    # then
    keyed = {(section, field): (va, vb) for section, field, va, vb in rows}
    assert keyed[("config", "model.params.C")] == ("1.0", "0.5")
    assert keyed[("data", "source_sha256")] == ("aaa", "bbb")
    assert keyed[("metric", "accuracy")] == ("0.9", "0.95 (+0.05)")
    assert keyed[("code", "commit")] == ("c1", "c2")
    assert ("metric", "f1_macro") not in keyed  # equal values are not differences
    assert table.splitlines()[0].split() == ["section", "field", "m/1", "m/2"]
    assert "same config" in render_compare(a, a)


def test_metric_diffs_are_exact() -> None:
    rows = metric_diff_rows({"a": 0.1 + 0.2, "b": 1.0}, {"a": 0.3, "b": 1.0, "c": 2.0})
    assert rows[0] == ("a", repr(0.1 + 0.2), "0.3", "-5.55e-17")
    assert rows[1][3] == "identical"
    assert rows[2][3] == "missing"


def test_show_puts_every_section_on_one_screen() -> None:
    text = render_show(_record("3", c=1.0, accuracy=0.9, sha="aaa", commit="c1"))
    for heading in ("Metrics", "Data", "Config", "Code", "Environment", "Runs", "Champion"):
        assert heading in text
    assert "http://ui/runs/flow-run/f" in text
    assert len(text.splitlines()) < 60
