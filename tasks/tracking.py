"""The one owner of the MLflow lifecycle: runs, tags, inputs, models, registry.

Every MLflow call of the platform lives here. Calls take an explicit run id
rather than relying on MLflow's thread-local "active run", so Prefect may run
tasks in any thread. Flows and tasks import this module; nothing else imports
mlflow.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import socket
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from libs.settings import PlatformSettings

with warnings.catch_warnings():
    # SQLAlchemy 2.1 warns from inside MLflow at import; nothing for us to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import RunStatus
    from mlflow.exceptions import MlflowException

CHAMPION = "champion"
# What the logged scikit-learn model needs at load time, pinned to what trained it.
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle")
_LIBS_DIR = Path(__file__).resolve().parent.parent / "libs"


@dataclass(frozen=True)
class RunHandle:
    """Enough to address one MLflow run from any task, thread or process."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    url: str


def client_for(settings: PlatformSettings) -> MlflowClient:
    """A client on the configured store, created and migrated once under a file lock.

    Several processes touching a new store at once race through its migrations
    and fail; the lock makes the first one create it while the others wait.
    """
    uri = settings.resolved_tracking_uri
    mlflow.set_tracking_uri(uri)
    # Bounded retries against a tracking server: a short outage is ridden out,
    # a dead server fails the task within about a minute instead of many.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    if uri.startswith("sqlite:///"):
        settings.home_dir.mkdir(parents=True, exist_ok=True)
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(settings.home_dir / ".mlflow-store.lock"):
            client = MlflowClient(uri)
            client.search_experiments(max_results=1)
        return client
    return MlflowClient(uri)


def prepare_store(settings: PlatformSettings | None = None) -> None:
    """Create and migrate the tracking store now (a first run does it while waiting)."""
    client_for(settings or PlatformSettings())


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str | None) -> str:
    """The experiment's id, creating it with artifacts under `artifact_root`.

    An experiment keeps the artifact location it was created with: switching
    storage later needs a new experiment name.
    """
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    # Never "." or "..": the folder must be one level below the artifact root.
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".") or "_"
    try:
        location = f"{artifact_root.rstrip('/')}/{safe}" if artifact_root else None
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:
        # Another process created it between our lookup and create.
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def use_artifact_credentials(env: dict[str, str]) -> None:
    """Give MLflow's S3 artifact client the storage block's credentials and endpoint.

    MLflow reads them only from the environment. Values the user already set win.
    """
    for key, value in env.items():
        os.environ.setdefault(key, value)


