"""Design evaluation before any training: power, correlations, VIF, efficiencies, FDS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from libs.doe import (
    CentralComposite,
    FactorSpace,
    FractionalFactorial,
    FullFactorial,
    PlackettBurman,
    generate_design,
)
from libs.doe.evaluate import comparison_table, evaluate_design, supported_model
from libs.errors import InputError
from tests.cli_support import run_cli


def numeric(k: int) -> FactorSpace:
    return FactorSpace.model_validate(
        {
            "factors": [
                {"name": f"x{i}", "type": "continuous", "low": 0, "high": 1} for i in range(k)
            ]
        }
    )


def test_power_of_a_2_to_the_4_factorial_matches_the_noncentral_t() -> None:
    """JMP's Evaluate Design power (DOE Guide, "Power Analysis"; Montgomery, Design and
    Analysis of Experiments, power of the t test of a coefficient): a coefficient beta in
    noise-SD units is tested with t on n - p df and noncentrality beta / sqrt([(X'X)^-1]_jj).
    For the 16-run 2^4 and the main-effects model: p = 5, 11 error df, (X'X)^-1_jj = 1/16, so
    the noncentrality is 4 beta and t_crit = t(0.975, 11) = 2.2010. By hand:
    beta = 0.5: P(|T'(11, 2)| > 2.201) = 0.4465; beta = 1: P(|T'(11, 4)| > 2.201) = 0.9527."""
    # given
    design = generate_design(numeric(4), FullFactorial())
    # when
    e = evaluate_design(design.coded, numeric(4), "linear", effect_sizes=(0.5, 1.0))
    # then
    crit = stats.t.ppf(0.975, 11)
    for beta, textbook in ((0.5, 0.4465), (1.0, 0.9527)):
        by_hand = stats.nct.sf(crit, 11, 4 * beta) + stats.nct.cdf(-crit, 11, 4 * beta)
        assert by_hand == pytest.approx(textbook, abs=5e-5)
        assert e.power[beta].to_numpy() == pytest.approx([by_hand] * 4, abs=1e-6)
    assert e.error_df == 11 and e.terms == ("x0", "x1", "x2", "x3")


def test_an_orthogonal_factorial_is_100_percent_efficient_with_unit_vif() -> None:
    # given: the 2^3 full factorial and the interaction model (Montgomery 6.7: optimal)
    design = generate_design(numeric(3), FullFactorial())
    # when
    e = evaluate_design(design.coded, numeric(3), "interactions")
    # then
    assert e.vif.to_numpy() == pytest.approx(np.ones(6))
    assert (e.d_efficiency, e.a_efficiency, e.g_efficiency) == pytest.approx((100, 100, 100))
    # relative prediction variance averaged over the cube: (1 + 3/3 + 3/9) / 8 for this model
    assert e.average_variance == pytest.approx((1 + 1 + 1 / 3) / 8, rel=0.03)
    # largest at a corner of the cube: (1 + 3 + 3) / 8 = p / n, hence G-efficiency 100%
    assert e.fds.is_monotonic_increasing and 0.7 < e.fds[1.0] <= 7 / 8
    # the 7th parameter (the 3FI) is left out, so one error df remains
    assert e.error_df == 1


def test_a_resolution_iii_fraction_shows_main_effects_aliased_with_interactions() -> None:
    # given: the 2^(3-1) with C = AB
    space = numeric(3)
    design = generate_design(space, FractionalFactorial(generator="a b ab"))
    # when
    e = evaluate_design(design.coded, space, "linear")
    # then: |r| of x2 with x0*x1 is 1, and with x0*x2 0
    assert e.correlations.loc["x2", "x0*x1"] == pytest.approx(1.0)
    assert e.correlations.loc["x2", "x0*x2"] == pytest.approx(0.0)
    assert e.worst_correlations(1)[0][2] == pytest.approx(1.0)
    # and the interaction model is not estimable from it
    wider = evaluate_design(design.coded, space, "interactions")
    assert not wider.estimable and "estimates only" in wider.notes[0]


def test_the_model_a_design_supports() -> None:
    space = numeric(3)
    assert supported_model(generate_design(space, PlackettBurman()).coded, space) == "linear"
    assert supported_model(generate_design(space, FullFactorial()).coded, space) == "interactions"
    ccd = generate_design(space, CentralComposite())
    assert supported_model(ccd.coded, space) == "quadratic"


def test_a_three_level_categorical_term_is_tested_on_two_df() -> None:
    # given: a 3 x 2 x 2 full factorial with a three-level categorical factor
    space = FactorSpace.model_validate(
        {
            "factors": [
                {"name": "solver", "type": "categorical", "levels": ["a", "b", "c"]},
                {"name": "x", "type": "continuous", "low": 0, "high": 1},
                {"name": "y", "type": "integer", "low": 1, "high": 5},
            ]
        }
    )
    design = generate_design(space, FullFactorial())
    # when
    e = evaluate_design(design.coded, space, "linear", effect_sizes=(1.0,))
    # then: 1 + 2 + 1 + 1 parameters, 7 error df; the categorical's power from an F(2, 7)
    assert e.parameters == 5 and e.error_df == 7
    assert "solver[1]" in e.vif.index and "solver[2]" in e.vif.index
    assert 0 < e.power.loc["solver", 1.0] < 1
    assert e.power.loc["x", 1.0] == pytest.approx(
        stats.nct.sf(stats.t.ppf(0.975, 7), 7, np.sqrt(12))
        + stats.nct.cdf(-stats.t.ppf(0.975, 7), 7, np.sqrt(12)),
        abs=1e-6,
    )


def test_side_by_side_i_efficiency_is_relative_to_the_best() -> None:
    space = numeric(3)
    full = evaluate_design(generate_design(space, FullFactorial()).coded, space, "linear")
    half = evaluate_design(
        generate_design(space, FractionalFactorial(generator="a b ab")).coded, space, "linear"
    )
    table = comparison_table({"full": full, "half": half})
    assert table.loc["I-efficiency % (vs best here)", "full"] == pytest.approx(100)
    assert table.loc["I-efficiency % (vs best here)", "half"] == pytest.approx(50, rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "cubic"}, "model"),
        ({"effect_sizes": (-1,)}, "effect sizes"),
        ({"alpha": 2}, "alpha"),
    ],
)
def test_bad_arguments_fail_in_one_line(kwargs: dict[str, Any], field: str) -> None:
    design = generate_design(numeric(2), FullFactorial())
    with pytest.raises(InputError, match=field) as info:
        evaluate_design(design.coded, numeric(2), **kwargs)
    assert "\n" not in str(info.value)


def test_evaluate_prints_two_configs_side_by_side_and_starts_nothing(tmp_path: Path) -> None:
    # given
    home = tmp_path / "home"
    configs = ["configs/sweeps/diabetes_gbr_study.yaml", "configs/sweeps/diabetes_gbr_dsd.yaml"]
    # when
    result = run_cli(home, "flows.sweep_evaluate", "--config", configs[0], "--config", configs[1])
    # then
    assert result.returncode == 0, result.stderr
    assert "diabetes_gbr_study" in result.stdout and "diabetes_gbr_dsd" in result.stdout
    assert "definitive_screening" in result.stdout and "Power per term" in result.stdout
    assert not home.exists()  # no MLflow store, no Prefect server, no log


def test_evaluate_bad_config_exits_2_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("factors: []\ndesign: {kind: definitive_screening}\nobjective: {metric: r2}\n")
    result = run_cli(tmp_path / "home", "flows.sweep_evaluate", "--config", str(bad))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


# The command of docs/content/how-to/choose-a-design.md: python -m flows.sweep_evaluate ...
COMPARE = [
    "--config",
    "configs/sweeps/diabetes_gbr_study.yaml",
    "--design",
    "{kind: definitive_screening}",
    "--design",
    "{kind: plackett_burman}",
    "--design",
    "{kind: optimal, runs: 10}",
    "--model",
    "linear",
]


def test_evaluate_compares_four_designs_for_the_same_five_factors(tmp_path: Path) -> None:
    # when
    result = run_cli(tmp_path / "home", "flows.sweep_evaluate", *COMPARE)
    # then: a column per design; the DSD's main effects are free of every 2FI and
    # quadratic, the two 8-run resolution III designs alias them fully
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[2].split()
    assert header == ["diabetes_gbr_study", "definitive_screening", "plackett_burman", "optimal"]
    assert "definitive_screening: none: all orthogonal" in result.stdout
    assert "plackett_burman: learning_rate ~" in result.stdout
    runs = next(line for line in result.stdout.splitlines() if line.startswith("runs"))
    assert runs.split()[1:] == ["8", "13", "8", "10"]
    # and: the optimal design's notes say what its spare runs buy (issue 34: pure error)
    assert "  optimal: pure error: 1 df from replicated runs, lack of fit 3 df" in result.stdout


def test_evaluate_with_a_bad_design_exits_2_in_one_line(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "home",
        "flows.sweep_evaluate",
        "--config",
        "configs/sweeps/diabetes_gbr_study.yaml",
        "--design",
        "{kind: optimal, runs: 3}",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "design.runs" in result.stderr


def test_evaluate_one_config_at_given_effect_sizes(tmp_path: Path) -> None:
    # the second command of docs/content/how-to/choose-a-design.md
    args = ["--config", "configs/sweeps/diabetes_gbr_dsd.yaml", "--effect-size", "0.5", "1"]
    result = run_cli(tmp_path / "home", "flows.sweep_evaluate", *args)
    assert result.returncode == 0, result.stderr
    assert "d=0.5" in result.stdout and "d=1" in result.stdout and "d=2" not in result.stdout
    assert "definitive_screening" in result.stdout
