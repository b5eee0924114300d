"""Batch scoring helpers: signature checks on input, predictions stamped with their model,
and what a batch produced (its result, metrics, drift report and summary)."""

from libs.scoring.batch import (
    BatchSummary,
    ScoreResult,
    batch_metrics,
    drift_report_html,
    summary_markdown,
)
from libs.scoring.output import MODEL_COLUMNS, PREDICTION, predictions_frame, stamp_predictions
from libs.scoring.signature import (
    ColumnSpec,
    SignatureError,
    conform_to_signature,
    csv_dtypes,
)

__all__ = [
    "MODEL_COLUMNS",
    "PREDICTION",
    "BatchSummary",
    "ColumnSpec",
    "ScoreResult",
    "SignatureError",
    "batch_metrics",
    "conform_to_signature",
    "csv_dtypes",
    "drift_report_html",
    "predictions_frame",
    "stamp_predictions",
    "summary_markdown",
]