def run_url(settings: PlatformSettings, experiment_id: str, run_id: str) -> str:
    uri = settings.resolved_tracking_uri
    base = uri if uri.startswith(("http://", "https://")) else settings.mlflow_ui_url
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def git_commit(cwd: Path | None = None) -> str | None:
    """The checkout's commit, or None outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or _LIBS_DIR.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def process_tags() -> dict[str, str]:
    """Which host and process drive a run: the clean-up of a killed one looks for them."""
    tags = {"host": socket.gethostname(), "process.pid": str(os.getpid())}
    if os.environ.get("MLOPS_WORKER_NAME"):
        tags["worker"] = os.environ["MLOPS_WORKER_NAME"]
    return tags


def start_run(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str | None,
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
    flow_run_id: str | None,
) -> RunHandle:
    """Start the flow run's MLflow run, or resume it when the same flow run retries.

    Every run kind (training, sweep, batch scoring) starts here, so each one first
    cleans up after dead processes and records its own host and pid. Keyed on the
    Prefect flow-run id: a create that was retried behind our back (two runs for one
    flow run) is reduced to the oldest run, the others deleted.
    """
    client = client_for(settings)
    clean_up_dead_processes(settings)
    experiment_id = ensure_experiment(client, experiment, artifact_root)
    all_tags = {**tags, **process_tags()}
    if flow_run_id:
        all_tags["prefect.flow_run_id"] = flow_run_id
    found = _runs_of_flow_run(client, experiment_id, flow_run_id) if flow_run_id else []
    if found:
        run_id = _keep_oldest_run(client, found)
        client.update_run(run_id, status="RUNNING")
        if "error" in client.get_run(run_id).data.tags:  # the failed attempt this retry replaces
            client.delete_tag(run_id, "error")
        set_tags_by_id(client, run_id, process_tags())  # this attempt's process, not the last one
    else:
        run_id = _create_run(client, experiment_id, run_name, all_tags, flow_run_id)
    _log_params(client, run_id, params)
    return RunHandle(
        run_id=run_id,
        experiment_id=experiment_id,
        tracking_uri=settings.resolved_tracking_uri,
        url=run_url(settings, experiment_id, run_id),
    )


def _runs_of_flow_run(client: MlflowClient, experiment_id: str, flow_run_id: str) -> list[Any]:
    return list(
        client.search_runs(
            [experiment_id],
            filter_string=f"tags.`prefect.flow_run_id` = '{flow_run_id}'",
            max_results=50,
        )
    )


def _keep_oldest_run(client: MlflowClient, runs: list[Any]) -> str:
    """The first run of a flow run; later copies (a retried create) are ended and deleted."""
    ordered = sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))
    for extra in ordered[1:]:
        client.set_terminated(extra.info.run_id, status="KILLED")
        client.delete_run(extra.info.run_id)
    return str(ordered[0].info.run_id)


def _create_run(
    client: MlflowClient,
    experiment_id: str,
    run_name: str,
    tags: dict[str, str],
    flow_run_id: str | None,
) -> str:
    """Create the run once (no HTTP retry of the POST), then read it back by its key.

    A create that the server did but whose answer was lost is found by the read;
    one that did not happen raises its error, and the task's retry starts over.
    """
    import time

    error: Exception | None = None
    run_id = None
    try:
        store = _rest_store(client._tracking_client.store)
        if store is None:
            run_id = client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
        else:
            body = {
                "experiment_id": str(experiment_id),
                "user_id": tags.get("mlflow.user", "unknown"),
                "start_time": int(time.time() * 1000),
                "run_name": run_name,
                "tags": [{"key": k, "value": str(v)} for k, v in tags.items()],
            }
            run_id = _post_once(store, "/api/2.0/mlflow/runs/create", body)["run"]["info"]["run_id"]
    except Exception as exc:  # the answer may be lost while the run exists: read back first
        error = exc
    if not flow_run_id:
        if error is not None or run_id is None:
            raise error or RuntimeError("runs/create returned no run")
        return str(run_id)
    found = _runs_of_flow_run(client, experiment_id, flow_run_id)
    if not found:
        raise error or RuntimeError(f"run of flow run {flow_run_id} not found after creating it")
    return _keep_oldest_run(client, found)


def _rest_store(store: Any) -> Any | None:
    """The store when it talks HTTP to a tracking server (None for a local database)."""
    return store if callable(getattr(store, "get_host_creds", None)) else None


def _post_once(store: Any, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the tracking server without MLflow's HTTP retries, which retry every method.

    A create whose answer is lost (a gateway's 503 after the server did the work)
    must not be sent again blindly: the caller reads back by a key instead.
    """
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    response = http_request(store.get_host_creds(), endpoint, "POST", max_retries=0, json=body)
    result: dict[str, Any] = verify_rest_response(response, endpoint).json()
    return result


def reconcile_abandoned_runs(settings: PlatformSettings) -> list[dict[str, str]]:
    """Mark RUNNING runs of processes that died on this host as KILLED, in every experiment.

    A process killed mid-run (SIGKILL, power loss) cannot end its MLflow run;
    each run records its host and pid, so the next start on the same host
    closes the runs whose process is gone. Returns their run and flow-run ids
    and output folders so the caller can mark the Prefect side and clear temp files.
    """
    client = client_for(settings)
    experiments = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    if not experiments:
        return []
    host = socket.gethostname()
    closed = []
    runs = client.search_runs(
        experiments,
        filter_string=f"attributes.status = 'RUNNING' and tags.host = '{host}'",
        max_results=1000,
    )
    for run in runs:
        pid = run.data.tags.get("process.pid", "")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        reason = f"process {pid} on {host} ended without finishing the run"
        client.set_tag(run.info.run_id, "error", reason)
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(
            {
                "run_id": run.info.run_id,
                "flow_run_id": run.data.tags.get("prefect.flow_run_id", ""),
                "output": run.data.params.get("output", ""),
            }
        )
    return closed


