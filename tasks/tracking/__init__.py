"""The one owner of the MLflow lifecycle: runs, tags, inputs, models, registry.

Every MLflow call of the platform lives in this package; flows and tasks use
the names below and nothing else imports mlflow. Behind this face, one
private module per job: `_client` (the client, store and HTTP settings),
`_links` (the link and process tags), `_runs` (start, resume, tags, end),
`_reconcile` (what dead processes left), `_inputs` (datasets), `_models`
(logged models), `_registry` (keyed versions, the champion, the gate's tags),
`_lineage` (the config and environment a run records, a version read back whole)
and `_queries` (read-only searches).
"""

from __future__ import annotations

from tasks.tracking import _serving as serving  # online serving of the champion (issue 37)
from tasks.tracking._client import (
    RunHandle,
    client_for,
    prepare_store,
    run_handle,
    use_artifact_credentials,
)
from tasks.tracking._inputs import DatasetRef, log_dataset, log_datasets, log_input_source
from tasks.tracking._lineage import (
    champion_history,
    lineage_tags,
    log_run_record,
    point_run_name,
    read_artifact,
    recorded_config,
    version_lineage,
)
from tasks.tracking._links import (
    OWNER_PID_ENV,
    git_commit,
    git_dirty,
    link_tags,
    process_tags,
    source_tags,
)
from tasks.tracking._models import (
    keras_requirements,
    link_model_metrics,
    log_keras_model,
    log_sklearn_model,
    pinned_requirements,
)
from tasks.tracking._queries import (
    ChildRun,
    TrainingData,
    find_child_run,
    get_child_run,
    load_pyfunc_model,
    model_input_columns,
    sweep_point_runs,
    training_data,
)
from tasks.tracking._reconcile import (
    clean_up_dead_processes,
    reconcile_abandoned_runs,
    settle_abandoned_versions,
)
from tasks.tracking._registry import (
    CHAMPION,
    GATE_ABANDONED,
    GATE_DONE,
    GATE_PENDING,
    Champion,
    ModelVersionRef,
    abandon_pending_versions,
    champion,
    describe_version,
    existing_version,
    register_version,
    registry_lock,
    resolve_model_version,
    set_champion,
    tag_version,
    version_tags,
)
from tasks.tracking._runs import (
    end_run,
    failing_on_error,
    log_epoch_metrics,
    log_metrics,
    log_table,
    log_text,
    run_status,
    set_tags,
    set_tags_by_id,
    start_run,
    start_sweep_run,
)

__all__ = [
    "CHAMPION",
    "GATE_ABANDONED",
    "GATE_DONE",
    "GATE_PENDING",
    "OWNER_PID_ENV",
    "Champion",
    "ChildRun",
    "DatasetRef",
    "ModelVersionRef",
    "RunHandle",
    "TrainingData",
    "abandon_pending_versions",
    "champion",
    "champion_history",
    "clean_up_dead_processes",
    "client_for",
    "describe_version",
    "end_run",
    "existing_version",
    "failing_on_error",
    "find_child_run",
    "get_child_run",
    "git_commit",
    "git_dirty",
    "keras_requirements",
    "lineage_tags",
    "link_model_metrics",
    "link_tags",
    "load_pyfunc_model",
    "log_dataset",
    "log_datasets",
    "log_epoch_metrics",
    "log_input_source",
    "log_keras_model",
    "log_metrics",
    "log_run_record",
    "log_sklearn_model",
    "log_table",
    "log_text",
    "model_input_columns",
    "pinned_requirements",
    "point_run_name",
    "prepare_store",
    "process_tags",
    "read_artifact",
    "reconcile_abandoned_runs",
    "recorded_config",
    "register_version",
    "registry_lock",
    "resolve_model_version",
    "run_handle",
    "run_status",
    "serving",
    "set_champion",
    "set_tags",
    "set_tags_by_id",
    "settle_abandoned_versions",
    "source_tags",
    "start_run",
    "start_sweep_run",
    "sweep_point_runs",
    "tag_version",
    "training_data",
    "use_artifact_credentials",
    "version_lineage",
    "version_tags",
]
