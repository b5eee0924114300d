"""Keras builders, the TensorFlow adapter, its raw-rows serving model, and the spec."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from flows.config.train import load_train_config
from libs.errors import InputError
from libs.models import SklearnModelSpec, TensorflowModelSpec, create_model
from libs.models.tensorflow import (
    build_network,
    load_artifacts,
    output_head,
    save_artifacts,
)

REPO = Path(__file__).resolve().parents[3]
# TensorFlow's import and fits take seconds each: `make test` runs them, `make test-fast` does not.
pytestmark = pytest.mark.slow


def layer_types(network: object) -> list[str]:
    return [type(layer).__name__ for layer in network.layers]  # type: ignore[attr-defined]


def blobs(n: int = 120, classes: int = 3, features: int = 4, seed: int = 0) -> tuple:
    """Well separated clusters, one per class: any working network learns them."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, features)) * 0.3 + y[:, None] * 2.0
    return x.astype("float32"), y


@pytest.mark.parametrize(
    ("task", "classes", "units", "activation"),
    [
        ("classification", 3, 3, "softmax"),
        ("classification", 2, 1, "sigmoid"),
        ("regression", None, 1, "linear"),
    ],
)
def test_output_layer_follows_the_task(
    task: str, classes: int | None, units: int, activation: str
) -> None:
    # given
    spec = TensorflowModelSpec(units=[8])
    # when
    network = build_network(spec, 5, output_head(task, classes))
    # then
    output = network.layers[-1]
    assert output.units == units
    assert output.activation.__name__ == activation


def test_mlp_has_one_dense_layer_per_hidden_size_plus_the_output() -> None:
    # given
    spec = TensorflowModelSpec(units=[16, 8, 4], dropout=0.2, batch_norm=True)
    # when
    network = build_network(spec, 6, output_head("classification", 4))
    # then
    types = layer_types(network)
    assert types.count("Dense") == 4
    assert types.count("BatchNormalization") == 3
    assert types.count("Dropout") == 3
    assert [layer.units for layer in network.layers if type(layer).__name__ == "Dense"] == [
        16,
        8,
        4,
        4,
    ]
    assert network.input_shape == (None, 6)


def test_cnn_reshapes_square_rows_to_images_with_one_conv_per_filter_size() -> None:
    # given: digits' 64 pixel columns
    spec = TensorflowModelSpec(architecture="cnn", filters=[8, 16], units=[12])
    # when
    network = build_network(spec, 64, output_head("classification", 10))
    # then
    types = layer_types(network)
    assert types.count("Conv2D") == 2
    assert types.count("MaxPooling2D") == 2
    assert network.get_layer("image").output.shape[1:] == (8, 8, 1)
    assert types.count("Dense") == 2  # the head's hidden layer and the output
    assert network.layers[-1].units == 10


