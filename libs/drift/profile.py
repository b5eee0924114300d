"""Input drift against a reference table, accumulated chunk by chunk in bounded memory.

The reference (the training data) fixes each feature's buckets once: quantile
bin edges for a numeric feature, the same on its timestamps for a date feature
(datetime dtype, or text listed as dates), its frequent categories for any
other, and a `(missing)` bucket for all. The current input is then counted into those same
buckets chunk by chunk, and a fixed-size reservoir sample per numeric feature
feeds the KS statistic. Memory is one chunk plus `bins` counts and
`sample_rows` values per feature, whatever the input's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from libs.drift.spec import DriftSpec
from libs.drift.stats import ks_statistic, population_stability_index
from libs.errors import InputError

MISSING = "(missing)"
OTHER = "(other)"
TABLE_COLUMNS = ("feature", "kind", "psi", "ks", "flagged")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


_DAY_SECONDS = 86_400.0


def _date_values(series: pd.Series) -> np.ndarray:
    """A date column as days since 1970-01-01 (floats; NaN where missing or not a date)."""
    from libs.features.transformers import parse_datetimes

    parsed = parse_datetimes(series, strict=False)
    if not pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        parsed = pd.to_datetime(parsed, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    seconds = parsed.astype("datetime64[s]").astype("int64").to_numpy(dtype=float)
    seconds[parsed.isna().to_numpy()] = np.nan
    return seconds / _DAY_SECONDS


def _fmt_date(days: float) -> str:
    return str(pd.Timestamp(days * _DAY_SECONDS, unit="s").date())


@dataclass(frozen=True)
class FeatureReference:
    """One feature's buckets (labels, inner numeric edges or kept categories) and counts."""

    name: str
    kind: Literal["numeric", "date", "categorical"]
    labels: tuple[str, ...]
    counts: np.ndarray
    edges: np.ndarray | None = None
    categories: tuple[str, ...] = ()
    sample: np.ndarray | None = None

    def values(self, series: pd.Series) -> np.ndarray:
        """A numeric or date feature's values as floats (a date as days since 1970)."""
        if self.kind == "date":
            return _date_values(series)
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def bucket_counts(self, series: pd.Series) -> np.ndarray:
        """Counts of `series` in this feature's buckets (the last is `(missing)`)."""
        if self.kind in ("numeric", "date"):
            assert self.edges is not None
            values = self.values(series)
            finite = np.isfinite(values)
            index = np.searchsorted(self.edges, values[finite], side="right")
            counts = np.bincount(index, minlength=len(self.labels) - 1).astype(float)
            return np.append(counts, float((~finite).sum()))
        missing = series.isna()
        text = series[~missing].astype(str)
        found = text.value_counts()
        known = [float(found.get(c, 0)) for c in self.categories]
        other = float(len(text) - sum(known))
        return np.array([*known, other, float(missing.sum())])


@dataclass(frozen=True)
class DriftReference:
    """Every compared feature's reference buckets, built once from the training data."""

    features: tuple[FeatureReference, ...]
    rows: int
    spec: DriftSpec


def _numeric_reference(
    name: str, series: pd.Series, spec: DriftSpec, kind: Literal["numeric", "date"] = "numeric"
) -> FeatureReference:
    fmt = _fmt_date if kind == "date" else _fmt
    values = FeatureReference(name, kind, (), np.zeros(0)).values(series)
    finite = values[np.isfinite(values)]
    if finite.size:
        quantiles = np.linspace(0.0, 1.0, spec.bins + 1)[1:-1]
        edges = np.unique(np.quantile(finite, quantiles))
    else:
        edges = np.array([], dtype=float)
    if edges.size == 0:
        labels = ["all values"]
    else:
        labels = [f"< {fmt(edges[0])}"]
        labels += [f"[{fmt(lo)}, {fmt(hi)})" for lo, hi in itertools.pairwise(edges)]
        labels.append(f">= {fmt(edges[-1])}")
    draft = FeatureReference(
        name=name, kind=kind, labels=(*labels, MISSING), counts=np.zeros(0), edges=edges
    )
    rng = np.random.default_rng(spec.seed)
    sample = _Reservoir(spec.sample_rows, rng)
    sample.add(finite)
    return FeatureReference(
        name=name,
        kind=kind,
        labels=draft.labels,
        counts=draft.bucket_counts(series),
        edges=edges,
        sample=sample.values,
    )


def _categorical_reference(name: str, series: pd.Series, spec: DriftSpec) -> FeatureReference:
    text = series.dropna().astype(str)
    shares = text.value_counts(normalize=True) if len(text) else pd.Series(dtype=float)
    kept = [str(c) for c, s in shares.items() if s >= spec.min_category_share]
    categories = tuple(kept[: spec.max_categories])
    draft = FeatureReference(
        name=name,
        kind="categorical",
        labels=(*categories, OTHER, MISSING),
        counts=np.zeros(0),
        categories=categories,
    )
    return FeatureReference(
        name=name,
        kind="categorical",
        labels=draft.labels,
        counts=draft.bucket_counts(series),
        categories=categories,
    )


