"""Lineage of a model version, pure: the records a run keeps and how they read back.

What a run records about itself (its typed config as YAML and JSON, the
training environment) is built here from plain values; so is what
`python -m flows.lineage` prints (one version, a comparison of two, the
metric differences of a reproduction). Reading and writing MLflow is the
tracking package's job.
"""

from libs.lineage.record import (
    CONFIG_JSON,
    CONFIG_YAML,
    ENVIRONMENT_FILE,
    KEY_PACKAGES,
    config_documents,
    decision_line,
    environment_record,
    flatten,
    parse_model_ref,
    point_name,
)
from libs.lineage.render import (
    compare_rows,
    metric_diff_rows,
    render_compare,
    render_show,
    table,
)

__all__ = [
    "CONFIG_JSON",
    "CONFIG_YAML",
    "ENVIRONMENT_FILE",
    "KEY_PACKAGES",
    "compare_rows",
    "config_documents",
    "decision_line",
    "environment_record",
    "flatten",
    "metric_diff_rows",
    "parse_model_ref",
    "point_name",
    "render_compare",
    "render_show",
    "table",
]
