"""Export a Keras model (SavedModel, ONNX, LiteRT) and check the export against it.

Keras 3's `model.export` writes SavedModel and LiteRT; ONNX goes through
`tf2onnx.convert.from_keras`, which (unlike the function converter Keras' ONNX
export uses) finds the model's lookup tables and writes them as ONNX-ML
`CategoryMapper` nodes, so string inputs (a table's categories) convert too.
This module then runs the exported artifact in its own runtime on a batch and
compares outputs with the Keras model's, so an export that silently changes
predictions is caught.

A model takes one tensor or a dict of named tensors (a table model: one (n, 1)
input per column, float32 numbers with NaN for a missing cell, categories as
strings, unseen ones sharing one bucket; see solutions.tables.model). Every artifact takes its inputs by the names of the Keras model's
inputs, in the dtypes it was built with; the result's "inputs" lists them as the
artifact declares them (name, dtype, shape, and for a dict model the dict key,
a table's column name, which can differ from the name: "Days Policy/Accident" is
fed as "Days_Policy_Accident"). Batch rows along the first axis. One row of a
table model, without this toolkit:

    import numpy as np
    row = {"amount": np.array([[12.5]], np.float32),               # every name in "inputs"
           "merchant_category": np.array([["grocery"]], object)}    # strings as object (or bytes) arrays

    import onnxruntime                                              # ONNX: onnxruntime only
    session = onnxruntime.InferenceSession("model_onnx.onnx", providers=["CPUExecutionProvider"])
    score = session.run(None, row)[0]                               # shape (1, 1)

    import tensorflow as tf                                         # SavedModel: its serving signature
    serve = tf.saved_model.load("model_saved_model").signatures["serving_default"]
    score = serve(**{name: tf.constant(value) for name, value in row.items()})["output_0"].numpy()

    runner = tf.lite.Interpreter(model_path="model_litert.tflite").get_signature_runner()  # LiteRT
    score = runner(**row)["output_0"]
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


def export_and_verify(model, path: Path, keras_format: str, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, Any]:
    """Export `model` to `path` and return {"path", "format", "max_abs_difference", "seconds", "inputs", "outputs"}.

    `inputs` is a batch the model takes: an array, or a dict of arrays keyed like the model's
    input dict. "inputs" lists what the exported artifact takes ({"name", "dtype", "shape"}, plus
    "key" for a dict model), "outputs" the names of its outputs. Raises UsageError when the
    exported model's outputs differ by more than 1e-4 times their largest magnitude (at least 1e-4).
    """
    path = Path(path)
    if SUFFIX[keras_format] and path.suffix != SUFFIX[keras_format]:
        path = path.with_suffix(SUFFIX[keras_format])
    began = time.perf_counter()
    model = inference_model(model)
    expected = np.asarray(model(inputs))
    with atomic_path(path) as tmp:
        try:
            _export(model, tmp, keras_format)
        except ImportError as error:
            raise UsageError(
                f"Exporting to {keras_format} needs a package that is not installed: {error}. "
                "Install it (for ONNX: pip install tf2onnx onnx onnxruntime) and try again."
            ) from None
        received, declared, outputs = _run_export(tmp, keras_format, _by_input_name(model, inputs))
    difference = float(np.max(np.abs(expected - received)))
    # outputs measured in large units (pixel coordinates, say) carry float32 rounding in proportion to their size
    allowed = TOLERANCE * max(1.0, float(np.max(np.abs(expected))))
    if not difference <= allowed:
        raise UsageError(
            f"The {keras_format} export at {path} does not reproduce the Keras model: largest output difference "
            f"{difference:.2e} (allowed {allowed:.1e}). Report this as a bug with the model's recipe."
        )
    keys = {tensor.name: key for key, tensor in model.input.items()} if isinstance(model.input, dict) else {}
    declared = [{**({"key": keys[d["name"]]} if d["name"] in keys else {}), **d} for d in declared]
    return {"path": str(path), "format": keras_format, "max_abs_difference": difference,
            "seconds": time.perf_counter() - began, "inputs": declared, "outputs": outputs}


def inference_model(model):
    """The model with `training=False` fixed, so augmentation layers are off in every runtime.

    Keras' random augmentation layers default to training mode when a model is
    called without `training`, which is how exporters trace it; wrapping the
    call with training=False records that argument in the graph. The inputs keep
    the model's structure (one tensor, or a dict of them), names and dtypes.
    """
    import warnings

    import keras

    inputs = keras.tree.map_structure(lambda t: keras.Input(t.shape[1:], dtype=t.dtype, name=t.name), model.input)
    with warnings.catch_warnings():  # a dict's keys (a table's column names) need not be valid tensor names
        warnings.filterwarnings("ignore", message="When providing `inputs` as a dict")
        return keras.Model(inputs, model(inputs, training=False), name=f"{model.name}_inference")


def _by_input_name(model, inputs) -> dict[str, np.ndarray]:
    """The batch keyed by the names of the Keras inputs it feeds, which are the exported artifacts' input names."""
    if isinstance(inputs, dict):
        return {model.input[key].name: np.asarray(value) for key, value in inputs.items()}
    return {model.inputs[0].name: np.asarray(inputs)}


