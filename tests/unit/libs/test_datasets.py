"""Bundled datasets, task inference, target checks and splitting."""

from __future__ import annotations

import pandas as pd
import pytest

from libs.datasets import (
    BUNDLED,
    DataSpec,
    SplitSpec,
    check_target,
    infer_task,
    load_bundled,
    split_frame,
    subsample,
)
from libs.errors import InputError


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_datasets_load_offline_with_a_target(name: str) -> None:
    frame = load_bundled(name)
    assert "target" in frame.columns
    assert len(frame) > 100
    assert all(" " not in c for c in frame.columns)


def test_task_inference() -> None:
    assert infer_task(DataSpec(source="diabetes"), pd.Series([1.0])) == "regression"
    assert infer_task(DataSpec(source="iris"), pd.Series([1])) == "classification"
    files = DataSpec.model_construct(source="x.csv", target="y", task="auto", max_rows=None)
    assert infer_task(files, pd.Series(["a", "b"])) == "classification"
    assert infer_task(files, pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(files, pd.Series([0.5, 1.25, 3.0])) == "regression"
    forced = DataSpec.model_construct(source="x.csv", target="y", task="regression", max_rows=None)
    assert infer_task(forced, pd.Series([0, 1])) == "regression"


def test_single_class_target_is_rejected() -> None:
    with pytest.raises(InputError, match=r"data.csv: target column 'y' has a single class"):
        check_target(pd.Series([1, 1, 1], name="y"), "classification", "data.csv")


def test_missing_target_values_are_rejected() -> None:
    with pytest.raises(InputError, match="has 1 missing values"):
        check_target(pd.Series([1, None, 0], name="y"), "classification", "data.csv")


def test_split_is_seeded_and_stratified() -> None:
    frame = load_bundled("iris")
    a = split_frame(frame, "target", "classification", SplitSpec(test_size=0.2, seed=1))
    b = split_frame(frame, "target", "classification", SplitSpec(test_size=0.2, seed=1))
    c = split_frame(frame, "target", "classification", SplitSpec(test_size=0.2, seed=2))
    assert a.stratified
    assert list(a.x_test.index) == list(b.x_test.index) != list(c.x_test.index)
    assert a.y_test.value_counts().tolist() == [10, 10, 10]
    assert "target" not in a.x_train.columns


def test_split_with_unknown_target() -> None:
    with pytest.raises(InputError, match=r"data\.target: column 'label' not found"):
        split_frame(load_bundled("iris"), "label", "classification", SplitSpec())


def test_split_too_small() -> None:
    tiny = pd.DataFrame({"x": [1, 2], "target": [0, 1]})
    with pytest.raises(InputError, match=r"split\.test_size"):
        split_frame(tiny, "target", "classification", SplitSpec(test_size=0.5))


def test_subsample_is_seeded() -> None:
    frame = load_bundled("wine")
    assert subsample(frame, 50, 0).index.equals(subsample(frame, 50, 0).index)
    assert len(subsample(frame, 50, 0)) == 50
    assert subsample(frame, None, 0) is frame


def test_file_source_needs_a_target(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="target: required when source is a file"):
        DataSpec(source=str(path))
    assert DataSpec(source=str(path), target="b").name == "d"


def test_shipped_customers_csv_is_the_seeded_generator_output(repo_root, tmp_path) -> None:
    # given: the generator writes a fresh copy
    from libs.datasets.synthetic import main

    fresh = tmp_path / "customers.csv"
    # when
    assert main([str(fresh)]) == 0
    # then: byte for byte what configs/ ships
    assert fresh.read_bytes() == (repo_root / "configs" / "data" / "customers.csv").read_bytes()


def test_synthetic_customers_have_every_column_kind() -> None:
    from libs.datasets.synthetic import make_customers

    frame = make_customers(200, seed=1)
    assert frame["plan"].dtype == object or str(frame["plan"].dtype).startswith("str")
    assert frame["age"].isna().any() and frame["region"].isna().any()
    assert pd.to_datetime(frame["signup_date"]).notna().all()
    assert set(frame["churned"]) == {0, 1}
    assert make_customers(50, seed=3).equals(make_customers(50, seed=3))
