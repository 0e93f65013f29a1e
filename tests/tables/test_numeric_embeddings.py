"""Numeric embeddings (tables.numeric_embeddings) against the formulas of Gorishniy et al. (NeurIPS 2022)."""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from solutions.tables.numeric_embeddings import (  # noqa: E402
    PeriodicEmbeddings, PiecewiseLinearEmbeddings, PiecewiseLinearEncoding, compute_quantile_bins, compute_tree_bins,
)


def run(layer, x):
    return np.asarray(layer(np.asarray(x, dtype="float32")))


def ple_by_the_paper(x: float, edges) -> list[float]:
    """Equation 1, written out: 1 below x's bin, the fraction in it, 0 above (x within [b_0, b_T])."""
    out = []
    for t in range(1, len(edges)):
        left, right = edges[t - 1], edges[t]
        out.append(1.0 if x >= right else 0.0 if x < left else (x - left) / (right - left))
    return out


# --- bins -------------------------------------------------------------------------------------
def test_quantile_bins_are_the_unique_training_quantiles_with_nan_ignored():
    x = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 1], [7, 2], [8, 3], [np.nan, np.nan]], float)
    first, second = compute_quantile_bins(x, n_bins=4)
    assert first.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    # the quantiles 0, .25, .5, .75, 1 of [0] * 6 + [1, 2, 3] are 0, 0, 0, 1, 3: the duplicates go
    assert second.tolist() == np.unique(np.quantile([0, 0, 0, 0, 0, 0, 1, 2, 3], np.linspace(0, 1, 5))).tolist()
    assert second.tolist() == [0.0, 1.0, 3.0]


def test_quantile_bins_refuse_a_constant_column_and_too_many_bins():
    with pytest.raises(ValueError, match="single distinct value"):
        compute_quantile_bins(np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]]), 2)
    with pytest.raises(ValueError, match="less than the number"):
        compute_quantile_bins(np.array([[0.0], [1.0], [np.nan]]), 2)


def test_tree_bins_put_an_edge_where_the_target_changes():
    x = np.linspace(0.0, 1.0, 101)[:, None]
    y = (x[:, 0] > 0.305).astype(int)
    (edges,) = compute_tree_bins(x, y, n_bins=2)
    assert edges[0] == 0.0 and edges[-1] == 1.0 and len(edges) == 3
    assert 0.3 < edges[1] < 0.31  # sklearn's threshold: the midpoint between 0.30 and 0.31
    with pytest.raises(ValueError, match="max_leaf_nodes"):
        compute_tree_bins(x, y, 2, tree_kwargs={"max_leaf_nodes": 3})
    (regression_edges,) = compute_tree_bins(x, x[:, 0] ** 2, n_bins=4, regression=True, tree_kwargs={"min_samples_leaf": 5})
    assert len(regression_edges) == 5 and np.all(np.diff(regression_edges) > 0)


# --- piecewise-linear encoding ------------------------------------------------------------------
def test_ple_inside_the_range_is_equation_1():
    edges = [0.0, 1.0, 2.0, 4.0]
    layer = PiecewiseLinearEncoding([edges])
    assert run(layer, [[1.5]]) == pytest.approx(np.array([[1.0, 0.5, 0.0]]))  # inside the 2nd of 3 bins
    xs = np.concatenate([[0.0, 1.0, 2.0, 4.0], np.random.default_rng(0).uniform(0, 4, 20)])
    expected = np.array([ple_by_the_paper(v, edges) for v in xs])
    assert np.allclose(run(layer, xs[:, None]), expected, atol=1e-6)


def test_ple_extrapolates_the_first_and_last_bin_as_rtdl():
    layer = PiecewiseLinearEncoding([[0.0, 1.0, 2.0, 4.0]])
    out = run(layer, [[-1.0], [6.0]])
    assert out[0] == pytest.approx([-1.0, 0.0, 0.0])  # below b_0: the first component goes negative
    assert out[1] == pytest.approx([1.0, 1.0, 2.0])  # above b_T: the last component goes over 1


