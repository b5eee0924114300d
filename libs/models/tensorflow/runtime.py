"""Loading TensorFlow on demand, seeding it, and naming the device it runs on.

Nothing here imports TensorFlow at module import: a scikit-learn run imports
`libs.models` and must never pay for (or depend on) TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

# absl's lines before logging is initialised: its banner, then INFO (I) and WARNING (W).
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} ")


def load_tensorflow() -> tuple[Any, Any]:
    """`(tensorflow, keras)`, imported on first use with TensorFlow's C++ log noise down.

    `TF_CPP_MIN_LOG_LEVEL=2` (unless the user set a value) hides TensorFlow's
    info and warning lines. TensorFlow 2.21 writes the lines of its import
    before absl logging is initialised, ignoring that setting (an absl
    limitation), so the import's stderr is filtered at the same level.
    Keras 3 is pinned to its TensorFlow backend unless the user chose another.
    """
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        with _filtered_stderr(_min_level()):
            import tensorflow  # noqa: F401 (imported here so that its noise is filtered)
    import keras
    import tensorflow as tf

    return tf, keras


def _min_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _noise(line: str, level: int) -> bool:
    if line.startswith(_BANNER):
        return level >= 1
    match = _ABSL_LINE.match(line)
    return match is not None and "IWEF".index(match.group(1)) < level


@contextlib.contextmanager
def _filtered_stderr(level: int) -> Iterator[None]:
    """Hold file descriptor 2 in a temporary sink, then replay all but the filtered lines.

    Works on the descriptor because TensorFlow's C++ code writes there
    directly; other writers' lines are kept (only delayed by the import).
    """
    if level < 1:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _noise(line, level))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask for deterministic kernels.

    Op determinism makes two runs of one config on the same device give the
    same weights (and metrics); on GPU it also picks slower, deterministic
    kernels, which is the price of reproducibility.
    """
    tf, keras = load_tensorflow()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def device_name() -> str:
    """`GPU:0 <name>` when TensorFlow sees a GPU (Keras then trains on it), else `CPU`."""
    tf, _ = load_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU:0 {details.get('device_name', gpus[0].name)}"


__all__ = ["device_name", "load_tensorflow", "seed_everything"]
