"""The MLflow client: the store it points at, created once, and its HTTP settings.

MLflow is imported here, under the warning filter, and nowhere else first: the
other modules of the package take it from this one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.settings import PlatformSettings
from libs.sqlite_templates import point_mlflow_default_experiment, seed

with warnings.catch_warnings():
    # SQLAlchemy 2.1 warns from inside MLflow at import; nothing for us to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import RunStatus
    from mlflow.exceptions import MlflowException

# The platform's libs, shipped with every logged model (its pipelines may use them).
LIBS_DIR = Path(__file__).resolve().parents[2] / "libs"
_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND")
# MLflow 3's UI opens an experiment by its kind; without the tag it may pick the GenAI
# view (traces, tokens). The platform's experiments are classic model training.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


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
    if uri.startswith("sqlite:///") and uri not in _PREPARED:
        settings.home_dir.mkdir(parents=True, exist_ok=True)
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        with file_lock(settings.home_dir / ".mlflow-store.lock"):
            _seed_store(Path(uri.removeprefix("sqlite:///")))
            client = MlflowClient(uri)
            client.search_experiments(max_results=1)
        _PREPARED.add(uri)  # once per process: a sweep's points do not queue on the lock
        return client
    return MlflowClient(uri)


# The SQLite stores this process has created or migrated already.
_PREPARED: set[str] = set()


def _create_template(path: Path) -> None:
    """An empty tracking store at `path`, through MLflow's own migrations."""
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = f"sqlite:///{path}"
    store = SqlAlchemyStore(uri, DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
    store.engine.dispose()
    SqlAlchemyStore._engine_map.pop(uri, None)


def _seed_store(db: Path) -> None:
    """A new SQLite store as a copy of a migrated empty one (`libs.sqlite_templates`).

    The copy then says what MLflow would have written itself: the Default
    experiment's artifact location (the client's default root, resolved here)
    and its creation time.
    """
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.tracking._tracking_service.utils import _SERVER_ARTIFACT_ROOT_ENV_VAR
    from mlflow.utils.uri import append_to_uri_path, resolve_uri_if_local

    if not seed(db, f"mlflow-{mlflow.__version__}", _create_template):
        return
    root = os.environ.get(_SERVER_ARTIFACT_ROOT_ENV_VAR, DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
    point_mlflow_default_experiment(db, append_to_uri_path(resolve_uri_if_local(root), "0"))


def prepare_store(settings: PlatformSettings | None = None) -> None:
    """Create and migrate the tracking store now (a first run does it while waiting)."""
    client_for(settings or PlatformSettings())


def client_of(run: RunHandle) -> MlflowClient:
    """A client on the store that holds `run`."""
    return MlflowClient(run.tracking_uri)


def run_url(settings: PlatformSettings, experiment_id: str, run_id: str) -> str:
    uri = settings.resolved_tracking_uri
    base = uri if uri.startswith(("http://", "https://")) else settings.mlflow_ui_url
    # MLflow 3's UI opens in its GenAI view unless told otherwise (`workflowType`).
    return (
        f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
        "?workflowType=machine_learning"
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


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str | None) -> str:
    """The experiment's id, creating it with artifacts under `artifact_root`.

    An experiment keeps the artifact location it was created with: switching
    storage later needs a new experiment name.
    """
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        if EXPERIMENT_KIND_TAG not in (existing.tags or {}):  # made before the tag was set
            client.set_experiment_tag(existing.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        return existing.experiment_id
    # Never "." or "..": the folder must be one level below the artifact root.
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".") or "_"
    try:
        location = f"{artifact_root.rstrip('/')}/{safe}" if artifact_root else None
        return client.create_experiment(
            name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
        )
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


def rest_store(store: Any) -> Any | None:
    """The store when it talks HTTP to a tracking server (None for a local database)."""
    return store if callable(getattr(store, "get_host_creds", None)) else None


def post_once(store: Any, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the tracking server without MLflow's HTTP retries, which retry every method.

    A create whose answer is lost (a gateway's 503 after the server did the work)
    must not be sent again blindly: the caller reads back by a key instead.
    """
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    response = http_request(store.get_host_creds(), endpoint, "POST", max_retries=0, json=body)
    result: dict[str, Any] = verify_rest_response(response, endpoint).json()
    return result


def not_found(exc: MlflowException) -> bool:
    """Whether the store answered "no such thing" (not "could not look")."""
    return str(getattr(exc, "error_code", "")) in _NOT_FOUND_CODES


@contextlib.contextmanager
def quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = [
    "EXPERIMENT_KIND",
    "EXPERIMENT_KIND_TAG",
    "LIBS_DIR",
    "MlflowClient",
    "MlflowException",
    "RunHandle",
    "RunStatus",
    "client_for",
    "client_of",
    "ensure_experiment",
    "file_lock",
    "from_pandas",
    "mlflow",
    "not_found",
    "post_once",
    "prepare_store",
    "quiet_logger",
    "rest_store",
    "run_handle",
    "run_url",
    "use_artifact_credentials",
]