def build_reference(
    frame: pd.DataFrame,
    columns: Sequence[str],
    spec: DriftSpec | None = None,
    dates: Sequence[str] = (),
) -> DriftReference:
    """Bucket each of `columns` of the reference frame: numeric by quantiles, dates (datetime
    dtype, or named in `dates`) by quantiles of their timestamps, others by category."""
    spec = spec or DriftSpec()
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"drift reference: columns not found: {', '.join(map(str, missing))}")

    def reference(column: str) -> FeatureReference:
        series = frame[column]
        if column in dates or pd.api.types.is_datetime64_any_dtype(series.dtype):
            return _numeric_reference(str(column), series, spec, kind="date")
        if _is_numeric(series):
            return _numeric_reference(str(column), series, spec)
        return _categorical_reference(str(column), series, spec)

    features = tuple(reference(c) for c in columns)
    return DriftReference(features=features, rows=len(frame), spec=spec)


class _Reservoir:
    """A uniform sample of at most `size` values from a stream (smallest random keys win)."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.keys = np.empty(0)
        self._values = np.empty(0)

    def add(self, values: np.ndarray) -> None:
        keys = np.concatenate([self.keys, self.rng.random(values.size)])
        kept = np.concatenate([self._values, values])
        if kept.size > self.size:
            index = np.argpartition(keys, self.size - 1)[: self.size]
            keys, kept = keys[index], kept[index]
        self.keys, self._values = keys, kept

    @property
    def values(self) -> np.ndarray:
        return self._values.copy()


@dataclass(frozen=True)
class DriftResult:
    """The per-feature table and, per feature, bucket labels with both sides' shares."""

    table: pd.DataFrame
    histograms: dict[str, tuple[list[str], list[float], list[float]]] = field(repr=False)
    rows: int
    spec: DriftSpec

    @property
    def flagged(self) -> list[str]:
        return [str(f) for f in self.table.loc[self.table["flagged"], "feature"]]


class DriftAccumulator:
    """Counts the current input into the reference's buckets, one chunk at a time."""

    def __init__(self, reference: DriftReference) -> None:
        self.reference = reference
        self.rows = 0
        self._counts = {f.name: np.zeros(len(f.labels)) for f in reference.features}
        rng = np.random.default_rng(reference.spec.seed + 1)
        self._samples = {
            f.name: _Reservoir(reference.spec.sample_rows, rng)
            for f in reference.features
            if f.kind != "categorical"
        }

    def update(self, chunk: pd.DataFrame) -> None:
        missing = [f.name for f in self.reference.features if f.name not in chunk.columns]
        if missing:
            raise InputError(f"drift: input has no column {', '.join(missing)}")
        for feature in self.reference.features:
            series = chunk[feature.name]
            self._counts[feature.name] += feature.bucket_counts(series)
            if feature.kind != "categorical":
                values = feature.values(series)
                self._samples[feature.name].add(values[np.isfinite(values)])
        self.rows += len(chunk)

    def result(self) -> DriftResult:
        spec = self.reference.spec
        rows, histograms = [], {}
        for feature in self.reference.features:
            current = self._counts[feature.name]
            psi = population_stability_index(feature.counts, current)
            ks = float("nan")
            if feature.kind != "categorical" and feature.sample is not None:
                ks = ks_statistic(feature.sample, self._samples[feature.name].values)
            flagged = bool(psi > spec.psi_threshold) or bool(
                spec.ks_threshold is not None and ks > spec.ks_threshold
            )
            rows.append((feature.name, feature.kind, psi, ks, flagged))
            histograms[feature.name] = (
                list(feature.labels),
                _shares(feature.counts),
                _shares(current),
            )
        table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
        table["flagged"] = table["flagged"].astype(bool)
        return DriftResult(table=table, histograms=histograms, rows=self.rows, spec=spec)


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] | None = None,
    spec: DriftSpec | None = None,
    dates: Sequence[str] = (),
) -> DriftResult:
    """Drift of `current` against `reference` in one call (both frames in memory)."""
    columns = list(columns) if columns is not None else [str(c) for c in current.columns]
    accumulator = DriftAccumulator(build_reference(reference, columns, spec, dates))
    accumulator.update(current)
    return accumulator.result()


__all__ = [
    "MISSING",
    "OTHER",
    "TABLE_COLUMNS",
    "DriftAccumulator",
    "DriftReference",
    "DriftResult",
    "FeatureReference",
    "build_reference",
    "compare",
]