def settle_abandoned_versions(settings: PlatformSettings) -> list[tuple[str, str]]:
    """Versions whose registering process died before the gate finished: marked not passed.

    A kill between creating a version and tagging its gate result would leave a
    version that looks registered but never went through the gate. Its tags now
    say so (`gate.promote` False); a version the alias already points to passed.
    """
    client = client_for(settings)
    host = socket.gethostname()
    settled = []
    pending = client.search_model_versions(
        f"tags.`gate.state` = '{GATE_PENDING}' and tags.`registered_by.host` = '{host}'"
    )
    for mv in pending:
        pid = (mv.tags or {}).get("registered_by.pid", "")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        _settle(client, mv, f"process {pid} on {host} ended before the gate decided")
        settled.append((mv.name, str(mv.version)))
    return settled


def clean_up_dead_processes(settings: PlatformSettings) -> None:
    """Everything a killed process on this host left: runs, flow runs, versions, temp files."""
    from libs.io.storage import remove_dead_temp_files
    from tasks.reconcile import mark_flow_run_crashed

    closed = reconcile_abandoned_runs(settings)
    for run in closed:
        mark_flow_run_crashed(run["flow_run_id"], run["run_id"])
    settle_abandoned_versions(settings)
    remove_dead_temp_files(settings.storage_root, recursive=True)
    for folder in {os.path.dirname(r["output"]) for r in closed if r["output"]}:
        remove_dead_temp_files(folder or ".")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def registry_lock(settings: PlatformSettings, name: str) -> Iterator[None]:
    """Serialise champion decisions for one model on this machine.

    Reading the champion, deciding and moving the alias must not interleave
    between concurrent runs, or a worse model could win the last write.
    """
    folder = settings.home_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with _file_lock(folder / f"registry-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock"):
        yield


def _log_params(client: MlflowClient, run_id: str, params: dict[str, str]) -> None:
    from mlflow.entities import Param

    items = [Param(k, v[:6000]) for k, v in params.items()]
    for start in range(0, len(items), 100):  # MLflow's batch limit is 100 params
        client.log_batch(run_id, params=items[start : start + 100])


def _client(run: RunHandle) -> MlflowClient:
    return MlflowClient(run.tracking_uri)


def set_tags(run: RunHandle, tags: dict[str, str]) -> None:
    set_tags_by_id(_client(run), run.run_id, tags)


def set_tags_by_id(client: MlflowClient, run_id: str, tags: dict[str, str]) -> None:
    from mlflow.entities import RunTag

    client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def log_metrics(run: RunHandle, metrics: dict[str, float], step: int = 0) -> None:
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, step) for k, v in metrics.items() if math.isfinite(v)]
    _client(run).log_batch(run.run_id, metrics=items)


def log_dataset(
    run: RunHandle,
    frame: pd.DataFrame,
    *,
    name: str,
    source: str,
    context: str,
    target: str,
    digest: str | None = None,
) -> None:
    """Record a dataset as a run input: its source URI, digest, schema and role.

    `digest`, when the caller knows one (the snapshot's), spares hashing the rows.
    """
    from mlflow.entities import DatasetInput, InputTag

    with warnings.catch_warnings():
        # MLflow warns that a local path matches its local source type twice; harmless.
        warnings.simplefilter("ignore", UserWarning)
        # ...and hints that integer columns cannot hold NaN; ours are checked at ingest.
        dataset = from_pandas(frame, source=source, name=name, targets=target, digest=digest)
        if len(frame) > _SCHEMA_SAMPLE:
            dataset.__dict__["schema"] = _sampled_schema(frame)  # its cached property
        entity = dataset._to_mlflow_entity()
    _client(run).log_inputs(
        run.run_id,
        datasets=[DatasetInput(entity, tags=[InputTag("mlflow.data.context", context)])],
    )


_SCHEMA_SAMPLE = 1000


