"""Factor spaces: validation, coded <-> real mapping, and applying points to configs."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from libs.config import set_dotted
from libs.doe import (
    CategoricalFactor,
    ContinuousFactor,
    Factor,
    FactorSpace,
    IntegerFactor,
    apply_point,
)
from libs.errors import InputError

FACTOR = TypeAdapter(Factor)


# --- validation -------------------------------------------------------------


def test_factor_type_discriminator_picks_the_class_from_yaml_like_data() -> None:
    # given
    raw = [
        {"type": "continuous", "name": "model.params.C", "low": 0.01, "high": 10, "scale": "log"},
        {"type": "integer", "name": "model.params.max_depth", "low": 2, "high": 8},
        {"type": "categorical", "name": "model.params.solver", "levels": ["lbfgs", "saga"]},
    ]
    # when
    factors = [FACTOR.validate_python(r) for r in raw]
    # then
    assert [type(f) for f in factors] == [ContinuousFactor, IntegerFactor, CategoricalFactor]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "continuous", "name": "lr", "low": 1.0, "high": 0.1}, "factor 'lr': low"),
        ({"type": "continuous", "name": "lr", "low": 1.0, "high": 1.0}, "factor 'lr': low"),
        ({"type": "integer", "name": "depth", "low": 5, "high": 2}, "factor 'depth': low"),
        ({"type": "integer", "name": "depth", "low": 3, "high": 3}, "factor 'depth': low"),
        (
            {"type": "continuous", "name": "C", "low": 0, "high": 1, "scale": "log"},
            "factor 'C': a log scale needs low > 0",
        ),
        (
            {"type": "continuous", "name": "C", "low": -1, "high": 1, "scale": "log"},
            "factor 'C': a log scale needs low > 0",
        ),
        ({"type": "categorical", "name": "k", "levels": ["rbf"]}, "factor 'k': .*at least 2"),
        ({"type": "categorical", "name": "k", "levels": ["a", "a"]}, "factor 'k': levels must"),
        ({"type": "continuous", "name": "a..b", "low": 0, "high": 1}, "not a dotted config"),
        ({"type": "continuous", "name": "", "low": 0, "high": 1}, "not a dotted config"),
        ({"type": "continuous", "name": "x", "low": 0, "high": float("inf")}, "finite"),
        ({"type": "continuous", "name": "x", "low": 0, "high": 1, "step": 2}, "step"),
        ({"type": "ordinal", "name": "x", "levels": [1, 2]}, "type"),
        ({"type": "integer", "name": "n", "low": 1.5, "high": 4}, "low"),
    ],
)
def test_invalid_factor_fails_validation_naming_the_factor(raw: dict, message: str) -> None:
    # given: a factor definition with one problem
    # when / then
    with pytest.raises(ValidationError, match=message):
        FACTOR.validate_python(raw)


def test_factors_are_frozen() -> None:
    # given
    factor = ContinuousFactor(name="lr", low=0.1, high=1.0)
    # when / then
    with pytest.raises(ValidationError):
        factor.low = 0.5  # type: ignore[misc]


def test_space_needs_at_least_one_factor() -> None:
    # given / when / then
    with pytest.raises(ValidationError, match="at least one factor"):
        FactorSpace(factors=[])


def test_space_rejects_repeated_names() -> None:
    # given
    raw = {
        "factors": [
            {"type": "continuous", "name": "a.b", "low": 0, "high": 1},
            {"type": "integer", "name": "a.b", "low": 0, "high": 3},
        ]
    }
    # when / then
    with pytest.raises(ValidationError, match=r"repeated: a\.b"):
        FactorSpace.model_validate(raw)


def test_space_rejects_unknown_fields() -> None:
    # given / when / then
    with pytest.raises(ValidationError, match="extra"):
        FactorSpace.model_validate({"factors": [], "design": "ccd"})


def test_space_lookup_of_unknown_factor_names_it() -> None:
    # given
    space = FactorSpace(factors=[ContinuousFactor(name="a", low=0, high=1)])
    # when / then
    with pytest.raises(InputError, match="factor 'b' is not in the factor space"):
        space.factor("b")


# --- coded <-> real ---------------------------------------------------------


@pytest.mark.parametrize(("coded", "real"), [(-1, 10.0), (0, 20.0), (1, 30.0), (0.5, 25.0)])
def test_linear_factor_maps_coded_to_midpoint_plus_halfrange(coded: float, real: float) -> None:
    # given
    factor = ContinuousFactor(name="x", low=10, high=30)
    # when
    value = factor.decode(coded)
    # then
    assert value == pytest.approx(real)
    assert factor.encode(value) == pytest.approx(coded)


@pytest.mark.parametrize(("coded", "real"), [(-1, 0.001), (0, 0.1), (1, 10.0), (0.5, 1.0)])
def test_log_factor_is_linear_in_log10(coded: float, real: float) -> None:
    # given: 1e-3 .. 1e1, centre 1e-1 in log space
    factor = ContinuousFactor(name="C", low=0.001, high=10, scale="log")
    # when
    value = factor.decode(coded)
    # then
    assert value == pytest.approx(real)
    assert factor.encode(value) == pytest.approx(coded)


def test_circumscribed_axial_point_extrapolates_a_continuous_factor() -> None:
    # given
    factor = ContinuousFactor(name="x", low=0, high=2)
    # when
    value = factor.decode(math.sqrt(2))
    # then: documented behaviour, not clipped
    assert value == pytest.approx(1 + math.sqrt(2))


@pytest.mark.parametrize(
    ("coded", "real"),
    [(-1, 1), (1, 6), (0, 4), (-0.2, 3), (-1.414, 1), (1.414, 6), (-5, 1)],
)
def test_integer_factor_rounds_half_up_and_clips_into_bounds(coded: float, real: int) -> None:
    # given: centre 3.5, so coded 0 rounds half up to 4 and -0.2 (3.0) stays 3
    factor = IntegerFactor(name="depth", low=1, high=6)
    # when
    value = factor.decode(coded)
    # then
    assert value == real
    assert isinstance(value, int)


def test_integer_factor_encodes_the_value_that_actually_ran() -> None:
    # given
    factor = IntegerFactor(name="depth", low=1, high=6)
    # when
    coded = factor.encode(4)
    # then: 4 is 0.5 above the centre 3.5 on a half-range of 2.5
    assert coded == pytest.approx(0.2)


def test_categorical_codes_spread_levels_over_minus_one_to_one() -> None:
    # given
    factor = CategoricalFactor(name="k", levels=["linear", "rbf", "poly"])
    # when
    codes = [factor.encode(level) for level in factor.levels]
    decoded = [factor.decode(c) for c in (-1, 0, 1)]
    # then
    assert codes == [-1.0, 0.0, 1.0]
    assert decoded == ["linear", "rbf", "poly"]


def test_categorical_keeps_bool_and_int_levels_distinct() -> None:
    # given
    factor = CategoricalFactor(name="flag", levels=[True, 0])
    # when
    codes = (factor.encode(True), factor.encode(0))
    # then
    assert codes == (-1.0, 1.0)


def test_categorical_encode_of_unknown_level_names_factor() -> None:
    # given
    factor = CategoricalFactor(name="k", levels=["a", "b"])
    # when / then
    with pytest.raises(InputError, match="factor 'k': 'c' is not one of"):
        factor.encode("c")


# --- applying points to configs --------------------------------------------


def test_set_dotted_returns_a_new_config_and_leaves_the_input_alone() -> None:
    # given
    base: dict[str, Any] = {"model": {"name": "logreg", "params": {"C": 1.0}}, "seed": 0}
    # when
    new = set_dotted(base, "model.params.C", 0.1)
    # then
    assert new == {"model": {"name": "logreg", "params": {"C": 0.1}}, "seed": 0}
    assert base == {"model": {"name": "logreg", "params": {"C": 1.0}}, "seed": 0}


def test_set_dotted_creates_missing_intermediate_mappings() -> None:
    # given
    base = {"model": {"name": "rf"}}
    # when
    new = set_dotted(base, "model.params.max_depth", 4)
    # then
    assert new == {"model": {"name": "rf", "params": {"max_depth": 4}}}


def test_set_dotted_refuses_to_descend_into_a_non_mapping() -> None:
    # given
    base = {"model": {"params": [1, 2]}}
    # when / then
    with pytest.raises(InputError, match=r"'model.params' holds a list, not a mapping"):
        set_dotted(base, "model.params.C", 1.0)


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
def test_set_dotted_rejects_empty_segments(path: str) -> None:
    # given / when / then
    with pytest.raises(InputError, match="empty"):
        set_dotted({}, path, 1)


def test_apply_point_sets_every_factor() -> None:
    # given
    base = {"model": {"params": {"C": 1.0}}, "features": {"scale": True}}
    point = {"model.params.C": 0.5, "model.params.solver": "saga", "features.scale": False}
    # when
    new = apply_point(base, point)
    # then
    assert new == {
        "model": {"params": {"C": 0.5, "solver": "saga"}},
        "features": {"scale": False},
    }
    assert base == {"model": {"params": {"C": 1.0}}, "features": {"scale": True}}
