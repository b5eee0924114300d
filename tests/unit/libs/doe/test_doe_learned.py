"""'What we learned' (issue 33): plain sentences written from analysis results of different
structures (synthetic responses with known effects), not from one example's words."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from libs.doe import analyse
from libs.doe.learned import learned
from libs.doe.space import FactorSpace

SPACE = FactorSpace(
    factors=[
        {"name": "model.params.learning_rate", "type": "continuous", "low": 0.02, "high": 0.2},
        {"name": "model.params.n_estimators", "type": "integer", "low": 50, "high": 300},
        {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 6},
    ]
)
LR, N, DEPTH = SPACE.names
NOISE = np.array([0.004, -0.003, 0.001, -0.005, 0.002, 0.003, -0.001, -0.002])
NOISE16 = np.concatenate([NOISE, np.roll(NOISE, 3)])  # replicates differ: pure error


def full(replicates: int = 2) -> pd.DataFrame:
    runs = np.array(list(itertools.product([-1, 1], repeat=3)), dtype=float)
    return pd.DataFrame(np.vstack([runs] * replicates), columns=SPACE.names)


def test_main_effects_and_interaction_in_words() -> None:
    # given: learning rate +0.1 over its range, trees +0.06, and trees help only at a low rate
    x = full()
    y = 0.4 + 0.05 * x[LR] + 0.03 * x[N] - 0.03 * x[LR] * x[N] + NOISE16
    # when
    text = learned(analyse(x, y, SPACE), "r2", SPACE)
    # then: direction, size in r2 with its interval, how sure, the quiet factor
    joined = " ".join(text)
    assert text[0].startswith("Raising learning_rate from 0.02 to 0.2 raises r2 by 0.0995")
    assert "95% interval" in text[0] and "clear (p<0.001)" in text[0]
    assert "Raising n_estimators from 50 to 300 raises r2 by 0.05" in joined
    assert "No clear difference from max_depth within these ranges" in joined
    # and: what the interaction means, at each level of the other factor
    inter = next(s for s in text if s.startswith("Interaction: learning_rate and n_estimators"))
    assert "raising n_estimators changes r2 by +0.119 when learning_rate is low (0.02)" in inter
    assert "model.params" not in joined


def test_nothing_beyond_noise_says_so() -> None:
    # given
    x = full()
    y = 0.4 + NOISE16
    # when
    text = learned(analyse(x, y, SPACE), "r2", SPACE)
    # then
    assert any("No setting changed r2 clearly beyond the noise" in s for s in text)
    assert not any("raises" in s or "lowers" in s for s in text)


def test_fraction_says_what_it_could_not_separate() -> None:
    # given: a replicated half fraction (max_depth = learning_rate x n_estimators) where the
    # response follows the interaction alone
    x = full().iloc[[0, 3, 5, 6, 8, 11, 13, 14]].reset_index(drop=True)
    y = 0.4 + 0.04 * x[LR] * x[N] + NOISE16[:8]
    # when
    text = learned(analyse(x, y, SPACE), "r2", SPACE)
    # then: the fraction credits max_depth, and says it may be the interaction
    joined = " ".join(text)
    assert "max_depth from 2 to 6 lowers r2 by 0.0797 (95% interval 0.0747 to 0.0848)" in joined
    assert "max_depth could not be told apart from learning_rate x n_estimators" in joined


def test_a_later_stage_says_how_it_changed_the_conclusions() -> None:
    # given: the fraction above, then the full factorial (its fold-over) on the same response
    fraction = full().iloc[[0, 3, 5, 6, 8, 11, 13, 14]].reset_index(drop=True)
    before = analyse(fraction, 0.4 + 0.04 * fraction[LR] * fraction[N] + NOISE16[:8], SPACE)
    x = full()
    now = analyse(x, 0.4 + 0.04 * x[LR] * x[N] + NOISE16, SPACE)
    # when
    text = learned(now, "r2", SPACE, previous=before)
    # then: the credit moves from max_depth to the interaction, and the sentence says why
    moved = next(s for s in text if s.startswith("The previous stage credited"))
    assert "max_depth" in moved and "learning_rate x n_estimators" in moved
    assert "could not tell apart" in moved


def test_surface_says_where_the_peak_is() -> None:
    # given: a 3^2 grid with a peak inside the region (a quadratic in two factors)
    space = FactorSpace(factors=SPACE.factors[:2])
    grid = np.array(list(itertools.product([-1, 0, 1], repeat=2)), dtype=float)
    x = pd.DataFrame(np.vstack([grid, grid]), columns=space.names)
    y = 0.5 - 0.05 * (x[LR] - 0.2) ** 2 - 0.05 * x[N] ** 2 + np.resize(NOISE, 18) / 4
    # when
    text = learned(analyse(x, y, space), "r2", space)
    # then
    peak = next(s for s in text if "peaks inside the region" in s)
    assert "learning_rate=" in peak and "n_estimators=" in peak and "model.params" not in peak


def test_a_later_stage_says_what_an_earlier_estimate_held() -> None:
    # given: in the half fraction (I = -ABC) learning_rate's estimate is its effect minus
    # that of n_estimators x max_depth; the full factorial separates them
    half = full().iloc[[0, 3, 5, 6, 8, 11, 13, 14]].reset_index(drop=True)
    x = full()

    def y(f: pd.DataFrame, noise: np.ndarray) -> pd.Series:
        return 0.4 + 0.04 * f[LR] - 0.03 * f[N] * f[DEPTH] + noise

    before = analyse(half, y(half, NOISE16[:8]), SPACE)
    now = analyse(x, y(x, NOISE16), SPACE)
    # when
    text = learned(now, "r2", SPACE, previous=before)
    # then: 0.137 then was about 0.08 of learning_rate and -0.06 of the interaction
    split = next(s for s in text if s.startswith("The previous stage's 0.137"))
    assert "for learning_rate included n_estimators x max_depth" in split
    assert "separated, learning_rate is 0.0795 and n_estimators x max_depth -0.0585" in split


def test_nothing_significant_names_the_largest_effect_and_the_margin() -> None:
    # given: an unreplicated 2^3 whose effects are all of a size (Lenth finds none active)
    x = full(replicates=1)
    y = 0.4 + 0.01 * x[LR] + 0.012 * x[N] - 0.011 * x[DEPTH] + NOISE * 3
    # when
    text = learned(analyse(x, y, SPACE), "r2", SPACE)
    # then
    none = next(s for s in text if s.startswith("No setting changed r2"))
    assert "The largest, " in none and "is within the noise margin (" in none


def test_a_later_stage_after_a_stage_that_found_nothing() -> None:
    # given: a first stage of pure noise, then one with a clear effect
    x = full()
    before = analyse(x, 0.4 + NOISE16, SPACE)
    now = analyse(x, 0.4 + 0.05 * x[LR] + NOISE16, SPACE)
    # when
    text = learned(now, "r2", SPACE, previous=before)
    # then
    assert (
        "The previous stage's runs showed nothing beyond the noise; with this stage's runs "
        "learning_rate stands out."
    ) in text


def test_a_noise_free_response_states_its_exact_effects() -> None:
    # given: a 2^3 with two identical centre runs and a response that one factor moves
    # exactly (a deterministic model on a fixed split: replicates score the same)
    x = pd.concat([full(1), pd.DataFrame(np.zeros((2, 3)), columns=SPACE.names)])
    y = 0.95 + 0.00625 * x[LR]
    result = analyse(x.reset_index(drop=True), y.reset_index(drop=True), SPACE)
    assert result.anova is not None and result.anova.exact_fit
    # when
    text = learned(result, "accuracy", SPACE)
    joined = " ".join(text)
    # then: the effect is stated as exact, not as "within the noise" of a zero-width margin
    assert text[0].startswith("Raising learning_rate from 0.02 to 0.2 raises accuracy by 0.0125")
    assert "exact (these runs show no noise to test it against)" in text[0]
    assert "No setting changed" not in joined and "noise margin" not in joined
    assert "No clear difference from n_estimators and max_depth" in joined
