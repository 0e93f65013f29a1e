"""Export a Keras model (SavedModel, ONNX, LiteRT) and check the export against it.

Keras 3's `model.export` does the conversion; this module runs the exported
artifact in its own runtime on a batch and compares outputs with the Keras
model's, so an export that silently changes predictions is caught.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.errors import UsageError
from solutions.core.runs import atomic_path

TOLERANCE = 1e-4
SUFFIX = {"tf_saved_model": "", "onnx": ".onnx", "litert": ".tflite"}


def export_and_verify(model, path: Path, keras_format: str, inputs: np.ndarray) -> dict[str, Any]:
    """Export `model` to `path` and return {"path", "format", "max_abs_difference", "seconds"}.

    Raises UsageError when the exported model's outputs differ by more than 1e-4 times their
    largest magnitude (at least 1e-4).
    """
    path = Path(path)
    if SUFFIX[keras_format] and path.suffix != SUFFIX[keras_format]:
        path = path.with_suffix(SUFFIX[keras_format])
    began = time.perf_counter()
    model = inference_model(model)
    expected = np.asarray(model(inputs))
    with atomic_path(path) as tmp:
        try:
            model.export(str(tmp), format=keras_format, verbose=False)
        except ImportError as error:
            raise UsageError(
                f"Exporting to {keras_format} needs a package that is not installed: {error}. "
                "Install it (for ONNX: pip install tf2onnx onnx onnxruntime) and try again."
            ) from None
        received = _run_export(tmp, keras_format, inputs)
    difference = float(np.max(np.abs(expected - received)))
    # outputs measured in large units (pixel coordinates, say) carry float32 rounding in proportion to their size
    allowed = TOLERANCE * max(1.0, float(np.max(np.abs(expected))))
    if not difference <= allowed:
        raise UsageError(
            f"The {keras_format} export at {path} does not reproduce the Keras model: largest output difference "
            f"{difference:.2e} (allowed {allowed:.1e}). Report this as a bug with the model's recipe."
        )
    return {"path": str(path), "format": keras_format, "max_abs_difference": difference,
            "seconds": time.perf_counter() - began}


def inference_model(model):
    """The model with `training=False` fixed, so augmentation layers are off in every runtime.

    Keras' random augmentation layers default to training mode when a model is
    called without `training`, which is how exporters trace it; wrapping the
    call with training=False records that argument in the graph.
    """
    import keras

    inputs = keras.Input(model.input_shape[1:], dtype=model.inputs[0].dtype, name=model.inputs[0].name)
    return keras.Model(inputs, model(inputs, training=False), name=f"{model.name}_inference")


def _run_export(path: Path, keras_format: str, inputs: np.ndarray) -> np.ndarray:
    if keras_format == "tf_saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        return np.asarray(loaded.serve(tf.constant(inputs)))
    if keras_format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: inputs})[0])
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    input_detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(input_detail["index"], inputs.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_detail["index"], inputs.astype(input_detail["dtype"]))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
