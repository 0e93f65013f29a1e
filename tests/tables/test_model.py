"""Keras preprocessing inside the model, compiled scoring and attributions (tables.model)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from solutions.tables.columns import reference_record  # noqa: E402
from solutions.tables.inputs import record_to_inputs  # noqa: E402
from solutions.tables.model import (  # noqa: E402
    CUSTOM_OBJECTS, TableScorer, build_binary_model, build_encoder, build_mlp_head,
)

SCHEMA = {"numeric": [{"name": "amount", "median": 10.0, "mean": 12.0, "std": 4.0, "missing": True},
                      {"name": "age", "median": 30.0, "mean": 31.0, "std": 9.0, "missing": False}],
          "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    encoder = build_encoder(SCHEMA, ("embedding",), 4)
    head = build_mlp_head(int(encoder.output.shape[-1]), (8,), 0.0)
    return build_binary_model(SCHEMA, encoder, head, "m")


def rows():
    return {"amount": np.array([[5.0], [np.nan], [20.0]], np.float32), "age": np.array([[20.0], [30.0], [60.0]], np.float32),
            "kind": np.array([["a"], ["never seen"], ["b"]], dtype=object)}


def test_missing_numbers_and_unseen_categories_are_scored(model):
    scores = TableScorer(model, SCHEMA, ("embedding",), 4).score(rows())
    assert scores.shape == (3, 1) and np.isfinite(scores).all()


def test_model_round_trips_with_safe_mode_and_matches_the_compiled_scorer(model, tmp_path):
    import tensorflow as tf

    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True, custom_objects=CUSTOM_OBJECTS)
    expected = model.predict({k: tf.constant(v) for k, v in rows().items()}, verbose=0)
    assert np.allclose(TableScorer(loaded, SCHEMA, ("embedding",), 4).score(rows()), expected, atol=1e-6)


def test_missing_value_is_imputed_with_the_median_plus_an_indicator(model):
    encoder = model.get_layer("encoder")
    import tensorflow as tf

    encoded = encoder({k: tf.constant(v) for k, v in rows().items()}).numpy()
    assert encoded[1, 0] == pytest.approx((10.0 - 12.0) / 4.0, abs=1e-5)  # median, normalised
    assert encoded[:, 2].tolist() == [0.0, 1.0, 0.0]  # the missing indicator of amount


def test_attributions_vanish_at_the_reference_row_and_one_record_scores_alike(model):
    scorer = TableScorer(model, SCHEMA, ("embedding",), 4)
    reference = reference_record(SCHEMA)
    score, attributions = scorer.explain(record_to_inputs(reference, SCHEMA))
    assert np.allclose(attributions, 0, atol=1e-6) and attributions.shape == (1, 3)
    assert scorer.score_record(reference) == pytest.approx(float(score[0, 0]), abs=1e-6)
    _, attributions = scorer.explain(rows())
    assert np.abs(attributions).sum() > 0
