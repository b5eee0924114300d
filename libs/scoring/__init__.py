"""Batch scoring helpers: signature checks on input, predictions stamped with their model."""

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
    "ColumnSpec",
    "SignatureError",
    "conform_to_signature",
    "csv_dtypes",
    "predictions_frame",
    "stamp_predictions",
]
