"""The checks that stop bad input before any work: config, environment, data, budgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from flows.config.sweep import load_sweep_config, plan_sweep
from flows.config.sweep_checks import MAX_SWEEP_POINTS
from flows.config.train import check_train_config, load_train_config
from libs.config import read_yaml
from libs.datasets import MIN_ROWS, DataRules, check_data
from libs.datasets.checks import check_sizes
from libs.doe import design_size
from libs.errors import InputError
from libs.io import read_table
from libs.io.chunks import iter_table
from libs.models import refused_tasks
from libs.models.spec import SklearnModelSpec
from libs.plots import bounded_permutation_importance
from libs.settings import PlatformSettings, check_environment

# --- config, before any data -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.params.C=-1"], r"^config: model\.params\.C: The 'C' parameter"),
        (["model.params.depth=3"], r"^config: model\.params\.depth: not a parameter"),
        (["model.name=ridge"], r"^config: model\.name: 'ridge' does not support classification"),
        (["data.task=regression", "data.source=iris"], r"model\.name: 'logistic_regression'"),
        (["gate.metric=r2"], r"^config: gate\.metric: 'r2' is not computed for classification"),
        (["gate.metric=nope"], r"^config: gate\.metric: unknown metric 'nope'"),
        (["features.drop=[target]"], r"^config: features\.drop: lists 'target', the target"),
        (
            ["features.numeric.columns=[a]", "features.categorical.columns=[a]"],
            r"features\.categorical\.columns: column 'a' is listed in features\.numeric",
        ),
        (["data.source=http://host/a.csv", "data.target=y"], r"unsupported scheme 'http://'"),
        (["data.source=ftp://host/a.csv", "data.target=y"], r"unsupported scheme 'ftp://'"),
        (["data.source=/tmp/...csv", "data.target=y"], r"file name of /tmp/\.\.\.csv gives no"),
    ],
)
def test_config_mistakes_fail_before_any_data_is_read(overrides: list[str], message: str) -> None:
    # when / then
    with pytest.raises(InputError, match=message):
        load_train_config(None, overrides)


def test_a_file_source_leaves_the_task_to_the_data_but_keeps_the_model_s_refusals(
    tmp_path: Path,
) -> None:
    # given: ridge on a file whose task is not known yet
    csv = tmp_path / "t.csv"
    csv.write_text("x,y\n1,2\n")
    config = load_train_config(None, [f"data.source={csv}", "data.target=y", "model.name=ridge"])
    # when
    rules = check_train_config(config)
    # then: only classification is refused, with the reason to show once the data says so
    assert list(rules.refused) == ["classification"]
    assert rules.refused["classification"].startswith("model.name: 'ridge' does not support")


def test_parameters_valid_for_one_task_only_refuse_the_other() -> None:
    # given: 'gini' is a criterion of the forest classifier, not of the regressor
    spec = SklearnModelSpec(name="random_forest", params={"criterion": "gini"})
    # when
    refused = refused_tasks(spec)
    # then
    assert list(refused) == ["regression"]
    assert refused["regression"].startswith("model.params.criterion: ")


def test_a_binary_config_file_is_named(tmp_path: Path) -> None:
    # given
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    # when / then
    with pytest.raises(InputError, match=rf"^{path}: not a text file"):
        read_yaml(path)


# --- environment ---------------------------------------------------------------------------


def test_a_state_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    # given
    (tmp_path / "f").write_text("x")
    # when / then: the file itself, or a folder below it
    with pytest.raises(InputError, match=r"^MLOPS_HOME: .*/f is a file"):
        check_environment(PlatformSettings(home=tmp_path / "f"))
    with pytest.raises(InputError, match=r"^MLOPS_HOME: .*/f/sub is under a file"):
        check_environment(PlatformSettings(home=tmp_path / "f" / "sub"))


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("bogus://nowhere", False),
        ("ftp://host/db", False),
        ("sqlite:///tmp/x.db", True),
        ("postgresql+psycopg2://u@h/db", True),
        ("http://127.0.0.1:5000", True),
        ("file:///tmp/mlruns", True),
        ("/tmp/mlruns", True),
    ],
)
def test_tracking_uri_schemes(uri: str, ok: bool, tmp_path: Path) -> None:
    settings = PlatformSettings(home=tmp_path, tracking_uri=uri)
    if ok:
        assert check_environment(settings) is settings
    else:
        with pytest.raises(InputError, match=r"^MLOPS_TRACKING_URI: unsupported tracking URI"):
            check_environment(settings)


def test_an_unknown_storage_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^MLOPS_STORAGE: unsupported storage scheme 'gopher'"):
        check_environment(PlatformSettings(home=tmp_path, storage="gopher://x/y"))


# --- data, right after the read ----------------------------------------------------------


def test_a_csv_header_naming_a_column_twice_is_refused_not_renamed(tmp_path: Path) -> None:
    # given: pandas alone would read the second 'label' as 'label.1', a perfect feature
    path = tmp_path / "dup.csv"
    path.write_text("x,label,label\n1,0,0\n2,1,1\n")
    # when / then: whole reads and chunked (scoring) reads alike
    with pytest.raises(
        InputError, match=r"dup\.csv: duplicate column name 'label' \(columns 2 and 3\)"
    ):
        read_table(str(path))
    with pytest.raises(InputError, match=r"duplicate column name 'label'"):
        next(iter_table(str(path), 10))


def test_a_header_with_distinct_names_like_a_renamed_copy_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("label,label.1\n1,0\n")
    assert list(read_table(str(path)).columns) == ["label", "label.1"]


def frame(rows: int, classes: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(rows, dtype=float), "y": np.arange(rows) % classes})


def test_infinite_values_are_refused_naming_the_column() -> None:
    data = frame(20)
    data.loc[4, "x"] = -np.inf
    with pytest.raises(
        InputError, match=r"^s\.csv: column 'x' has 1 infinite value\(s\) \(first at row 5\)"
    ):
        check_data(data, "y", "classification", DataRules(), "s.csv")


def test_missing_values_are_left_to_the_imputer() -> None:
    data = frame(20)
    data.loc[4, "x"] = np.nan
    check_data(data, "y", "classification", DataRules(), "s.csv")


@pytest.mark.parametrize(
    ("rows", "classes", "test_size", "message"),
    [
        (3, 2, 0.2, r"3 rows; training needs at least 10"),
        (10, 2, 0.1, r"split\.test_size: 0\.1 of 10 rows leaves 1 to test"),
        (10, 2, 0.6, r"split\.test_size: 0\.6 of 10 rows leaves 6 to test and 4 to train"),
        (20, 5, 0.2, r"holds out 4 rows, fewer than the 5 classes"),
    ],
)
def test_too_few_rows_for_the_split_are_refused(
    rows: int, classes: int, test_size: float, message: str
) -> None:
    data = frame(rows, classes)
    with pytest.raises(InputError, match=message):
        check_sizes(data["y"], "classification", test_size, "s.csv")


def test_a_class_with_one_row_is_refused() -> None:
    data = frame(20)
    data.loc[0, "y"] = 9
    with pytest.raises(InputError, match=r"1 class\(es\) with a single row \(9\)"):
        check_sizes(data["y"], "classification", 0.2, "s.csv")


def test_the_minimum_is_enough() -> None:
    check_sizes(frame(MIN_ROWS)["y"], "classification", 0.2, "s.csv")
    check_sizes(frame(MIN_ROWS)["y"], "regression", 0.2, "s.csv")


def test_the_task_the_data_implies_is_checked_against_the_rules() -> None:
    rules = DataRules(refused={"classification": "model.name: 'ridge' does not support it"})
    with pytest.raises(InputError, match=r"^s\.csv: target 'y' makes this a classification task"):
        check_data(frame(20), "y", "classification", rules, "s.csv")
    check_data(frame(20), "y", "regression", rules, "s.csv")


# --- budgets -------------------------------------------------------------------------------


def test_permutation_importance_stays_within_its_budget() -> None:
    # given: a wide table and a narrow one
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    wide = pd.DataFrame(rng.normal(size=(40, 120)), columns=[f"c{i}" for i in range(120)])
    model = LogisticRegression().fit(wide, y)
    # when
    skipped, note = bounded_permutation_importance(model, wide, y)
    narrow = wide.iloc[:, :80]
    table, lowered = bounded_permutation_importance(LogisticRegression().fit(narrow, y), narrow, y)
    # then: the wide one is skipped with a note; the narrow one runs with fewer repeats
    assert skipped is None and note.startswith("skipped: 120 columns exceed the budget of 100")
    assert table is not None and len(table) == 80
    assert lowered.startswith("80 columns x 3 repeats (lowered from 5")


def test_a_huge_design_is_refused_before_it_is_generated(tmp_path: Path) -> None:
    # given: 1000 x 1000 levels
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "train: {data: {source: iris}}\n"
        "factors:\n"
        "  - {name: model.params.C, type: continuous, low: 0.1, high: 10}\n"
        "  - {name: model.params.tol, type: continuous, low: 0.0001, high: 0.01}\n"
        "design: {kind: full_factorial, levels: 1000}\n"
        "objective: {metric: accuracy}\n"
    )
    config = load_sweep_config(path)
    # when / then
    assert design_size(config.space, config.design) == 1_000_000 > MAX_SWEEP_POINTS
    with pytest.raises(InputError, match=r"design: full_factorial .* 1000000 points"):
        plan_sweep(config, str(path))
