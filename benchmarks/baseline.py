"""The baseline: the platform's default run written as one careful plain script.

Same data (breast_cancer), split (stratified, seed 42, 20 %), features
(median imputation + standard scaling), model (logistic regression, C=1),
metrics, HTML report, MLflow logging (params, metrics, dataset inputs, report,
model with signature and explicit requirements) and registration with the
champion alias; no orchestration.

    python -m benchmarks.baseline HOME              # one run, like python -m flows.train
    python -m benchmarks.baseline HOME --sweep 16   # the 16-point loop of the sweep case
    python -m benchmarks.baseline HOME --lean-sweep 16
        # the issue's sweep: C over 16 values from 1e-3 to 1e2, each point logging
        # params, metrics, tags and datasets; the best point's report and model
        # logged, and registered behind the champion check
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import sys
import warnings
from importlib import metadata
from pathlib import Path

warnings.simplefilter("ignore")

import mlflow  # noqa: E402
import mlflow.sklearn  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from libs.metrics import compute_metrics  # noqa: E402
from libs.plots import (  # noqa: E402
    evaluation_figures,
    feature_importance_figure,
    permutation_importance_table,
    render_report,
)

REQUIREMENTS = [
    f"{n}=={metadata.version(n)}"
    for n in ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle")
]


def sweep_points(n: int) -> list[dict[str, float]]:
    """The sweep case's grid: C on a log scale by tol, 4 x 4 for n=16."""
    side = round(n**0.5)
    return [
        {"C": float(c), "tol": float(t)}
        for c in np.logspace(-2, 2, side)
        for t in np.logspace(-5, -2, side)
    ][:n]


LEAN_RUNS: dict[str, tuple[float, float]] = {}


def log_inputs(home: Path, x_train, x_test, y_train, y_test) -> None:
    train = mlflow.data.from_pandas(
        x_train.assign(target=y_train), source=str(home / "data.parquet"), targets="target"
    )
    test = mlflow.data.from_pandas(
        x_test.assign(target=y_test), source=str(home / "data.parquet"), targets="target"
    )
    mlflow.log_input(train, context="training")
    mlflow.log_input(test, context="testing")


def lean_points(n: int) -> list[float]:
    """The issue's sweep: n values of C on a log scale from 1e-3 to 1e2."""
    return [float(c) for c in np.logspace(-3, 2, n)]


def train_once(
    home: Path,
    frame,
    x_train,
    x_test,
    y_train,
    y_test,
    snapshot: str,
    C: float,
    tol: float,
    register: bool,
    parent: str | None = None,
    lean: bool = False,
    run_id: str | None = None,
) -> float:
    pipeline = Pipeline(
        [
            (
                "features",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
            ),
            ("model", LogisticRegression(C=C, tol=tol, max_iter=1000, random_state=42)),
        ]
    ).fit(x_train, y_train)
    y_pred = pipeline.predict(x_test)
    y_proba = pipeline.predict_proba(x_test)
    metrics = compute_metrics("classification", y_test.to_numpy(), y_pred, y_proba, labels=[0, 1])
    if lean:
        tags = {"mlflow.parentRunId": parent} if parent else {}
        with mlflow.start_run(tags={**tags, "data.snapshot_sha256": snapshot}, nested=True) as run:
            mlflow.log_params(
                {"C": C, "tol": tol, "data.source": "breast_cancer", "split.seed": 42}
            )
            mlflow.log_metrics(metrics)
            log_inputs(home, x_train, x_test, y_train, y_test)
        LEAN_RUNS[run.info.run_id] = (C, tol)
        return metrics["accuracy"]
    figures = evaluation_figures("classification", y_test.to_numpy(), y_pred, y_proba, [0, 1])
    importance = permutation_importance_table(pipeline, x_test, y_test, seed=42)
    figures.append(("Permutation importance", feature_importance_figure(importance)))
    html = render_report("baseline", metrics, figures, {"model": "baseline"})
    tags = {"mlflow.parentRunId": parent} if parent else None
    with mlflow.start_run(tags=tags, nested=parent is not None, run_id=run_id):
        mlflow.log_params({"C": C, "tol": tol, "data.source": "breast_cancer", "split.seed": 42})
        mlflow.log_metrics(metrics)
        mlflow.set_tag("data.snapshot_sha256", snapshot)
        log_inputs(home, x_train, x_test, y_train, y_test)
        mlflow.log_text(html, "report/report.html")
        example = x_train.head(5)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            pip_requirements=REQUIREMENTS,
            serialization_format="cloudpickle",
        )
        if register:
            mv = mlflow.register_model(info.model_uri, "baseline-model")
            client = MlflowClient()
            try:
                champion = client.get_model_version_by_alias("baseline-model", "champion")
                best = client.get_run(champion.run_id).data.metrics["accuracy"]
            except mlflow.exceptions.MlflowException:
                best = -1.0
            if metrics["accuracy"] > best:
                client.set_registered_model_alias("baseline-model", "champion", mv.version)
    return metrics["accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("--sweep", type=int, default=0)
    parser.add_argument("--lean-sweep", type=int, default=0)
    args = parser.parse_args(argv)
    home: Path = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{home / 'mlflow.db'}")
    if mlflow.get_experiment_by_name("baseline") is None:
        mlflow.create_experiment("baseline", artifact_location=(home / "mlartifacts").as_uri())
    mlflow.set_experiment("baseline")

    frame = load_breast_cancer(as_frame=True).frame
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    (home / "data.parquet").write_bytes(buffer.getvalue())
    snapshot = hashlib.sha256(buffer.getvalue()).hexdigest()
    x, y = frame.drop(columns=["target"]), frame["target"]
    split = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    if args.lean_sweep:
        with mlflow.start_run(run_name="sweep") as parent:
            scores = {
                c: train_once(
                    home, frame, *split, snapshot, c, 1e-4, False, parent.info.run_id, lean=True
                )
                for c in lean_points(args.lean_sweep)
            }
        best_c = max(scores, key=lambda c: scores[c])
        best_run = next(r for r, (c, _) in LEAN_RUNS.items() if c == best_c)
        # The best point again in full, into its own run: report, model, registration.
        train_once(home, frame, *split, snapshot, best_c, 1e-4, register=True, run_id=best_run)
        print(f"best accuracy {scores[best_c]:.4f} over {len(scores)} points")
    elif args.sweep:
        with mlflow.start_run(run_name="sweep") as parent:
            results = [
                train_once(
                    home,
                    frame,
                    *split,
                    snapshot,
                    p["C"],
                    p["tol"],
                    register=False,
                    parent=parent.info.run_id,
                )
                for p in sweep_points(args.sweep)
            ]
        print(f"best accuracy {max(results):.4f} over {len(results)} points")
    else:
        print(f"accuracy {train_once(home, frame, *split, snapshot, 1.0, 1e-4, register=True):.4f}")
    gc.freeze()  # skip the final collection at exit, as the platform does
    return 0


if __name__ == "__main__":
    sys.exit(main())
