"""`DriftSpec`: how input drift is measured and when a feature is flagged."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DriftSpec(BaseModel):
    """Binning, sample bounds and thresholds of the input-drift check.

    PSI (population stability index) is the flagging statistic for every
    feature; by a common rule of thumb, below 0.1 is stable, 0.1-0.25 a moderate
    shift and above 0.25 a major one. The two-sample KS statistic is reported for
    numeric features and flags too when `ks_threshold` is set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    psi_threshold: float = Field(0.2, gt=0.0, description="Flag a feature whose PSI exceeds this.")
    ks_threshold: float | None = Field(
        None, gt=0.0, le=1.0, description="Also flag a numeric feature whose KS exceeds this."
    )
    bins: int = Field(10, ge=2, le=100, description="Quantile bins of a numeric feature.")
    max_categories: int = Field(
        20, ge=1, le=1000, description="Most frequent categories kept; the rest are '(other)'."
    )
    min_category_share: float = Field(
        0.01, ge=0.0, lt=1.0, description="A category rarer than this in training is '(other)'."
    )
    sample_rows: int = Field(
        10_000, ge=10, description="Rows per numeric feature kept (reservoir) for the KS test."
    )
    seed: int = Field(0, ge=0, description="Seeds the reservoir samples.")


__all__ = ["DriftSpec"]
