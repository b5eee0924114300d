"""The features' cache key follows the source of your own feature steps (issue 32).

Editing a custom transformer's module must fit the features again: the cached
preprocessing would otherwise apply the old code's fit to new training runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from libs.features import FeatureSpec
from tasks.caching import preprocess_cache_key

STEP = """
from sklearn.base import BaseEstimator, TransformerMixin


class Ratio(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.iloc[:, :1] / {divisor}
"""


def _key(spec: FeatureSpec) -> str:
    return preprocess_cache_key(None, {"data_key": "rows-1", "spec": spec})


def test_editing_a_custom_feature_step_changes_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a feature step of your own, in a folder outside the checkout
    module = tmp_path / "own_feats_cachekey.py"
    module.write_text(STEP.format(divisor=2))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = FeatureSpec.model_validate(
        {"custom": [{"class": "own_feats_cachekey.Ratio", "columns": ["a"]}]}
    )
    before = _key(spec)
    # when: the key is asked again for unchanged code, then after an edit of the module
    again = _key(spec)
    module.write_text(STEP.format(divisor=3))
    after = _key(spec)
    # then: unchanged code keeps its key; edited code gets a new one
    assert before == again
    assert after != before
    sys.modules.pop("own_feats_cachekey", None)


def test_a_spec_without_custom_steps_keeps_one_key() -> None:
    # given: the built-in feature spec
    spec = FeatureSpec()
    # then: its key depends on the rows and the spec only
    assert _key(spec) == _key(spec)
    assert _key(spec) != preprocess_cache_key(None, {"data_key": "rows-2", "spec": spec})
