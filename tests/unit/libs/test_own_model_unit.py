"""Your own model by import path: the spec, the import, parameter and task checks, the seed,
early stopping, your transformer and metric, and where the logged model's code comes from."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.config.train import load_train_config
from libs.errors import InputError
from libs.features import FeatureSpec, build_preprocessor
from libs.metrics import custom_metrics, load_metrics
from libs.models import (
    SklearnModel,
    SklearnModelSpec,
    build_estimator,
    code_to_ship,
    modules_of,
    refused_tasks,
)

TEAM_CODE = textwrap.dedent(
    """
    import numpy as np
    from sklearn.base import BaseEstimator, RegressorMixin


    class MeanRegressor(RegressorMixin, BaseEstimator):
        def __init__(self, offset=0.0, seed=0):
            self.offset = offset
            self.seed = seed

        def fit(self, X, y):
            self.mean_ = float(np.mean(y)) + self.offset
            return self

        def predict(self, X):
            return np.full(len(X), self.mean_)


    class NoPredict:
        def fit(self, X, y):
            return self

        def get_params(self, deep=True):
            return {}


    class Doubler:
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return np.asarray(X, dtype=float) * 2


    def say_hello(y_true, y_pred):
        return "hello"


    def max_error(y_true, y_pred):
        return float(np.max(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
    """
)


@pytest.fixture
def team_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module of the team's own, importable from this process only."""
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "unit_team_code.py").write_text(TEAM_CODE)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    import sys

    sys.modules.pop("unit_team_code", None)


def refused(*overrides: str) -> str:
    with pytest.raises(InputError) as info:
        load_train_config(None, list(overrides))
    return str(info.value)


# --- the spec --------------------------------------------------------------------------


def test_class_replaces_a_built_in_name_and_names_the_registered_model() -> None:
    # given / when: a config naming a built-in estimator, then --set model.class
    config = load_train_config(
        None,
        [
            "model.name=random_forest",
            "model.params.n_estimators=5",
            "model.class=lightgbm.LGBMClassifier",
        ],
    )
    # then
    assert config.model.name is None
    assert config.model.estimator_class == "lightgbm.LGBMClassifier"
    assert config.registered_model_name == "breast-cancer-lgbmclassifier"
    assert config.flat_params()["model.class"] == "lightgbm.LGBMClassifier"
    # and: the dumped config (what --reproduce and sweeps re-validate) round-trips
    dumped = config.model_dump(mode="json")
    assert dumped["model"]["class"] == "lightgbm.LGBMClassifier"
    assert type(config).model_validate(dumped) == config


def test_built_in_names_keep_their_defaults() -> None:
    config = load_train_config(None, [])
    assert config.model.name == "logistic_regression" and config.model.estimator_class is None
    assert config.registered_model_name == "breast-cancer-logistic-regression"
    assert build_estimator(config.model, "classification", 0).max_iter == 1000


def test_a_class_path_that_is_not_dotted_is_refused_by_the_schema() -> None:
    assert "model.class" in refused("model.class=XGBClassifier")


# --- imports, parameters, task, seed ---------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["model.class=nopkg_absent.Model"], "model.class: cannot import 'nopkg_absent.Model'"),
        (["model.class=xgboost.NoSuchModel"], "model.class: module 'xgboost' has no"),
        (["model.class=sklearn.preprocessing.StandardScaler"], "has no predict method"),
        (["model.class=os.path.join"], "'os.path.join' is a function, not a class"),
        (
            ["model.class=xgboost.XGBClassifier", "model.params.n_trees=5"],
            "model.params.n_trees: not a parameter of xgboost.XGBClassifier",
        ),
        (
            ["model.class=xgboost.XGBClassifier", "data.source=diabetes"],
            "model.class: 'xgboost.XGBClassifier' is a classifier; this is a regression task",
        ),
        (
            [
                "data.source=diabetes",
                "model.class=sklearn.ensemble.RandomForestRegressor",
                "model.params.max_depth=-3",
            ],
            "model.params.max_depth:",
        ),
        (["model.early_stopping.rounds=5"], "model.early_stopping: 'logistic_regression'"),
        (
            ["model.class=sklearn.ensemble.RandomForestClassifier", "model.early_stopping={}"],
            "model.early_stopping: sklearn.ensemble.RandomForestClassifier takes no validation",
        ),
    ],
)
def test_bad_model_input_is_one_line_naming_the_field(overrides: list[str], expected: str) -> None:
    # when
    message = refused(*overrides)
    # then
    assert expected in message
    assert "\n" not in message


def test_your_class_without_predict_is_refused(team_folder: Path) -> None:
    assert "'unit_team_code.NoPredict' has no predict method" in refused(
        "model.class=unit_team_code.NoPredict"
    )


def test_the_seed_reaches_random_state_or_seed_unless_set() -> None:
    # given
    xgb = SklearnModelSpec.model_validate({"class": "xgboost.XGBClassifier"})
    fixed = SklearnModelSpec.model_validate(
        {"class": "xgboost.XGBClassifier", "params": {"random_state": 7}}
    )
    # when / then
    assert build_estimator(xgb, "classification", 42).random_state == 42
    assert build_estimator(fixed, "classification", 42).random_state == 7


def test_your_class_gets_the_seed_and_its_task_is_inferred(team_folder: Path) -> None:
    # given: a regressor of the team's own that takes `seed`
    spec = SklearnModelSpec.model_validate(
        {"class": "unit_team_code.MeanRegressor", "params": {"offset": 1.0}}
    )
    # when
    estimator = build_estimator(spec, "regression", 11)
    # then
    assert (estimator.seed, estimator.offset) == (11, 1.0)
    assert set(refused_tasks(spec)) == {"classification"}