def _sampled_schema(frame: pd.DataFrame) -> Any:
    """The column types MLflow infers, from a sample; missing values from all rows.

    MLflow's own inference checks every value of every text column: tens of
    seconds on a million rows, for types that a thousand rows settle.
    """
    from mlflow.models import infer_signature
    from mlflow.types import ColSpec, Schema

    sample = frame.iloc[:: max(1, len(frame) // _SCHEMA_SAMPLE)].head(_SCHEMA_SAMPLE)
    inferred = infer_signature(sample).inputs
    missing = frame.isna().any()
    return Schema(
        [
            ColSpec(type=col.type, name=col.name, required=not bool(missing[col.name]))
            for col in inferred.inputs
        ]
    )


def log_text(run: RunHandle, text: str, artifact_file: str) -> None:
    _client(run).log_text(run.run_id, text, artifact_file)


def pinned_requirements(names: tuple[str, ...] = MODEL_REQUIREMENTS) -> list[str]:
    """`name==version` for each installed package; inference would cost seconds."""
    return [f"{name}=={metadata.version(name)}" for name in names]


def log_sklearn_model(
    run: RunHandle, model: Any, input_example: pd.DataFrame, predictions: Any
) -> str:
    """Log a raw-input scikit-learn pipeline with signature and pinned requirements."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(run.tracking_uri)
    with warnings.catch_warnings(), _quiet_logger("mlflow.sklearn"):
        # Known, accepted: integer columns hint, and cloudpickle's safety notice
        # (the model is our own pipeline, loaded by our own flows).
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(input_example, predictions)
        # Create the LoggedModel in the run's experiment ourselves: without an active
        # run, MLflow would file it under the default experiment in the working dir.
        logged = _client(run).create_logged_model(
            experiment_id=run.experiment_id, name="model", source_run_id=run.run_id
        )
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            run_id=run.run_id,
            model_id=logged.model_id,
            signature=signature,
            input_example=input_example,
            pip_requirements=pinned_requirements(),
            # cloudpickle: skops refuses numpy dtypes that a ColumnTransformer holds.
            serialization_format="cloudpickle",
            # The feature pipeline may use our transformers: ship the libs with it.
            code_paths=[str(_LIBS_DIR)],
        )
    return info.model_uri


def end_run(run: RunHandle, status: str = "FINISHED") -> None:
    _client(run).set_terminated(run.run_id, status=status)


@contextlib.contextmanager
def failing_on_error(run: RunHandle) -> Iterator[None]:
    """End the MLflow run as FAILED if anything inside raises, then re-raise."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(Exception):
            set_tags(run, {"error": f"{type(exc).__name__}: {exc}"[:5000]})
            end_run(run, RunStatus.to_string(RunStatus.FAILED))
        with contextlib.suppress(Exception):
            abandon_pending_versions(run, f"the run failed: {type(exc).__name__}")
        raise


# --- registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    value: float | None


GATE_PENDING = "pending"
GATE_DONE = "done"
GATE_ABANDONED = "abandoned"


def _read_versions(client: MlflowClient, name: str, run_id: str) -> list[Any]:
    """The versions of `name` registered from `run_id`; a read error is an error."""
    return list(client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'"))


def existing_version(run: RunHandle, name: str) -> str | None:
    """The version already registered from this run, so a retry never adds another.

    A failing read raises: "could not look" must never pass for "none yet".
    """
    versions = sorted(int(v.version) for v in _read_versions(_client(run), name, run.run_id))
    return str(versions[0]) if versions else None


def _keep_first_version(client: MlflowClient, name: str, found: list[Any]) -> str:
    """The run's first version; copies from a create retried out of our sight are deleted."""
    ordered = sorted(found, key=lambda v: int(v.version))
    for extra in ordered[1:]:
        client.delete_model_version(name, str(extra.version))
    return str(ordered[0].version)


def register_version(run: RunHandle, name: str, model_uri: str, tags: dict[str, str]) -> str:
    """Register the run's model under `name`, once per run; returns the version.

    The run id is the key: looked up first, the version is created by one POST
    that is never retried blindly, then read back by the key. Call it under
    `registry_lock`. The version starts `gate.state=pending` until the gate is done.
    """
    client = _client(run)
    found = _read_versions(client, name, run.run_id)
    if found:
        return _keep_first_version(client, name, found)
    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if "ALREADY_EXISTS" not in str(exc.error_code):
            raise
    all_tags = {
        **tags,
        "registration.key": run.run_id,
        "registered_by.host": socket.gethostname(),
        "registered_by.pid": str(os.getpid()),
        "gate.state": GATE_PENDING,
    }
    model_id = model_uri.removeprefix("models:/").split("/")[0]
    model_id = model_id if model_uri.startswith("models:/m-") else ""
    error: Exception | None = None
    try:
        store = _rest_store(client._get_registry_client().store)
        if store is None:
            client.create_model_version(
                name, model_uri, run_id=run.run_id, tags=all_tags, model_id=model_id or None
            )
        else:
            body: dict[str, Any] = {
                "name": name,
                "source": model_uri,
                "run_id": run.run_id,
                "tags": [{"key": k, "value": str(v)} for k, v in all_tags.items()],
            }
            if model_id:
                body["model_id"] = model_id
            _post_once(store, "/api/2.0/mlflow/model-versions/create", body)
    except Exception as exc:  # the answer may be lost while the version exists
        error = exc
    found = _read_versions(client, name, run.run_id)
    if not found:
        raise error or RuntimeError(f"{name}: the version of run {run.run_id} is not there")
    return _keep_first_version(client, name, found)


def champion(run: RunHandle, name: str, metric: str) -> Champion | None:
    """The current `champion` version and its run's value of `metric`; None if there is none.

    Only the registry saying "no such alias" means no champion: any other error
    raises, so a failing lookup can never let a worse model take the alias.
    """
    client = _client(run)
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        if _not_found(exc):
            return None
        raise
    value = None
    if mv.run_id:
        value = client.get_run(mv.run_id).data.metrics.get(metric)
    return Champion(version=str(mv.version), run_id=mv.run_id or "", value=value)


def tag_version(run: RunHandle, name: str, version: str, tags: dict[str, str]) -> None:
    client = _client(run)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_champion(run: RunHandle, name: str, version: str) -> None:
    """Point `champion` at `version`, then read the alias back to be sure it moved."""
    client = _client(run)
    client.set_registered_model_alias(name, CHAMPION, version)
    now = client.get_model_version_by_alias(name, CHAMPION)
    if str(now.version) != str(version):
        raise RuntimeError(f"{name}: champion reads back as v{now.version}, not v{version}")


def _settle(client: MlflowClient, mv: Any, reason: str) -> None:
    """Close the gate of a version whose registration was cut short."""
    try:
        current = client.get_model_version_by_alias(mv.name, CHAMPION)
        is_champion = str(current.version) == str(mv.version)
    except MlflowException as exc:
        if not _not_found(exc):
            raise
        is_champion = False
    if is_champion:  # the alias moves only after the decision: it passed
        client.set_model_version_tag(mv.name, str(mv.version), "gate.state", GATE_DONE)
        return
    for key, value in (
        ("gate.promote", "False"),
        ("gate.reason", f"never passed the gate: {reason}"),
        ("gate.state", GATE_ABANDONED),
    ):
        client.set_model_version_tag(mv.name, str(mv.version), key, value)


def abandon_pending_versions(run: RunHandle, reason: str) -> None:
    """Versions of a failed run that never finished the gate: tagged as not passed."""
    client = _client(run)
    found = client.search_model_versions(f"run_id = '{run.run_id}'")
    for mv in found:
        if (mv.tags or {}).get("gate.state") == GATE_PENDING:
            _settle(client, mv, reason)


def version_tags(run: RunHandle, name: str, version: str) -> dict[str, str]:
    return dict(_client(run).get_model_version(name, version).tags)


def run_status(tracking_uri: str, run_id: str) -> str:
    """The run's status (FINISHED, FAILED, RUNNING...)."""
    return MlflowClient(tracking_uri).get_run(run_id).info.status


__all__ = [
    "CHAMPION",
    "GATE_ABANDONED",
    "GATE_DONE",
    "GATE_PENDING",
    "Champion",
    "RunHandle",
    "abandon_pending_versions",
    "champion",
    "clean_up_dead_processes",
    "client_for",
    "end_run",
    "existing_version",
    "failing_on_error",
    "git_commit",
    "log_dataset",
    "log_metrics",
    "log_sklearn_model",
    "log_text",
    "pinned_requirements",
    "prepare_store",
    "process_tags",
    "reconcile_abandoned_runs",
    "register_version",
    "registry_lock",
    "run_status",
    "set_champion",
    "set_tags",
    "set_tags_by_id",
    "settle_abandoned_versions",
    "start_run",
    "tag_version",
    "use_artifact_credentials",
    "version_tags",
]


# --- sweeps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildRun:
    """A training run of a sweep point, as found in the store."""

    run_id: str
    experiment_id: str
    status: str
    metrics: dict[str, float]
    tags: dict[str, str]


def _child(run: Any) -> ChildRun:
    return ChildRun(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        status=run.info.status,
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
    )


def start_sweep_run(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str | None,
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
    flow_run_id: str | None,
) -> RunHandle:
    """The sweep's parent run; a retried sweep flow run resumes its own parent run."""
    all_tags = dict(tags)
    if flow_run_id:
        all_tags["prefect.flow_run_id"] = flow_run_id
    commit = git_commit()
    if commit:
        all_tags["mlflow.source.git.commit"] = commit
    return start_run(
        settings,
        experiment=experiment,
        artifact_root=artifact_root,
        run_name=run_name,
        params=params,
        tags=all_tags,
        flow_run_id=flow_run_id,
    )


def run_handle(settings: PlatformSettings, run_id: str) -> RunHandle:
    """A handle on an existing run (a sweep's best point, to register its model)."""
    experiment_id = client_for(settings).get_run(run_id).info.experiment_id
    return RunHandle(
        run_id=run_id,
        experiment_id=experiment_id,
        tracking_uri=settings.resolved_tracking_uri,
        url=run_url(settings, experiment_id, run_id),
    )


def log_table(run: RunHandle, frame: pd.DataFrame, artifact_file: str) -> None:
    """A table as a CSV artifact of the run."""
    _client(run).log_text(run.run_id, frame.to_csv(index=False), artifact_file)


def find_sweep_point(
    settings: PlatformSettings, *, experiment: str, sweep_id: str, config_digest: str
) -> ChildRun | None:
    """The newest FINISHED run of this sweep with this point's config, if any (for reuse)."""
    client = client_for(settings)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    runs = client.search_runs(
        [found.experiment_id],
        filter_string=(
            f"tags.`sweep.id` = '{sweep_id}' and tags.config_digest = '{config_digest}' "
            f"and attributes.status = 'FINISHED'"
        ),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return _child(runs[0]) if runs else None


def find_child_run(
    settings: PlatformSettings, *, parent_run_id: str, config_digest: str
) -> ChildRun | None:
    """The newest run nested under `parent_run_id` with this config digest, any status."""
    client = client_for(settings)
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    runs = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`mlflow.parentRunId` = '{parent_run_id}' "
            f"and tags.config_digest = '{config_digest}'"
        ),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return _child(runs[0]) if runs else None


__all__ += [
    "ChildRun",
    "find_child_run",
    "find_sweep_point",
    "log_table",
    "run_handle",
    "start_sweep_run",
]


# --- inference ---


@dataclass(frozen=True)
class ModelVersionRef:
    """One registered model version, resolved from `NAME`, `NAME@alias` or `NAME/version`."""

    name: str
    version: str
    run_id: str
    model_uri: str
    tracking_uri: str
    alias: str | None = None


@dataclass(frozen=True)
class TrainingData:
    """Where the model's training snapshot lives and which of its columns is the target."""

    snapshot_uri: str | None
    target: str


_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND")


def _not_found(exc: MlflowException) -> bool:
    return str(getattr(exc, "error_code", "")) in _NOT_FOUND_CODES


def resolve_model_version(
    settings: PlatformSettings, name: str, *, alias: str | None = None, version: str | None = None
) -> ModelVersionRef:
    """Resolve a registry reference to one version; an unknown name, alias or version is an
    `InputError` line. A local store that does not exist yet is not created to say so."""
    from libs.errors import InputError

    uri = settings.resolved_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise InputError(f"model: no registered model '{name}' (no tracking store at {uri})")
    client = client_for(settings)
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if _not_found(exc):
            raise InputError(f"model: no registered model '{name}'") from None
        raise
    try:
        if version is not None:
            mv = client.get_model_version(name, version)
        else:
            mv = client.get_model_version_by_alias(name, alias or CHAMPION)
    except MlflowException as exc:
        if not _not_found(exc):
            raise
        what = f"version {version}" if version is not None else f"alias '{alias or CHAMPION}'"
        raise InputError(f"model: registered model '{name}' has no {what}") from None
    return ModelVersionRef(
        name=name,
        version=str(mv.version),
        run_id=mv.run_id or "",
        model_uri=f"models:/{name}/{mv.version}",
        tracking_uri=uri,
        alias=None if version is not None else (alias or CHAMPION),
    )


def load_pyfunc_model(ref: ModelVersionRef) -> Any:
    """The version's model behind MLflow's generic pyfunc interface (any flavor)."""
    import mlflow.pyfunc

    mlflow.set_tracking_uri(ref.tracking_uri)
    with warnings.catch_warnings():
        # cloudpickle's safety notice: the platform loads models it logged itself.
        warnings.simplefilter("ignore", UserWarning)
        return mlflow.pyfunc.load_model(ref.model_uri)


def model_input_columns(model: Any) -> list[Any] | None:
    """The model's named input columns as `libs.scoring.ColumnSpec`s; None without a
    column signature (no signature, or a tensor one), where no column check applies."""
    from libs.scoring import ColumnSpec

    schema = model.metadata.get_input_schema()
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return None
    columns = []
    for spec in schema.inputs:
        kind = getattr(spec.type, "name", None) or str(spec.type)
        columns.append(ColumnSpec(name=str(spec.name), type=kind, required=bool(spec.required)))
    return columns


def training_data(ref: ModelVersionRef) -> TrainingData:
    """The training run's data snapshot (tag `data.snapshot_uri`) and target column."""
    if not ref.run_id:
        return TrainingData(snapshot_uri=None, target="target")
    run = MlflowClient(ref.tracking_uri).get_run(ref.run_id)
    target = run.data.params.get("data.target") or run.data.tags.get("data.target") or "target"
    return TrainingData(snapshot_uri=run.data.tags.get("data.snapshot_uri"), target=target)


def log_input_source(
    run: RunHandle,
    sample: pd.DataFrame,
    *,
    name: str,
    source: str,
    digest: str,
    rows: int | None = None,
    context: str = "inference",
) -> None:
    """Record a stored table as a run input by its URI and content digest.

    The schema comes from `sample` (a first chunk); the digest is of the whole
    stored file, which `from_pandas` would only have of the rows in memory.
    """
    import json

    from mlflow.entities import Dataset, DatasetInput, InputTag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        entity = from_pandas(sample, source=source, name=name)._to_mlflow_entity()
    profile = json.dumps({"num_rows": rows, "sha256": digest}) if rows is not None else None
    dataset = Dataset(
        name=entity.name,
        # MLflow keeps short digests (36 characters at most); the full one is in the profile.
        digest=digest[:16],
        source_type=entity.source_type,
        source=entity.source,
        schema=entity.schema,
        profile=profile or entity.profile,
    )
    _client(run).log_inputs(
        run.run_id,
        datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])],
    )


