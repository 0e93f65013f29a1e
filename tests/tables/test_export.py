"""Table models exported (SavedModel, ONNX, LiteRT) with one named input per column (core.exporting)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tf2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from solutions.core.exporting import export_and_verify  # noqa: E402
from solutions.tables.ensemble import build_network  # noqa: E402
from solutions.tables.model import build_encoder, build_mlp_head  # noqa: E402
from solutions.tables.solution import TabularRecipe, TabularSolution  # noqa: E402
from solutions.tables.tabm_network import build_tabm_network  # noqa: E402

# A column name that is no valid tensor name, one that collides with it once cleaned, and a category held as a number.
SCHEMA = {"numeric": [{"name": "Days Policy/Accident", "median": 10.0, "mean": 12.0, "std": 4.0, "missing": True,
                       "min": 0.0, "max": 40.0},
                      {"name": "Days_Policy_Accident", "median": 3.0, "mean": 3.0, "std": 1.0, "missing": False,
                       "min": 1.0, "max": 5.0}],
          "categorical": [{"name": "kind", "vocabulary": ["a", "b", "3"], "mode": "a"},
                          {"name": "region", "vocabulary": ["north", "south"], "mode": "north"}],
          "missing_policy": "impute"}
FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}


def member(encoder_name, head_name):
    encoder = build_encoder(SCHEMA, ("embedding",), 4, name=encoder_name)
    return encoder, build_mlp_head(int(encoder.output.shape[-1]), (8,), 0.0, name=head_name)


def table_model(kind):
    """An untrained table model as a run saves it: one network, a seed ensemble or TabM with periodic embeddings."""
    keras.utils.set_random_seed(0)
    if kind == "mlp":
        return build_network(SCHEMA, member, 1, "table")
    if kind == "members":
        training = build_network(SCHEMA, member, 3, "table")
    else:
        recipe = TabularRecipe(network="tabm", numeric_embedding="periodic", tabm_k=4, tabm_width=16)
        training = build_tabm_network(SCHEMA, recipe, "table")
    return TabularSolution().inference_model(training, SCHEMA, None)


def test_example_rows_differ_and_hold_missing_and_unseen_values():
    rows = TabularSolution().example_inputs(SCHEMA)
    assert set(rows) == {"Days Policy/Accident", "Days_Policy_Accident", "kind", "region"}
    assert all(v.shape == (32, 1) for v in rows.values())
    assert rows["Days Policy/Accident"].dtype == np.float32 and np.isnan(rows["Days Policy/Accident"]).any()
    assert not np.isnan(rows["Days_Policy_Accident"]).any()  # no missing cells in training: none here
    assert {"a", "b", "3", "(a value never seen)", "(missing)"} <= set(rows["kind"][:, 0])
    assert len(np.unique(rows["Days_Policy_Accident"])) == 32


@pytest.mark.parametrize("fmt", ["saved_model", "onnx", "litert"])
def test_export_takes_one_named_input_per_column(tmp_path, fmt):
    result = export_and_verify(table_model("mlp"), tmp_path / "m", FORMATS[fmt], TabularSolution().example_inputs(SCHEMA))
    assert result["max_abs_difference"] <= 1e-4 and len(result["outputs"]) == 1
    inputs = {i["key"]: i for i in result["inputs"]}
    assert {k: i["dtype"] for k, i in inputs.items()} == {"Days Policy/Accident": "float32", "Days_Policy_Accident": "float32",
                                                          "kind": "string", "region": "string"}
    assert inputs["Days Policy/Accident"]["name"] == "Days_Policy_Accident"  # cleaned for TensorFlow; the key is the column
    assert inputs["Days_Policy_Accident"]["name"] == "Days_Policy_Accident_2"
    assert all(i["shape"] == [None, 1] for i in inputs.values())


@pytest.mark.parametrize("kind", ["members", "tabm"])
def test_ensembles_export_as_one_score(tmp_path, kind):
    model = table_model(kind)
    assert model.output_shape == (None, 1)  # several members folded into one score
    result = export_and_verify(model, tmp_path / "m.onnx", "onnx", TabularSolution().example_inputs(SCHEMA))
    assert result["max_abs_difference"] <= 1e-4


def test_onnx_scores_one_row_without_tensorflow_calls(tmp_path):
    model = table_model("mlp")
    result = export_and_verify(model, tmp_path / "m.onnx", "onnx", TabularSolution().example_inputs(SCHEMA))
    values = {"Days Policy/Accident": [[np.nan]], "Days_Policy_Accident": [[2.0]], "kind": [["3"]], "region": [["west"]]}
    row = {i["name"]: np.asarray(values[i["key"]], dtype=np.float32 if i["dtype"] == "float32" else object)
           for i in result["inputs"]}
    session = onnxruntime.InferenceSession(result["path"], providers=["CPUExecutionProvider"])
    (score,) = session.run(None, row)
    expected = model({k: np.asarray(v, dtype=np.float32 if isinstance(v[0][0], float) else object) for k, v in values.items()})
    assert score.shape == (1, 1) and np.allclose(score, np.asarray(expected), atol=1e-5)