def test_columns_with_fewer_bins_are_padded_in_the_middle_and_masked_when_flattened():
    bins = [[0.0, 1.0, 2.0, 4.0], [10.0, 20.0], [0.0, 2.0, 4.0]]  # 3, 1 and 2 bins
    x = [[1.5, 25.0, 3.0], [-1.0, 5.0, 5.0]]
    padded = run(PiecewiseLinearEncoding(bins, flatten=False), x)
    assert padded.shape == (2, 3, 3)
    assert np.allclose(padded[0], [[1.0, 0.5, 0.0], [0.0, 0.0, 1.5], [1.0, 0.0, 0.5]], atol=1e-6)
    # one bin: min-max scaling, never clamped; the padded channels stay zero
    assert np.allclose(padded[1], [[-1.0, 0.0, 0.0], [0.0, 0.0, -0.5], [1.0, 0.0, 1.5]], atol=1e-6)
    flat = run(PiecewiseLinearEncoding(bins), x)
    assert flat.shape == (2, 6)
    assert flat[0].tolist() == pytest.approx([1.0, 0.5, 0.0, 1.5, 1.0, 0.5])
    assert flat[1].tolist() == pytest.approx([-1.0, 0.0, 0.0, -0.5, 1.0, 1.5])


def test_ple_checks_bins_and_input_width():
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseLinearEncoding([[0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="at least two"):
        PiecewiseLinearEncoding([[0.0]])
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        PiecewiseLinearEncoding([[0.0, 1.0], [0.0, 1.0]])(np.zeros((1, 3), "float32"))


# --- piecewise-linear embeddings ----------------------------------------------------------------
BINS = [[0.0, 1.0, 2.0, 4.0], [0.0, 2.0]]  # 3 and 1 bins
X = np.array([[1.5, 1.0], [3.0, -2.0]], "float32")


def ple_padded(x):
    return run(PiecewiseLinearEncoding(BINS, flatten=False), x)


def test_ple_embeddings_version_b_start_as_a_linear_embedding_then_add_the_piecewise_part():
    keras.utils.set_random_seed(0)
    layer = PiecewiseLinearEmbeddings(BINS, d_embedding=4)
    assert (layer.version, layer.activation, layer.d_embedding) == ("B", False, 4)
    out = run(layer, X)
    w, b = np.asarray(layer.linear_kernel), np.asarray(layer.linear_bias)
    assert np.asarray(layer.kernel).shape == (2, 3, 4) and not np.asarray(layer.kernel).any()
    assert np.allclose(out, X[..., None] * w + b, atol=1e-6)
    assert np.abs(w).max() <= 0.5 and np.abs(b).max() <= 0.5  # U(+-1/sqrt(d))
    v = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    layer.kernel.assign(v)
    assert np.allclose(run(layer, X), X[..., None] * w + b + np.einsum("bnt,ntd->bnd", ple_padded(X), v), atol=1e-5)


def test_ple_embeddings_relu_acts_on_the_piecewise_part_and_version_a_has_its_own_bias():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(2)
    v = rng.normal(size=(2, 3, 4)).astype("float32")
    layer = PiecewiseLinearEmbeddings(BINS, d_embedding=4, activation=True)
    layer(X)
    layer.kernel.assign(v)
    w, b = np.asarray(layer.linear_kernel), np.asarray(layer.linear_bias)
    piecewise = np.einsum("bnt,ntd->bnd", ple_padded(X), v)
    assert np.allclose(run(layer, X), X[..., None] * w + b + np.maximum(piecewise, 0), atol=1e-5)

    layer_a = PiecewiseLinearEmbeddings(BINS, d_embedding=4, version="A")
    layer_a(X)
    assert layer_a.linear_kernel is None and np.asarray(layer_a.bias).shape == (2, 4)
    c = rng.normal(size=(2, 4)).astype("float32")
    layer_a.kernel.assign(v)
    layer_a.bias.assign(c)
    assert np.allclose(run(layer_a, X), piecewise + c, atol=1e-5)


# --- periodic embeddings ------------------------------------------------------------------------
def test_periodic_defaults_are_rtdls():
    layer = PeriodicEmbeddings()
    assert (layer.d_embedding, layer.n_frequencies, layer.frequency_init_scale, layer.activation, layer.lite) == (
        24, 48, 0.01, True, False)
    assert run(layer, np.zeros((2, 3))).shape == (2, 3, 24)
    with pytest.raises(ValueError, match="lite"):
        PeriodicEmbeddings(activation=False, lite=True)


def test_frequencies_start_as_a_normal_truncated_at_three_sigma():
    keras.utils.set_random_seed(0)
    layer = PeriodicEmbeddings(d_embedding=2, n_frequencies=4000, frequency_init_scale=0.5)
    layer.build((None, 2))
    c = np.asarray(layer.frequencies)
    assert c.shape == (2, 4000) and np.abs(c).max() <= 1.5
    assert abs(c.std() - 0.5 * 0.9866) < 0.02 and abs(c.mean()) < 0.03  # std of N(0, 1) cut at 3: 0.9866


@pytest.mark.parametrize("lite", [False, True])
def test_plr_is_relu_of_cos_sin_of_2_pi_c_x_through_the_linear_layer(lite):
    rng = np.random.default_rng(3)
    n, k, d = 3, 2, 5
    x = rng.normal(size=(4, n)).astype("float32")
    layer = PeriodicEmbeddings(d_embedding=d, n_frequencies=k, lite=lite)
    layer(x)
    c = rng.normal(size=(n, k)).astype("float32")
    w = rng.normal(size=(2 * k, d) if lite else (n, 2 * k, d)).astype("float32")
    b = rng.normal(size=(d,) if lite else (n, d)).astype("float32")
    layer.frequencies.assign(c)
    layer.kernel.assign(w)
    layer.bias.assign(b)
    expected = np.zeros((4, n, d))
    for row in range(4):
        for j in range(n):
            v = np.concatenate([np.cos(2 * math.pi * c[j] * x[row, j]), np.sin(2 * math.pi * c[j] * x[row, j])])
            expected[row, j] = np.maximum(v @ (w if lite else w[j]) + (b if lite else b[j]), 0)
    assert np.allclose(run(layer, x), expected, atol=1e-5)


def test_pl_without_activation_can_be_negative():
    keras.utils.set_random_seed(0)
    out = run(PeriodicEmbeddings(d_embedding=8, n_frequencies=4, activation=False), np.ones((3, 2)))
    assert (out < 0).any()


# --- saving -------------------------------------------------------------------------------------
def test_every_layer_round_trips_with_safe_mode(tmp_path):
    keras.utils.set_random_seed(0)
    bins = [[0.0, 1.0, 2.0, 4.0], [0.0, 2.0], [-1.0, 0.0, 1.0]]
    inputs = keras.Input((3,))
    parts = [keras.layers.Flatten()(PiecewiseLinearEncoding(bins)(inputs)),
             keras.layers.Flatten()(PiecewiseLinearEncoding(bins, flatten=False)(inputs)),
             keras.layers.Flatten()(PiecewiseLinearEmbeddings(bins, d_embedding=3, activation=True)(inputs)),
             keras.layers.Flatten()(PiecewiseLinearEmbeddings(bins, d_embedding=2, version="A")(inputs)),
             keras.layers.Flatten()(PeriodicEmbeddings(d_embedding=3, n_frequencies=2, frequency_init_scale=0.5)(inputs)),
             keras.layers.Flatten()(PeriodicEmbeddings(d_embedding=2, n_frequencies=3, lite=True)(inputs))]
    model = keras.Model(inputs, keras.layers.Concatenate()(parts))
    x = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)  # registered: no custom_objects needed
    assert np.array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.layers[1].get_config()["bins"] == bins