# --- fitting: early stopping, labels, importances --------------------------------------


def _rows(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)


@pytest.mark.parametrize("path", ["xgboost.XGBClassifier", "lightgbm.LGBMClassifier"])
def test_early_stopping_stops_before_the_last_round(path: str) -> None:
    # given: far more rounds than the rows need, stopping after 3 without progress
    spec = SklearnModelSpec.model_validate(
        {
            "class": path,
            "params": {"n_estimators": 400, "learning_rate": 0.5, "n_jobs": 1},
            "early_stopping": {"validation_fraction": 0.25, "rounds": 3},
        }
    )
    x, y = _rows()
    # when
    model = SklearnModel(spec, "classification", seed=0).fit(x, y)
    # then
    assert model.best_iteration is not None and model.best_iteration < 399
    assert (model.predict(x) == y).mean() > 0.85


def test_string_labels_reach_xgboost_as_integers_and_come_back_as_strings() -> None:
    # given
    spec = SklearnModelSpec.model_validate(
        {"class": "xgboost.XGBClassifier", "params": {"n_estimators": 10, "n_jobs": 1}}
    )
    x, y = _rows()
    labels = np.where(y == 1, "yes", "no")
    # when
    model = SklearnModel(spec, "classification").fit(x, labels)
    # then
    assert set(model.predict(x)) <= {"yes", "no"}
    assert model.classes == ["no", "yes"]
    proba = model.predict_proba(x)
    assert proba is not None and np.allclose(proba.sum(axis=1), 1.0)


def test_importances_come_from_the_model_itself() -> None:
    x, y = _rows()
    boosted = SklearnModel(
        SklearnModelSpec.model_validate(
            {"class": "lightgbm.LGBMClassifier", "params": {"n_estimators": 10}}
        ),
        "classification",
    ).fit(x, y)
    linear = SklearnModel(SklearnModelSpec(), "classification").fit(x, y)
    knn = SklearnModel(SklearnModelSpec(name="knn"), "classification").fit(x, y)
    # then: the informative first columns lead; a model without either gives none
    values, attribute = boosted.importances() or (np.zeros(4), "")
    assert attribute == "feature_importances_" and values.argmax() in (0, 1)
    coef, attribute = linear.importances() or (np.zeros(4), "")
    assert attribute == "coef_" and coef.argmax() == 0
    assert knn.importances() is None


# --- your transformer and metric -------------------------------------------------------


def test_your_transformer_is_a_named_step_beside_the_built_in_groups(team_folder: Path) -> None:
    # given
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    spec = FeatureSpec.model_validate(
        {"custom": [{"class": "unit_team_code.Doubler", "columns": ["a"]}]}
    )
    # when
    preprocessor = build_preprocessor(spec, frame)
    out = preprocessor.fit_transform(frame)
    # then: the scaled columns, then the step's output under its class name
    assert list(preprocessor.get_feature_names_out()) == ["a", "b", "doubler_0"]
    assert out[:, 2].tolist() == [2.0, 4.0, 6.0]
    assert modules_of(preprocessor).count("unit_team_code") == 1


def test_bad_transformer_input_is_one_line_naming_the_field(team_folder: Path) -> None:
    assert "features.custom.0.class: 'unit_team_code.MeanRegressor' has no transform" in refused(
        "features.custom=[{class: unit_team_code.MeanRegressor, columns: [x]}]"
    )
    assert "features.custom.0.params.scale: not a parameter" in refused(
        "features.custom=[{class: sklearn.preprocessing.StandardScaler, columns: [x], "
        "params: {scale: 2}}]"
    )


def test_your_metric_is_computed_under_its_name(team_folder: Path) -> None:
    # when
    values = custom_metrics(["unit_team_code.max_error"], [1.0, 2.0, 3.0], [1.0, 2.5, 5.0])
    # then
    assert values == {"max_error": 2.0}


def test_a_metric_that_returns_no_number_is_refused(team_folder: Path) -> None:
    assert refused("metrics.custom=[unit_team_code.say_hello]") == (
        "config: metrics.custom.0: 'unit_team_code.say_hello' returned str 'hello', not a number"
    )
    with pytest.raises(InputError, match="a metric already computed"):
        load_metrics(
            ["sklearn.metrics.accuracy_score", "sklearn.metrics._classification.accuracy_score"]
        )


# --- what the logged model carries -----------------------------------------------------


def test_your_folder_is_shipped_and_installed_packages_are_pinned(team_folder: Path) -> None:
    # given
    import unit_team_code  # noqa: F401  (imported as the training run would)

    # when
    shipped = code_to_ship(
        ["unit_team_code", "xgboost.sklearn", "sklearn.linear_model._base", "libs.models", "json"],
        already_pinned=("scikit-learn",),
    )
    # then
    assert shipped.paths == [str((team_folder / "unit_team_code.py").resolve())]
    (pin,) = shipped.requirements  # xgboost or xgboost-cpu, whichever is installed
    assert pin.startswith("xgboost")
    assert shipped.modules == ["unit_team_code", "xgboost.sklearn"]


def test_the_code_digest_changes_when_your_module_does(team_folder: Path) -> None:
    # given
    from libs.models.imports import code_digest

    before = code_digest(["unit_team_code"])
    # when: the team edits its module
    module = team_folder / "unit_team_code.py"
    module.write_text(module.read_text() + "\n# tuned\n")
    # then: a cached fit keyed on it is not reused; an installed package keys on its version
    assert code_digest(["unit_team_code"]) != before
    assert code_digest(["xgboost.sklearn"]) == code_digest(["xgboost"])