def _export(model, path: Path, keras_format: str) -> None:
    if keras_format != "onnx":
        model.export(str(path), format=keras_format, verbose=False)
        return
    import logging

    import keras
    import tensorflow as tf
    import tf2onnx

    signature = [keras.tree.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype, name=t.name), model.input)]
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)  # it warns of every shape it cannot infer (a lookup's output, say)
    try:
        tf2onnx.convert.from_keras(model, input_signature=signature, output_path=str(path))
    finally:
        logger.setLevel(level)


_ONNX_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(string)": "string",
               "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(uint8)": "uint8", "tensor(bool)": "bool"}


def _run_export(path: Path, keras_format: str, inputs: dict[str, np.ndarray]):
    """(the exported model's first output on `inputs`, the inputs it declares, its output names)."""
    if keras_format == "tf_saved_model":
        import tensorflow as tf

        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        declared = [_declared(name, spec.dtype.name, spec.shape.as_list())
                    for name, spec in serve.structured_input_signature[1].items()]
        outputs = serve(**{name: tf.constant(value) for name, value in _fed(declared, inputs).items()})
        return np.asarray(outputs[sorted(outputs)[0]]), declared, sorted(outputs)
    if keras_format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        declared = [_declared(i.name, _ONNX_TYPES.get(i.type, i.type), i.shape) for i in session.get_inputs()]
        received = session.run(None, _fed(declared, inputs))[0]
        return np.asarray(received), declared, [o.name for o in session.get_outputs()]
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner()
    declared = [_declared(name, "string" if d["dtype"] == np.bytes_ else np.dtype(d["dtype"]).name, d["shape_signature"])
                for name, d in runner.get_input_details().items()]
    outputs = runner(**_fed(declared, inputs))
    return np.asarray(outputs[sorted(outputs)[0]]), declared, sorted(outputs)


def _declared(name: str, dtype: str, shape) -> dict[str, Any]:
    """One input as an artifact declares it; dimensions of any size (the batch) are None."""
    return {"name": name, "dtype": dtype,
            "shape": [int(d) if isinstance(d, (int, np.integer)) and d >= 0 else None for d in shape]}


def _fed(declared: list[dict[str, Any]], inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The batch by the artifact's input names, numbers in its dtypes."""
    unknown = [d["name"] for d in declared if d["name"] not in inputs]
    if unknown or len(declared) != len(inputs):
        raise UsageError(f"The export takes inputs {', '.join(d['name'] for d in declared)}, not the Keras model's "
                         f"{', '.join(inputs)}. Report this as a bug with the model's recipe.")
    return {d["name"]: inputs[d["name"]] if d["dtype"] == "string" else inputs[d["name"]].astype(d["dtype"], copy=False)
            for d in declared}
