"""Response surfaces and multi-level factors against textbook examples and constructed data.

Montgomery, Design and Analysis of Experiments (8th ed.), Example 11.2; the
other cases use responses constructed with a known answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from doe_textbook import CCD_11_2, SPACE_11_2

from libs.doe import (
    BoxBehnken,
    CategoricalFactor,
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    analyse,
    generate_design,
)


def test_central_composite_montgomery_11_2() -> None:
    """Montgomery Ex. 11.2: y = 79.94 + 0.995 x1 + 0.515 x2 - 1.376 x1^2 - 1.001 x2^2
    + 0.25 x1 x2; stationary point x1 = 0.389, x2 = 0.306 (86.9 min, 176.5 F), a
    maximum; lack of fit not significant.
    """
    # given
    data = pd.DataFrame(CCD_11_2, columns=["time", "temp", "y"])
    # when
    result = analyse(data[["time", "temp"]], data["y"], SPACE_11_2)
    # then: the second-order coefficients
    assert result.anova is not None
    coef = result.anova.coefficients["coef"]
    expected = {"Intercept": 79.94, "A": 0.995, "B": 0.515, "A^2": -1.376, "B^2": -1.001}
    assert {k: coef[k] for k in expected} == pytest.approx(expected, abs=0.002)
    assert coef["AB"] == pytest.approx(0.25)
    # and: the ANOVA with its pure error (5 centre points) and lack of fit
    table = result.anova.table
    assert table.loc["Pure error", "df"] == 4 and table.loc["Lack of fit", "df"] == 3
    assert table.loc["Pure error", "sum_sq"] == pytest.approx(0.212, abs=1e-3)
    assert table.loc["Residual", "sum_sq"] == pytest.approx(0.50, abs=0.01)
    assert result.anova.lack_of_fit_p is not None and result.anova.lack_of_fit_p > 0.05
    groups = result.anova.groups
    assert groups is not None and {"Linear", "Quadratic", "Interaction"} <= set(groups.index)
    assert not {"Linear", "Quadratic", "Interaction"} & set(table.index)
    assert any("lack of fit not significant" in n for n in result.notes)
    # and: the canonical analysis
    c = result.canonical
    assert c is not None and c.nature == "maximum" and c.is_optimum
    assert c.stationary is not None
    assert c.stationary == pytest.approx([0.389, 0.306], abs=0.002)
    assert np.all(c.eigenvalues < 0)
    natural = result.natural["stationary"]
    assert natural is not None
    assert natural["time"] == pytest.approx(86.95, abs=0.02)
    assert natural["temp"] == pytest.approx(176.53, abs=0.02)
    assert c.best_response == pytest.approx(80.21, abs=0.01)
    # and: its metrics are valid tracker keys ('^' is not allowed in MLflow names)
    metrics = result.metrics()
    assert "anova.p.time_squared" in metrics and not any("^" in k for k in metrics)


def test_saddle_is_never_called_an_optimum() -> None:
    """Constructed y = x1^2 - x2^2 + 0.3 x1 on a face-centred CCD: a saddle at
    x1 = -0.15; the best point inside the region lies on the boundary (x1 = 1).
    """
    # given
    space = FactorSpace(factors=[ContinuousFactor(name=n, low=0.0, high=1.0) for n in ("a", "b")])
    design = generate_design(space, CentralComposite(face="faced"))
    x = design.coded
    rng = np.random.default_rng(0)
    y = x["a"] ** 2 - x["b"] ** 2 + 0.3 * x["a"] + rng.normal(0, 0.01, len(x))
    # when
    result = analyse(x, y, space)
    # then
    c = result.canonical
    assert c is not None and c.nature == "saddle" and not c.is_optimum
    assert c.stationary is not None and c.stationary[0] == pytest.approx(-0.15, abs=0.02)
    assert c.best_on_boundary and c.best[0] == pytest.approx(1.0)
    note = next(n for n in result.notes if n.startswith("saddle point"))
    assert "no interior optimum" in note and "on the boundary" in note
    assert not any("optimum at" in n for n in result.notes)


def test_stationary_point_outside_the_region_reports_the_best_inside() -> None:
    """Constructed maximum at coded (2, 0), outside a Box-Behnken's region."""
    # given
    space = FactorSpace(
        factors=[ContinuousFactor(name=n, low=0.0, high=1.0) for n in ("a", "b", "c")]
    )
    design = generate_design(space, BoxBehnken())
    x = design.coded
    y = 10 - (x["a"] - 2) ** 2 - x["b"] ** 2 - x["c"] ** 2
    y = y + np.random.default_rng(1).normal(0, 0.01, len(x))
    # when
    result = analyse(x, y, space)
    # then
    c = result.canonical
    assert c is not None and c.nature == "maximum" and not c.stationary_inside
    assert not c.is_optimum and c.best_on_boundary
    assert c.best[0] == pytest.approx(1.0, abs=1e-3)
    assert any("lies outside the experimental region" in n for n in result.notes)