@pytest.mark.parametrize(
    ("spec", "features", "message"),
    [
        (TensorflowModelSpec(architecture="cnn"), 30, "not a square number"),
        (
            TensorflowModelSpec(architecture="cnn", image_shape=(4, 4, 2)),
            30,
            r"model.image_shape: \[4, 4, 2\] holds 32 values",
        ),
    ],
)
def test_cnn_refuses_rows_that_are_not_images(
    spec: TensorflowModelSpec, features: int, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        build_network(spec, features, output_head("classification", 3))


def test_one_class_is_not_a_classification_head() -> None:
    with pytest.raises(InputError, match="at least 2 classes"):
        output_head("classification", 1)


def test_fit_reports_every_epoch_and_decodes_string_labels() -> None:
    # given: labels that are strings, not 0..n-1
    x, y = blobs()
    labels = np.array(["cat", "dog", "emu"])[y]
    seen: list[tuple[int, dict[str, float]]] = []
    spec = TensorflowModelSpec(units=[16], epochs=4, batch_size=8, learning_rate=0.02)
    model = create_model(
        spec, "classification", seed=1, on_epoch_end=lambda e, logs: seen.append((e, logs))
    )
    # when
    model.fit(x, labels)
    # then
    assert [epoch for epoch, _ in seen] == [0, 1, 2, 3]
    assert set(seen[0][1]) == {"loss", "acc", "val_loss", "val_acc"}
    assert model.history["loss"] == [logs["loss"] for _, logs in seen]  # type: ignore[attr-defined]
    assert model.classes == ["cat", "dog", "emu"]
    assert set(model.predict(x)) <= {"cat", "dog", "emu"}
    assert (model.predict(x) == labels).mean() > 0.9
    proba = model.predict_proba(x)
    assert proba is not None and proba.shape == (len(x), 3)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert model.device in ("CPU",) or model.device.startswith("GPU:0")  # type: ignore[attr-defined]


def test_binary_and_regression_predictions() -> None:
    # given
    x, y = blobs(classes=2)
    spec = TensorflowModelSpec(units=[8], epochs=3, validation_split=0.0)
    # when
    clf = create_model(spec, "classification", seed=0).fit(x, y * 5 + 1)  # labels 1 and 6
    reg = create_model(spec, "regression", seed=0).fit(x, y.astype(float) * 3.0)
    # then
    assert set(clf.predict(x)) <= {1, 6}
    assert clf.predict_proba(x).shape == (len(x), 2)  # type: ignore[union-attr]
    assert reg.predict(x).dtype == np.float64 and reg.predict(x).shape == (len(x),)
    assert reg.predict_proba(x) is None
    assert reg.classes is None


def test_early_stopping_stops_before_the_last_epoch() -> None:
    # given: random labels, so a wide network soon overfits and val_loss rises
    x, _ = blobs()
    y = np.random.default_rng(0).integers(0, 3, len(x))
    spec = TensorflowModelSpec(
        units=[64], epochs=100, batch_size=8, early_stopping_patience=2, learning_rate=0.05
    )
    # when
    model = create_model(spec, "classification", seed=0).fit(x, y)
    # then
    assert len(model.history["loss"]) < 100  # type: ignore[attr-defined]


def test_two_seeded_fits_are_identical() -> None:
    # given
    x, y = blobs()
    spec = TensorflowModelSpec(architecture="mlp", units=[16, 8], dropout=0.3, epochs=3)
    # when
    first = create_model(spec, "classification", seed=7).fit(x, y)
    second = create_model(spec, "classification", seed=7).fit(x, y)
    other = create_model(spec, "classification", seed=8).fit(x, y)
    # then
    assert first.history == second.history  # type: ignore[attr-defined]
    assert np.array_equal(first.predict_proba(x), second.predict_proba(x))  # type: ignore[arg-type]
    assert first.history != other.history  # type: ignore[attr-defined]


def test_seeded_fits_do_not_depend_on_other_threads_drawing_random_numbers() -> None:
    # given: a thread drawing from Python's global `random`, as Prefect's run
    # naming and retry jitter do while a training task builds its network
    x, y = blobs()
    spec = TensorflowModelSpec(architecture="mlp", units=[16, 8], dropout=0.3, epochs=2)
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()

    noise = threading.Thread(target=draw, daemon=True)
    # when
    quiet = create_model(spec, "classification", seed=7).fit(x, y)
    noise.start()
    try:
        noisy = create_model(spec, "classification", seed=7).fit(x, y)
    finally:
        stop.set()
        noise.join()
    # then
    assert quiet.history == noisy.history  # type: ignore[attr-defined]
    assert np.array_equal(quiet.predict_proba(x), noisy.predict_proba(x))  # type: ignore[arg-type]


def test_saved_model_predicts_labels_from_raw_rows(tmp_path: Path) -> None:
    # given: a network trained on scaled features, and the scaler that made them
    x, y = blobs()
    raw = pd.DataFrame(x * 100.0, columns=["a", "b", "c", "d"])
    scaler = StandardScaler().fit(raw)
    spec = TensorflowModelSpec(units=[16], epochs=5, batch_size=8, learning_rate=0.02)
    model = create_model(spec, "classification", seed=0).fit(scaler.transform(raw), y + 10)
    # when
    loaded = load_artifacts(save_artifacts(model, scaler, tmp_path / "model"))  # type: ignore[arg-type]
    # then
    assert np.array_equal(loaded.predict(raw), model.predict(scaler.transform(raw)))
    assert loaded.classes == [10, 11, 12]
    pipeline = model.as_pipeline(scaler)
    assert np.array_equal(pipeline.predict(raw), loaded.predict(raw))
    assert pipeline.score(raw, y + 10) > 0.9


def test_spec_without_framework_is_scikit_learn_and_bad_specs_fail_at_load() -> None:
    # when
    default = load_train_config(None, ["model.params.C=0.5"])
    keras = load_train_config(None, ["model.framework=tensorflow", "model.architecture=cnn"])
    # then
    assert isinstance(default.model, SklearnModelSpec)
    assert isinstance(keras.model, TensorflowModelSpec)
    assert keras.registered_model_name == "breast-cancer-keras-cnn"
    assert keras.flat_params()["model.epochs"] == "20"
    with pytest.raises(InputError, match="unknown framework"):
        load_train_config(None, ["model.framework=torch"])
    with pytest.raises(InputError, match=r"config: model\.params: unknown key"):
        load_train_config(None, ["model.framework=tensorflow", "model.params.C=1"])
    with pytest.raises(InputError, match="early_stopping_patience needs validation_split"):
        load_train_config(
            None,
            [
                "model.framework=tensorflow",
                "model.early_stopping_patience=3",
                "model.validation_split=0",
            ],
        )


def test_importing_the_model_libraries_does_not_import_tensorflow() -> None:
    # given: a fresh interpreter
    code = (
        "import sys, libs.models, libs.models.tensorflow, flows.runs.frameworks; "
        "from libs.models import SklearnModelSpec, create_model; "
        "create_model(SklearnModelSpec(), 'classification'); "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    # when
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    # then
    assert out.stdout.split() == ["False", "False"]
