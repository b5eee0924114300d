"""Config loading: defaults, YAML, overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config.train import TrainConfig, load_train_config
from libs.config import apply_override
from libs.errors import InputError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_embedded_defaults_need_no_file() -> None:
    # when
    config = load_train_config()
    # then
    assert config.data.source == "breast_cancer"
    assert config.model.framework == "sklearn"
    assert config.model.name == "logistic_regression"
    assert config.registered_model_name == "breast-cancer-logistic-regression"


def test_yaml_then_overrides(tmp_path: Path) -> None:
    # given
    path = write(
        tmp_path, "data: {source: iris}\nmodel: {name: random_forest, params: {n_estimators: 5}}\n"
    )
    # when
    config = load_train_config(path, ["model.params.max_depth=3", "split.test_size=0.3"])
    # then
    assert config.data.source == "iris"
    assert config.model.params == {"n_estimators": 5, "max_depth": 3}
    assert config.split.test_size == pytest.approx(0.3)


def test_config_is_frozen() -> None:
    config = TrainConfig()
    with pytest.raises(Exception, match="frozen"):
        config.data = config.data  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("data: {sourse: iris}\n", [], "run.yaml: data.sourse: unknown key"),
        (
            "split: {test_size: 1.5}\n",
            [],
            "run.yaml: split.test_size: Input should be less than 1 (got 1.5)",
        ),
        ("split: {seed: abc}\n", [], "run.yaml: split.seed: Input should be a valid integer"),
        ("data: {source: mnist}\n", [], "run.yaml: data.source: unknown dataset 'mnist'"),
        (
            "data: {source: nowhere.csv, target: y}\n",
            [],
            "run.yaml: data.source: file not found: nowhere.csv",
        ),
        ("data: {source: x.csv}\n", [], "run.yaml: data.source: file not found"),
        ("model: {name: xgboost}\n", [], "run.yaml: model.name: Input should be"),
        (
            "gate: {min_improvement: -1}\n",
            [],
            "run.yaml: gate.min_improvement: Input should be greater",
        ),
        ("data: [1, 2]\n", [], "run.yaml: data: Input should be a valid dictionary"),
        ("- a\n- b\n", [], "run.yaml: top level must be a mapping, got list"),
        ("data: {source: iris\n", [], "run.yaml: invalid YAML at line 2"),
        (
            "{}\n",
            ["split.test_size=0"],
            "run.yaml: split.test_size: Input should be greater than 0",
        ),
        ("{}\n", ["nokey"], "--set 'nokey': expected dotted.key=value"),
        (
            "data: {source: iris}\n",
            ["data.source.x=1"],
            "--set data.source.x: 'data.source' holds a str, not a mapping",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_field(
    tmp_path: Path, text: str, overrides: list[str], message: str
) -> None:
    # given
    path = write(tmp_path, text)
    # when
    with pytest.raises(InputError) as info:
        load_train_config(path, overrides)
    # then
    text_of_error = str(info.value)
    assert "\n" not in text_of_error
    assert (
        text_of_error.startswith(message.replace("run.yaml", str(path))) or message in text_of_error
    )


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^config file not found: .*absent\.yaml$"):
        load_train_config(tmp_path / "absent.yaml")


def test_override_values_are_parsed_as_yaml() -> None:
    # when
    data = apply_override({"a": {"b": 1}}, "a.c=[1, 2]")
    data = apply_override(data, "a.d=true")
    data = apply_override(data, "e=text")
    # then
    assert data == {"a": {"b": 1, "c": [1, 2], "d": True}, "e": "text"}


def test_override_goes_through_a_key_left_empty_and_leaves_the_input_alone() -> None:
    # given: `params:` left empty in the YAML (None)
    data = {"model": {"params": None}}
    # when
    new = apply_override(data, "model.params.C=0.5")
    # then
    assert new == {"model": {"params": {"C": 0.5}}}
    assert data == {"model": {"params": None}}


def test_flat_params_and_digest_are_stable() -> None:
    # given
    a = load_train_config(None, ["model.params.C=0.5"])
    b = load_train_config(None, ["model.params.C=0.5"])
    c = load_train_config(None, ["model.params.C=0.6"])
    # then
    assert a.digest() == b.digest() != c.digest()
    params = a.flat_params()
    assert params["model.params.C"] == "0.5"
    assert params["data.source"] == "breast_cancer"
    assert params["features.drop"] == "[]"


def test_every_shipped_config_validates(repo_root: Path) -> None:
    configs = sorted((repo_root / "configs").glob("*.yaml"))
    assert configs, "configs/ holds at least one config"
    for path in configs:
        load_train_config(path)


def test_invalid_example_configs_fail_with_their_expected_message(repo_root: Path) -> None:
    # given: each invalid example states its expected error on its first line
    examples = sorted((repo_root / "tests" / "data" / "invalid").glob("*.yaml"))
    assert len(examples) >= 4
    for path in examples:
        expected = path.read_text().splitlines()[0].removeprefix("# expect: ").strip()
        # when
        with pytest.raises(InputError) as info:
            load_train_config(path)
        # then
        assert expected in str(info.value), path.name
