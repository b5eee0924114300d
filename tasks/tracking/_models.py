"""Logged models: scikit-learn pipelines and Keras networks in, pyfunc models out."""

from __future__ import annotations

import copy
import functools
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.tracking._client import LIBS_DIR, RunHandle, client_of, quiet_logger

# What the logged scikit-learn model needs at load time, pinned to what trained it.
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle")
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
# Distributions every logged model pins already (never listed twice).
_BASE_DISTS = tuple(
    dict.fromkeys((*MODEL_REQUIREMENTS, *KERAS_MODEL_REQUIREMENTS, "tensorflow-cpu"))
)
# MLflow's pyfunc imports this module from the model's shipped code and calls its
# `_load_pyfunc(data_path)`: the network and its feature pipeline, raw rows in.
KERAS_LOADER_MODULE = "libs.models.tensorflow.serving"


def link_model_metrics(
    run: RunHandle,
    model_uri: str,
    metrics: dict[str, float],
    *,
    dataset_name: str,
    dataset_digest: str,
) -> None:
    """The metrics of the logged model, tied to the dataset they were measured on.

    MLflow shows a LoggedModel's metrics and datasets from run metrics that name
    the model and the dataset; the run's own metrics stay as they were logged.
    """
    import math
    import time

    from mlflow.entities import Metric

    model_id = model_uri.removeprefix("models:/").split("/")[0]
    if not model_uri.startswith("models:/m-"):
        return
    now = int(time.time() * 1000)
    items = [
        Metric(
            k,
            float(v),
            now,
            0,
            model_id=model_id,
            dataset_name=dataset_name,
            dataset_digest=dataset_digest,
            run_id=run.run_id,
        )
        for k, v in metrics.items()
        if math.isfinite(v)
    ]
    client_of(run).log_batch(run.run_id, metrics=items)


def pinned_requirements(names: tuple[str, ...] = MODEL_REQUIREMENTS) -> list[str]:
    """`name==version` for each installed package; inference would cost seconds."""
    return [f"{name}=={metadata.version(name)}" for name in names]


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


def shipped_code(model: Any, modules: list[str] | None = None) -> Any:
    """Your code inside `model` (or `modules`): folders to copy into the logged model
    and installed packages to pin; the platform's own libs travel anyway."""
    from libs.models import code_to_ship, modules_of

    names = tuple(sorted(set(modules if modules is not None else modules_of(model))))
    places = tuple(_imported_from(name) for name in names)
    if any(p is None for p in places):  # a module not imported yet: nothing to key on
        return code_to_ship(list(names), already_pinned=_BASE_DISTS)
    return copy.deepcopy(_shipped(names, places))


def _imported_from(module: str) -> tuple[str, ...] | None:
    """Where the imported top-level package of `module` lives (None: not imported)."""
    top = sys.modules.get(module.split(".")[0])
    if top is None:
        return None
    return (str(getattr(top, "__file__", "")), *map(str, getattr(top, "__path__", None) or ()))


@functools.lru_cache(maxsize=64)
def _shipped(modules: tuple[str, ...], places: tuple[Any, ...]) -> Any:
    """`code_to_ship` once a process for modules imported from the same places: it reads
    every installed distribution's file list (about 1.7 s a logged model on two busy
    cores), and installed versions do not change while a process runs."""
    from libs.models import code_to_ship

    return code_to_ship(list(modules), already_pinned=_BASE_DISTS)


def _tag_code(run: RunHandle, shipped: Any) -> None:
    """`model.code`: the modules of your own (and third-party) code the model needs."""
    if shipped.modules:
        from mlflow.entities import RunTag

        tags = [RunTag("model.code", ", ".join(shipped.modules))]
        if shipped.requirements:
            tags.append(RunTag("model.code_packages", ", ".join(shipped.requirements)))
        client_of(run).log_batch(run.run_id, tags=tags)


def _logged_model_id(run: RunHandle, name: str, params: dict[str, str] | None) -> str:
    """Create the LoggedModel in the run's experiment, named and with its params.

    Ourselves: without an active run, MLflow would file it under the default
    experiment in the working dir, named `model` and without parameters.
    """
    logged = client_of(run).create_logged_model(
        experiment_id=run.experiment_id,
        name=name,
        source_run_id=run.run_id,
        params={k: v[:6000] for k, v in (params or {}).items()},
    )
    return str(logged.model_id)


def log_sklearn_model(
    run: RunHandle,
    model: Any,
    input_example: pd.DataFrame,
    predictions: Any,
    *,
    name: str = "model",
    params: dict[str, str] | None = None,
) -> str:
    """Log a raw-input scikit-learn pipeline with signature and pinned requirements.

    The LoggedModel is called `name` (the registered model's) and carries `params`.
    """
    import mlflow.sklearn
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(run.tracking_uri)
    with warnings.catch_warnings(), quiet_logger("mlflow.sklearn"):
        # Known, accepted: integer columns hint, and cloudpickle's safety notice
        # (the model is our own pipeline, loaded by our own flows).
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(input_example, predictions)
        shipped = shipped_code(model)
        model_id = _logged_model_id(run, name, params)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            run_id=run.run_id,
            model_id=model_id,
            signature=signature,
            input_example=input_example,
            pip_requirements=[*pinned_requirements(), *shipped.requirements],
            # cloudpickle: skops refuses numpy dtypes that a ColumnTransformer holds.
            serialization_format="cloudpickle",
            # The feature pipeline may use our transformers: ship the libs with it, and
            # your own modules (model.class, features.custom) so it loads without them.
            code_paths=[str(LIBS_DIR), *shipped.paths],
        )
    _tag_code(run, shipped)
    return info.model_uri


def log_keras_model(
    run: RunHandle,
    data_path: str | Path,
    input_example: pd.DataFrame,
    predictions: Any,
    *,
    name: str = "model",
    params: dict[str, str] | None = None,
) -> str:
    """Log a saved Keras network + feature pipeline as a raw-input pyfunc model.

    No mlflow.tensorflow flavor: the pyfunc takes raw rows (the features
    travel with it) and returns labels, like the scikit-learn pipelines do.
    """
    import mlflow.pyfunc
    from mlflow.models import Model, infer_signature

    mlflow.set_tracking_uri(run.tracking_uri)
    with warnings.catch_warnings(), quiet_logger("mlflow.pyfunc"):
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(input_example, predictions)
        # Your builder's module travels with the network (custom layers it registers).
        builder = (params or {}).get("model.builder") or ""
        shipped = shipped_code(None, [builder.rpartition(".")[0]] if builder else [])
        model_id = _logged_model_id(run, name, params)
        # Model.log rather than pyfunc.log_model: only it takes an explicit run id.
        info = Model.log(
            artifact_path=None,
            name="model",
            flavor=mlflow.pyfunc,
            run_id=run.run_id,
            model_id=model_id,
            loader_module=KERAS_LOADER_MODULE,
            data_path=str(data_path),
            code_paths=[str(LIBS_DIR), *shipped.paths],
            signature=signature,
            input_example=input_example,
            pip_requirements=[*keras_requirements(), *shipped.requirements],
        )
    _tag_code(run, shipped)
    return info.model_uri


__all__ = [
    "KERAS_LOADER_MODULE",
    "KERAS_MODEL_REQUIREMENTS",
    "MODEL_REQUIREMENTS",
    "keras_requirements",
    "link_model_metrics",
    "log_keras_model",
    "log_sklearn_model",
    "pinned_requirements",
]