__all__ += [
    "ModelVersionRef",
    "TrainingData",
    "load_pyfunc_model",
    "log_input_source",
    "model_input_columns",
    "resolve_model_version",
    "training_data",
]


# --- tensorflow ---

# What the logged Keras model needs at load time, pinned to what trained it.
KERAS_MODEL_REQUIREMENTS = (
    "mlflow",
    "tensorflow",
    "keras",
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "cloudpickle",
)
# MLflow's pyfunc imports this module from the model's shipped code and calls its
# `_load_pyfunc(data_path)`: the network and its feature pipeline, raw rows in.
KERAS_LOADER_MODULE = "libs.models.tensorflow.serving"


def keras_requirements() -> list[str]:
    """Pinned requirements; `tensorflow-cpu` stands in where that is what is installed."""
    pins = []
    for name in KERAS_MODEL_REQUIREMENTS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name != "tensorflow":
                raise
            pins.append(f"tensorflow-cpu=={metadata.version('tensorflow-cpu')}")
    return pins


def log_epoch_metrics(run: RunHandle, logs: dict[str, float], *, epoch: int) -> None:
    """One epoch's training figures as step `epoch` of their metric histories."""
    log_metrics(run, logs, step=epoch)


def log_keras_model(
    run: RunHandle, data_path: str | Path, input_example: pd.DataFrame, predictions: Any
) -> str:
    """Log a saved Keras network + feature pipeline as a raw-input pyfunc model.

    No mlflow.tensorflow flavor: the pyfunc takes raw rows (the features
    travel with it) and returns labels, like the scikit-learn pipelines do.
    """
    import mlflow.pyfunc
    from mlflow.models import Model, infer_signature

    mlflow.set_tracking_uri(run.tracking_uri)
    with warnings.catch_warnings(), _quiet_logger("mlflow.pyfunc"):
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(input_example, predictions)
        logged = _client(run).create_logged_model(
            experiment_id=run.experiment_id, name="model", source_run_id=run.run_id
        )
        # Model.log rather than pyfunc.log_model: only it takes an explicit run id.
        info = Model.log(
            artifact_path=None,
            name="model",
            flavor=mlflow.pyfunc,
            run_id=run.run_id,
            model_id=logged.model_id,
            loader_module=KERAS_LOADER_MODULE,
            data_path=str(data_path),
            code_paths=[str(_LIBS_DIR)],
            signature=signature,
            input_example=input_example,
            pip_requirements=keras_requirements(),
        )
    return info.model_uri


__all__ += ["keras_requirements", "log_epoch_metrics", "log_keras_model"]
