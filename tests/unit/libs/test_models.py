"""The model factory: names, tasks, parameter checks, seeding, raw-input pipelines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.preprocessing import StandardScaler

from libs.errors import InputError
from libs.models import SklearnModelSpec, create_model, sklearn_estimator_names


def test_factory_picks_estimator_by_name_and_task() -> None:
    # when
    clf = create_model(SklearnModelSpec(name="random_forest"), "classification", seed=3)
    reg = create_model(SklearnModelSpec(name="random_forest"), "regression", seed=3)
    # then
    assert isinstance(clf.estimator, RandomForestClassifier)  # type: ignore[attr-defined]
    assert isinstance(reg.estimator, RandomForestRegressor)  # type: ignore[attr-defined]
    assert clf.estimator.random_state == 3  # type: ignore[attr-defined]


def test_explicit_params_win_over_seed_and_defaults() -> None:
    spec = SklearnModelSpec(name="random_forest", params={"random_state": 7, "n_estimators": 5})
    model = create_model(spec, "classification", seed=3)
    assert model.estimator.get_params()["random_state"] == 7  # type: ignore[attr-defined]
    assert model.estimator.get_params()["n_estimators"] == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "task", "message"),
    [
        (
            SklearnModelSpec(name="ridge"),
            "classification",
            "model.name: 'ridge' does not support classification",
        ),
        (SklearnModelSpec(name="logistic_regression"), "regression", "does not support regression"),
        (
            SklearnModelSpec(name="svm", params={"gamma_x": 1}),
            "classification",
            "model.params.gamma_x: not a parameter of SVC",
        ),
        (
            SklearnModelSpec(name="random_forest", params={"n_estimators": -3}),
            "classification",
            "model.params.n_estimators: The 'n_estimators' parameter",
        ),
    ],
)
def test_bad_model_choices_are_input_errors(
    spec: SklearnModelSpec, task: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        create_model(spec, task)


def test_every_named_estimator_fits_its_tasks() -> None:
    # given
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    labels = (x[:, 0] > 0).astype(int)
    values = x @ np.array([1.0, -2.0, 0.5])
    for task, y in (("classification", labels), ("regression", values)):
        for name in sklearn_estimator_names(task):
            # when
            model = create_model(SklearnModelSpec(name=name), task, seed=0).fit(x, y)  # type: ignore[arg-type]
            # then
            assert model.predict(x).shape == (60,), name
            proba = model.predict_proba(x)
            if task == "classification":
                assert proba is not None and proba.shape == (60, 2), name
                assert model.classes == [0, 1]
            else:
                assert proba is None


def test_same_seed_same_model() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(80, 4)), rng.integers(0, 2, size=80)
    spec = SklearnModelSpec(name="random_forest", params={"n_estimators": 10})
    a = create_model(spec, "classification", seed=5).fit(x, y).predict_proba(x)
    b = create_model(spec, "classification", seed=5).fit(x, y).predict_proba(x)
    c = create_model(spec, "classification", seed=6).fit(x, y).predict_proba(x)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pipeline_takes_raw_rows() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(loc=100, scale=20, size=(50, 2))
    y = (x[:, 0] > 100).astype(int)
    scaler = StandardScaler().fit(x)
    model = create_model(SklearnModelSpec(), "classification").fit(scaler.transform(x), y)
    pipeline = model.as_pipeline(scaler)
    assert np.array_equal(pipeline.predict(x), model.predict(scaler.transform(x)))
