"""Fit the feature pipeline on the training rows only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.features import FeatureSpec, build_preprocessor


@dataclass(frozen=True)
class Features:
    """The fitted preprocessor and the model-ready train and test matrices."""

    preprocessor: Any
    train: Any
    test: Any
    names: list[str]


@task(name="preprocess", cache_policy=NO_CACHE)
def fit_features(spec: FeatureSpec, split: Split) -> Features:
    """Fit on train only, so nothing about the test rows leaks into the features."""
    preprocessor = build_preprocessor(spec, split.x_train)
    train = preprocessor.fit_transform(split.x_train, split.y_train)
    test = preprocessor.transform(split.x_test)
    names = [str(n) for n in preprocessor.get_feature_names_out()]
    return Features(preprocessor=preprocessor, train=train, test=test, names=names)


__all__ = ["Features", "fit_features"]
