"""Short factor names and rounded values (issue 33): what a person reads says names, not
letters or config paths, and carries no float noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from libs.doe import analyse
from libs.doe.names import (
    Namer,
    factor_params,
    logged_factors,
    plain_number,
    round_value,
    short_names,
    show_value,
)
from libs.doe.space import FactorSpace

SPACE = FactorSpace(
    factors=[
        {"name": "model.params.learning_rate", "type": "continuous", "low": 0.02, "high": 0.2},
        {"name": "model.params.n_estimators", "type": "integer", "low": 50, "high": 300},
        {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 6},
        {"name": "model.params.subsample", "type": "continuous", "low": 0.5, "high": 1.0},
        {
            "name": "model.params.alpha",
            "type": "continuous",
            "low": 1e-4,
            "high": 1.0,
            "scale": "log",
        },
        {"name": "model.params.loss", "type": "categorical", "levels": ["squared_error", "huber"]},
    ]
)


def test_short_name_is_the_last_part_unless_two_collide() -> None:
    # given: two factors ending in the same part
    keys = ["model.params.alpha", "features.scaler.alpha", "model.params.max_depth", "C"]
    # when
    short = short_names(keys)
    # then: the colliding ones get their parent part, the others the last part
    assert short == {
        "model.params.alpha": "params.alpha",
        "features.scaler.alpha": "scaler.alpha",
        "model.params.max_depth": "max_depth",
        "C": "C",
    }


def test_values_get_the_digits_their_range_warrants() -> None:
    f = {f.name.rsplit(".", 1)[-1]: f for f in SPACE.factors}
    # integers as integers, a linear factor to a hundredth of its range
    assert show_value(f["n_estimators"], 174.99999999) == "175"
    assert round_value(f["max_depth"], 3.0) == 3 and isinstance(
        round_value(f["max_depth"], 3.0), int
    )
    assert show_value(f["learning_rate"], 0.20000000000000004) == "0.2"
    assert show_value(f["learning_rate"], 0.0634567) == "0.063"
    assert show_value(f["subsample"], 0.7500001) == "0.75"
    # a log-scale factor to three significant figures, a level as it is
    assert show_value(f["alpha"], 0.000316227766) == "0.000316"
    assert show_value(f["loss"], "huber") == "huber"
    # no factor: no float noise, four significant digits
    assert plain_number(0.30000000000000004) == "0.3" and plain_number(4.0) == "4"
    assert plain_number(np.float64(4.755123)) == "4.755"


def test_text_in_names_without_float_noise() -> None:
    # given
    said = Namer.of(SPACE)
    line = (
        "effect.model.params.learning_rate:model.params.n_estimators is large; best at "
        "model.params.learning_rate=0.20000000000000004, model.params.max_depth=3.0 "
        "(r2 0.4567891234)"
    )
    # when
    text = said.text(line)
    # then
    assert text == (
        "effect.learning_rate x n_estimators is large; best at learning_rate=0.2, "
        "max_depth=3 (r2 0.4568)"
    )
    assert said.term("model.params.subsample^2") == "subsample^2"
    assert said.metric_key("model.params.max_depth:model.params.subsample") == (
        "max_depth_x_subsample"
    )
    assert said.point({"model.params.alpha": 0.0031622, "model.params.loss": "huber"}) == (
        "alpha=0.00316, loss=huber"
    )


def test_analysis_speaks_in_names_not_letters() -> None:
    """A 2^(5-2) over dotted keys (D = AB, E = AC): the notes and tracker keys name the
    factors; the letters stay in the alias table for those who want them."""
    # given
    keys = [
        "model.params.learning_rate",
        "model.params.n_estimators",
        "model.params.max_depth",
        "model.params.subsample",
        "model.params.alpha",
    ]
    base = np.array([[a, b, c] for c in (-1, 1) for b in (-1, 1) for a in (-1, 1)], dtype=float)
    coded = pd.DataFrame(base, columns=keys[:3])
    coded[keys[3]] = coded[keys[0]] * coded[keys[1]]
    coded[keys[4]] = coded[keys[0]] * coded[keys[2]]
    y = 0.4 + 0.05 * coded[keys[0]] - 0.02 * coded[keys[2]] + [0.001, -0.002, 0, 0.002] * 2
    # when
    result = analyse(coded, y, SPACE.model_copy(update={"factors": SPACE.factors[:5]}))
    # then: no letter words and no dotted paths in the notes
    joined = " ".join(result.notes)
    assert "model.params" not in joined
    assert "learning_rate is aliased with" in joined or "aliased" in joined
    assert not any(w in joined.split() for w in ("AB", "AC", "BC", "DE"))
    metrics = result.metrics()
    assert "effect.learning_rate" in metrics
    assert not any("model.params" in k for k in metrics)
    # and: the text keeps the letter key, with the config path beside the short name
    assert "A = learning_rate (model.params.learning_rate)" in result.text()


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, 2.0000000001])
def test_no_long_numbers_survive(value: float) -> None:
    text = Namer.of(["a.b"]).text(f"a.b={value} and {value}")
    assert all(len(tok.split(".")[-1]) <= 6 for tok in text.replace(",", " ").split())


def test_mlflow_tags_carry_short_names() -> None:
    """The MLflow UI's runs table shows each point's setting in short names, and the parent
    run says which config key each short name stands for."""
    from tasks.sweep_records import _point_tags

    # given
    point = {"model.params.learning_rate": 0.30000000000000004, "model.params.max_depth": 3}
    # when
    tags = _point_tags("abc", 2, completed=True, point=point)
    # then
    assert tags["sweep.setting"] == "learning_rate=0.3, max_depth=3"
    coded = pd.DataFrame([[-1, -1], [1, -1], [-1, 1], [1, 1]], columns=list(point), dtype=float)
    result = analyse(coded, [1.0, 2.0, 1.5, 2.6])
    assert result.tags()["doe.factor_names"] == (
        "learning_rate=model.params.learning_rate, max_depth=model.params.max_depth"
    )
    # and: a fraction's letters (its defining relation, generators) come with their key
    half = pd.DataFrame(
        [[-1, -1, 1], [1, -1, -1], [-1, 1, -1], [1, 1, 1]],
        columns=[*point, "model.params.subsample"],
        dtype=float,
    )
    tags = analyse(half, [1.0, 2.0, 1.5, 2.6]).tags()
    assert tags["doe.defining_relation"] == "I = ABC"
    assert tags["doe.letters"] == "A=learning_rate, B=max_depth, C=subsample"


def test_wall_clock_cost_responses_are_flagged_as_noisy() -> None:
    """A wall-clock response moves with the machine's load (issue 33: the best-R2 run took
    2.7 s instead of 0.2 s on a busy machine): the desirability says so and names model
    size, which does not."""
    from libs.doe.responses import ResponseGoal, combine_responses

    # given
    coded = pd.DataFrame({"model.params.max_depth": [-1.0, 1.0, -1.0, 1.0]})
    points = [{"model.params.max_depth": 2 + 2 * (i % 2)} for i in range(4)]
    values = {
        "r2": {0: 0.4, 1: 0.5, 2: 0.41, 3: 0.52},
        "train_seconds": {0: 0.2, 1: 2.7, 2: 0.21, 3: 0.3},
        "model_size_bytes": {0: 1e4, 1: 3e4, 2: 1e4, 3: 3e4},
    }
    goals = {name: ResponseGoal(metric=name) for name in values}
    natural = {"r2": "maximize", "train_seconds": "minimize", "model_size_bytes": "minimize"}
    space = FactorSpace(factors=[SPACE.factors[2]])
    # when
    multi = combine_responses(coded, points, space, values, goals, natural, {})
    # then
    noisy = [n for n in multi.notes if n.startswith("train_seconds is wall-clock")]
    assert len(noisy) == 1 and "model_size_bytes does not" in noisy[0]
    assert not any(n.startswith("model_size_bytes is") for n in multi.notes)
    assert any(line.startswith("train_seconds (noisy: wall-clock") for line in multi.lines())
    assert "max_depth=" in multi.lines()[-2] and "model.params" not in multi.lines()[-2]


def test_mlflow_factor_params_are_short_and_read_back_with_their_full_keys() -> None:
    # given: the factors as a sweep's parent run logs them
    params = factor_params(SPACE.factors)
    # then: short keys, each value keeping the full config key
    assert "factor.learning_rate" in params and "factor.loss" in params
    assert not any(k.startswith("factor.model.") for k in params)
    # when: read back (a point's run name, a later stage)
    names, space = logged_factors({**params, "design.kind": "lhs"})
    # then: the full keys and a space that rounds by range
    assert names == sorted(SPACE.names)
    assert space is not None and space.factor("model.params.alpha").scale == "log"


def test_factor_params_logged_before_short_names_still_read() -> None:
    # given: a study logged with full keys and specs without a name
    old = {
        "factor.model.params.learning_rate": '{"type":"continuous","low":0.02,"high":0.2}',
        "factor.model.params.max_depth": '{"type":"integer","low":2,"high":4}',
    }
    # when
    names, space = logged_factors(old)
    # then
    assert names == ["model.params.learning_rate", "model.params.max_depth"]
    assert space is not None
    assert Namer.of(names, space).value("model.params.learning_rate", 0.020000000000000004) == (
        "0.02"
    )
    # an unreadable spec keeps the name, without ranges
    assert logged_factors({"factor.model.params.C": "not json"}) == (["model.params.C"], None)
