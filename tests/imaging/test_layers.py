"""RandomAffine: one resampling, off at inference, serialisable with safe_mode on."""

from __future__ import annotations

import numpy as np

from solutions.imaging.layers import RandomAffine, RandomImageContrast, image_custom_objects


def images():
    return np.random.default_rng(0).uniform(0, 255, (8, 16, 16, 1)).astype("float32")


def test_identity_at_inference_and_when_probability_is_zero():
    x = images()
    assert np.array_equal(np.asarray(RandomAffine(20, 0.2, 0.2, seed=0)(x)), x)
    assert np.array_equal(np.asarray(RandomAffine(20, 0.2, 0.2, probability=0.0, seed=0)(x, training=True)), x)


def test_training_moves_pixels_and_keeps_the_value_range():
    x = images()
    y = np.asarray(RandomAffine(20, 0.2, 0.2, seed=0)(x, training=True))
    assert y.shape == x.shape and not np.allclose(y, x)
    assert y.min() >= 0 and y.max() <= 255


def test_saved_model_with_the_layer_loads_with_safe_mode(tmp_path):
    import keras

    inputs = keras.Input((16, 16, 1))
    model = keras.Model(inputs, RandomAffine(10, 0.1, 0.05, probability=0.5)(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True, custom_objects=image_custom_objects())
    layer = loaded.layers[-1]
    assert (layer.rotation, layer.shift, layer.zoom, layer.probability) == (10.0, 0.1, 0.05, 0.5)
    assert np.array_equal(np.asarray(loaded(images())), images())


def test_flips_are_exact_mirror_images():
    x = images()
    flipped = np.asarray(RandomAffine(flip="horizontal", seed=3)(x, training=True))
    for original, out in zip(x, flipped):
        assert np.array_equal(out, original) or np.allclose(out, original[:, ::-1], atol=1e-4)
    assert any(not np.array_equal(out, original) for original, out in zip(x, flipped))


def test_contrast_keeps_each_image_mean_and_range():
    x = images()
    y = np.asarray(RandomImageContrast(0.5, seed=0)(x, training=True))
    assert np.allclose(y.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=2.0) and y.min() >= 0 and y.max() <= 255
    assert not np.allclose(y, x)
