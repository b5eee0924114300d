"""Fit the feature pipeline on the training rows only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import task

from libs.datasets import Split
from libs.features import FeatureSpec, build_preprocessor
from tasks.caching import preprocess_cache_key


@dataclass(frozen=True)
class Features:
    """The fitted preprocessor and the model-ready train and test matrices."""

    preprocessor: Any
    train: Any
    test: Any
    names: list[str]


@task(name="preprocess", cache_key_fn=preprocess_cache_key, persist_result=True)
def fit_features(spec: FeatureSpec, split: Split, data_key: str) -> Features:
    """Fit on train only, so nothing about the test rows leaks into the features.

    `data_key` names the rows `split` holds (snapshot digest and split spec): the
    cache keys on it instead of hashing the frames.
    """
    preprocessor = build_preprocessor(spec, split.x_train)
    train = preprocessor.fit_transform(split.x_train, split.y_train)
    test = preprocessor.transform(split.x_test)
    names = [str(n) for n in preprocessor.get_feature_names_out()]
    return Features(preprocessor=preprocessor, train=train, test=test, names=names)


__all__ = ["Features", "fit_features"]
