"""TensorFlow/Keras models: builders, the adapter, and the raw-rows serving model.

Importing this package does not import TensorFlow: every module here loads it
inside the functions that need it (`runtime.load_tensorflow`), so only a run
that trains or serves a Keras model pays for it.
"""

from libs.models.tensorflow.adapter import (
    EpochHook,
    FittedKerasClassifier,
    FittedKerasRegressor,
    TensorflowModel,
)
from libs.models.tensorflow.builders import (
    EPOCH_METRIC,
    OutputHead,
    build_network,
    compile_network,
    image_shape,
    output_head,
)
from libs.models.tensorflow.runtime import device_name, load_tensorflow, seed_everything
from libs.models.tensorflow.serving import RawRowsModel, load_artifacts, save_artifacts

__all__ = [
    "EPOCH_METRIC",
    "EpochHook",
    "FittedKerasClassifier",
    "FittedKerasRegressor",
    "OutputHead",
    "RawRowsModel",
    "TensorflowModel",
    "build_network",
    "compile_network",
    "device_name",
    "image_shape",
    "load_artifacts",
    "load_tensorflow",
    "output_head",
    "save_artifacts",
    "seed_everything",
]
