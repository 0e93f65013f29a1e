"""Seed ensembles of tabular networks trained side by side and saved as one model (tables.ensemble)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from solutions.tables.columns import reference_record  # noqa: E402
from solutions.tables.inputs import record_to_inputs  # noqa: E402
from solutions.tables.ensemble import (  # noqa: E402
    CUSTOM_OBJECTS, MemberLoss, build_network, inference_ensemble, is_member_ensemble,
)
from solutions.tables.model import CUSTOM_OBJECTS as TABLE_OBJECTS  # noqa: E402
from solutions.tables.model import TableScorer, build_encoder, build_mlp_head  # noqa: E402

SCHEMA = {"numeric": [{"name": "amount", "median": 10.0, "mean": 12.0, "std": 4.0, "missing": True},
                      {"name": "age", "median": 30.0, "mean": 31.0, "std": 9.0, "missing": False}],
          "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}


def member(encoder_name, head_name):
    encoder = build_encoder(SCHEMA, ("embedding",), 4, name=encoder_name)
    return encoder, build_mlp_head(int(encoder.output.shape[-1]), (8,), 0.0, name=head_name)


def rows():
    import tensorflow as tf

    values = {"amount": np.array([[5.0], [np.nan], [20.0]], np.float32), "age": np.array([[20.0], [30.0], [60.0]], np.float32),
              "kind": np.array([["a"], ["never seen"], ["b"]], dtype=object)}
    return values, {k: tf.constant(v) for k, v in values.items()}


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    training = build_network(SCHEMA, member, 3, "m")
    return training, inference_ensemble(training, SCHEMA, "m")


def test_one_member_is_the_plain_network_and_several_train_one_output_each():
    assert not is_member_ensemble(build_network(SCHEMA, member, 1, "m"))
    assert build_network(SCHEMA, member, 1, "m").output_shape == (None, 1)
    training = build_network(SCHEMA, member, 3, "m")
    assert is_member_ensemble(training) and training.output_shape == (None, 3)


def test_saved_model_scores_the_mean_member_logit(trained):
    training, saved = trained
    _, tensors = rows()
    members = training(tensors).numpy()
    assert len({round(float(v), 5) for v in members[0]}) == 3  # independent starts: the members differ
    mean_logit = np.log(members / (1 - members)).mean(axis=1, keepdims=True)
    assert saved.output_shape == (None, 1)
    assert np.allclose(saved(tensors).numpy(), 1 / (1 + np.exp(-mean_logit)), atol=1e-5)


def test_each_member_learns_only_from_its_own_loss(trained):
    import tensorflow as tf

    training, _ = trained
    _, tensors = rows()
    y = tf.constant([[1.0], [0.0], [1.0]])
    first_head = training.get_layer("member_heads").get_layer("member_1_head").trainable_weights
    with tf.GradientTape(persistent=True) as tape:
        scores = training(tensors)
        joint = MemberLoss(keras.losses.BinaryCrossentropy())(y, scores)
        alone = keras.losses.BinaryCrossentropy()(y, scores[:, :1])
    for together, by_itself in zip(tape.gradient(joint, first_head), tape.gradient(alone, first_head)):
        assert np.allclose(together.numpy() * 3, by_itself.numpy(), atol=1e-6)  # the joint loss is the members' mean


def test_saved_ensemble_round_trips_in_safe_mode_and_explains_per_column(trained, tmp_path):
    _, saved = trained
    saved.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True, custom_objects={**TABLE_OBJECTS, **CUSTOM_OBJECTS})
    values, tensors = rows()
    assert np.allclose(loaded(tensors).numpy(), saved(tensors).numpy(), atol=1e-6)
    scorer = TableScorer(loaded, SCHEMA, ("embedding",), 4)
    _, at_reference = scorer.explain(record_to_inputs(reference_record(SCHEMA), SCHEMA))
    assert at_reference.shape == (1, 3) and np.allclose(at_reference, 0, atol=1e-6)
    _, attributions = scorer.explain(values)
    assert attributions.shape == (3, 3) and np.abs(attributions).sum() > 0
