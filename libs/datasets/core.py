"""Load bundled datasets, infer the task, split rows. Pure: frames in, frames out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

from libs.datasets.spec import BUNDLED, DataSpec, SplitSpec, TaskType
from libs.errors import InputError

_LOADERS = {
    "iris": skd.load_iris,
    "wine": skd.load_wine,
    "breast_cancer": skd.load_breast_cancer,
    "diabetes": skd.load_diabetes,
    "digits": skd.load_digits,
}
_BUNDLED_TASK: dict[str, TaskType] = {"diabetes": "regression"}


def load_bundled(name: str) -> pd.DataFrame:
    """A scikit-learn bundled dataset as one frame with a 'target' column (no download)."""
    if name not in _LOADERS:
        raise InputError(f"data.source: unknown dataset '{name}' (bundled: {', '.join(BUNDLED)})")
    frame = _LOADERS[name](as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def class_names(source: str) -> dict[int, str] | None:
    """The class names of a bundled classification dataset by label (e.g. 0 -> 'malignant').

    None for any other source, whose labels are their own names.
    """
    if source not in _LOADERS or _BUNDLED_TASK.get(source) == "regression":
        return None
    names = _LOADERS[source]().target_names
    return {i: str(name) for i, name in enumerate(names)}


def subsample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded subsample, so quick runs stay reproducible."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


def infer_task(spec: DataSpec, y: pd.Series) -> TaskType:
    """Classification for labels (non-float or few integral values), else regression."""
    if spec.task != "auto":
        return spec.task
    if spec.is_bundled:
        return _BUNDLED_TASK.get(spec.source, "classification")
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    values = y.dropna().to_numpy()
    integral = np.all(np.mod(values, 1) == 0)
    return "classification" if integral and len(np.unique(values)) <= 20 else "regression"


def check_target(y: pd.Series, task: TaskType, source: str) -> None:
    """Fail early on a target no model can learn from."""
    column = y.name
    if y.isna().any():
        raise InputError(
            f"{source}: target column '{column}' has {int(y.isna().sum())} missing values"
        )
    if task == "classification" and y.nunique() < 2:
        raise InputError(f"{source}: target column '{column}' has a single class")
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise InputError(f"{source}: target column '{column}' is not numeric (task is regression)")


@dataclass(frozen=True)
class Split:
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    stratified: bool


def split_frame(frame: pd.DataFrame, target: str, task: TaskType, spec: SplitSpec) -> Split:
    """Seeded hold-out split; stratified when asked and every class has two rows."""
    if target not in frame.columns:
        raise InputError(f"data.target: column '{target}' not found in data")
    x = frame.drop(columns=[target])
    y = frame[target]
    stratify = None
    if task == "classification" and spec.stratify and y.value_counts().min() >= 2:
        stratify = y
    n_test = int(np.ceil(spec.test_size * len(frame)))
    if n_test < 1 or len(frame) - n_test < 2:
        raise InputError(
            f"split.test_size: {spec.test_size} leaves too few rows to train and test "
            f"({len(frame)} rows)"
        )
    if stratify is not None and n_test < y.nunique():
        stratify = None  # too few test rows to hold every class
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=spec.test_size, random_state=spec.seed, stratify=stratify
    )
    return Split(x_train, x_test, y_train, y_test, stratified=stratify is not None)


def split_digest(snapshot_digest: str, split: Split) -> Callable[[str], str]:
    """Digests of a split's parts ("training", "testing"): the snapshot's digest and
    the rows' index, so a part is named without hashing its rows again."""

    def part(context: str) -> str:
        index = split.x_train.index if context == "training" else split.x_test.index
        h = hashlib.sha256(f"{snapshot_digest}:{context}".encode())
        h.update(pd.util.hash_pandas_object(index, index=False).to_numpy().tobytes())
        return h.hexdigest()[:32]  # MLflow keeps dataset digests up to 36 characters

    return part


__all__ = [
    "Split",
    "check_target",
    "class_names",
    "infer_task",
    "load_bundled",
    "split_digest",
    "split_frame",
    "subsample",
]