def test_ridge_is_named() -> None:
    """Constructed y = -(x1 - x2)^2: a stationary ridge along x1 = x2 (eigenvalue 0)."""
    # given
    rows = [(i, j) for i in (-1.0, 0.0, 1.0) for j in (-1.0, 0.0, 1.0)] * 2
    x = pd.DataFrame(rows, columns=["a", "b"])
    y = -((x["a"] - x["b"]) ** 2) + np.random.default_rng(3).normal(0, 0.01, len(x))
    # when
    result = analyse(x, y)
    # then
    assert result.canonical is not None and result.canonical.nature == "ridge"
    assert result.canonical.ridge == "stationary"
    assert any(n.startswith("stationary ridge") for n in result.notes)


def test_three_level_categorical_factor_middle_level_detected() -> None:
    """Constructed: a 3-level categorical factor whose middle level is +10.

    Coded -1, 0, +1, a single linear column sees no effect (the old analysis:
    effect 0, p = 1). Dummy-coded with 2 df, it is found.
    """
    # given: 3 levels x 2 replicates of a 2-level numeric factor, two replicates
    space = FactorSpace(
        factors=[
            CategoricalFactor(name="solver", levels=["lbfgs", "adam", "sgd"]),
            ContinuousFactor(name="lr", low=0.01, high=0.1),
        ]
    )
    rows = [(c, n) for c in (-1.0, 0.0, 1.0) for n in (-1.0, 1.0) for _ in range(2)]
    x = pd.DataFrame(rows, columns=["solver", "lr"])
    y = 50 + 10 * (x["solver"] == 0) + 2 * x["lr"]
    y = y + np.random.default_rng(0).normal(0, 0.5, len(x))
    # when
    result = analyse(x, y, space)
    # then
    assert result.anova is not None
    table = result.anova.table
    assert table.loc["A", "df"] == 2
    assert table.loc["A", "PR(>F)"] < 1e-4
    assert table.loc["Pure error", "df"] == 6
    assert result.canonical is None


def test_three_level_numeric_factor_gets_its_quadratic_term() -> None:
    """Constructed: a 3^2 factorial, y = 5 + x1 - 3 x1^2 + x2 (curvature in x1 only)."""
    # given
    rows = [(i, j) for i in (-1.0, 0.0, 1.0) for j in (-1.0, 0.0, 1.0)]
    x = pd.DataFrame(rows, columns=["a", "b"])
    y = 5 + x["a"] - 3 * x["a"] ** 2 + x["b"] + np.random.default_rng(5).normal(0, 0.05, 9)
    # when
    result = analyse(x, y)
    # then
    assert result.anova is not None
    table = result.anova.table
    assert table.loc["A^2", "df"] == 1 and table.loc["A^2", "PR(>F)"] < 1e-3
    assert table.loc["B^2", "PR(>F)"] > 0.05
    assert result.anova.coefficients.loc["A^2", "coef"] == pytest.approx(-3.0, abs=0.1)
