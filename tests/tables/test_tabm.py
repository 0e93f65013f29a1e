"""TabM building blocks (tables.tabm) against BatchEnsemble's formula and the tabm package's initialisation."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from solutions.tables.tabm import (  # noqa: E402
    ARCH_TYPES, ElementwiseAffine, EnsembleView, LinearBatchEnsemble, LinearEnsemble, build_tabm_head,
    scaling_initializer, tabm_defaults, tabm_layers,
)

K, D_IN, UNITS = 3, 4, 5


def members_input(batch=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, K, D_IN)).astype("float32")


def built_batch_ensemble(**kwargs):
    layer = LinearBatchEnsemble(UNITS, K, **kwargs)
    layer.build((None, K, D_IN))
    return layer


def test_ensemble_view_copies_rows_and_passes_k_batches():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    out = np.asarray(EnsembleView(4)(x))
    assert out.shape == (2, 4, 3) and all(np.array_equal(out[:, i], x) for i in range(4))
    three = members_input()
    assert np.array_equal(np.asarray(EnsembleView(K)(three)), three)
    with pytest.raises(ValueError, match="members"):
        EnsembleView(K + 1)(three)


def test_batch_ensemble_with_unit_adapters_and_equal_biases_is_the_shared_dense_layer():
    keras.utils.set_random_seed(0)
    layer = built_batch_ensemble(scaling_init="ones")
    w = np.asarray(layer.kernel)
    bias = np.random.default_rng(1).normal(size=UNITS).astype("float32")
    layer.bias.assign(np.tile(bias, (K, 1)))
    dense = keras.layers.Dense(UNITS)
    dense.build((None, D_IN))
    dense.set_weights([w, bias])
    x = members_input()
    out = np.asarray(layer(x))
    for i in range(K):
        assert np.allclose(out[:, i], np.asarray(dense(x[:, i])), atol=1e-6)


def test_batch_ensemble_is_s_times_w_of_r_times_x_plus_b_and_members_differ():
    keras.utils.set_random_seed(0)
    layer = built_batch_ensemble()
    rng = np.random.default_rng(2)
    r, s, b = (rng.normal(size=v.shape).astype("float32") for v in (layer.r, layer.s, layer.bias))
    layer.r.assign(r)
    layer.s.assign(s)
    layer.bias.assign(b)
    w = np.asarray(layer.kernel)
    same_row = np.repeat(rng.normal(size=(2, 1, D_IN)).astype("float32"), K, axis=1)  # k identical copies
    out = np.asarray(layer(same_row))
    expected = np.stack([s[i] * ((r[i] * same_row[:, i]) @ w) + b[i] for i in range(K)], axis=1)
    assert np.allclose(out, expected, atol=1e-5)
    assert not np.allclose(out[:, 0], out[:, 1]) and not np.allclose(out[:, 1], out[:, 2])


def test_linear_ensemble_is_k_independent_dense_layers():
    keras.utils.set_random_seed(0)
    layer = LinearEnsemble(UNITS, K)
    x = members_input()
    out = np.asarray(layer(x))
    w, b = np.asarray(layer.kernel), np.asarray(layer.bias)
    assert w.shape == (K, D_IN, UNITS) and np.abs(w).max() <= D_IN**-0.5 and np.abs(b).max() <= D_IN**-0.5
    assert np.allclose(out, np.stack([x[:, i] @ w[i] + b[i] for i in range(K)], axis=1), atol=1e-5)


def test_tabm_initialisation_follows_the_tabm_package():
    keras.utils.set_random_seed(0)
    first = built_batch_ensemble(scaling_init=("random-signs", "ones"), first_scaling_init_chunks=[1, 3])
    r = np.asarray(first.r)
    assert set(np.unique(r)) <= {-1.0, 1.0} and np.all(np.asarray(first.s) == 1)
    assert np.all(r[:, 1:] == r[:, 1:2])  # one value per chunk (feature) and member
    bias = np.asarray(first.bias)
    assert np.all(bias == bias[0]) and np.abs(bias).max() <= D_IN**-0.5  # k biases start equal
    assert np.abs(np.asarray(first.kernel)).max() <= D_IN**-0.5

    normal = np.asarray(scaling_initializer("normal")((400, 50)))
    assert abs(normal.std() - 1.0) < 0.03 and len(np.unique(normal)) > 1000
    with pytest.raises(ValueError, match="sum to the input width"):
        built_batch_ensemble(first_scaling_init_chunks=[1, 1])
    with pytest.raises(ValueError, match="scaling init"):
        LinearBatchEnsemble(UNITS, K, scaling_init="uniform")

    assert tabm_defaults() == {"k": 32, "n_blocks": 3, "d_block": 512, "dropout": 0.1, "arch_type": "tabm",
                               "start_scaling_init": "random-signs"}
    assert tabm_defaults(True)["n_blocks"] == 2 and tabm_defaults(True)["start_scaling_init"] == "normal"


def test_tabm_puts_random_adapters_only_on_the_first_layer():
    keras.utils.set_random_seed(0)
    stack = tabm_layers(D_IN, 2, k=K, n_blocks=3, d_block=6, dropout=0.0, start_scaling_init_chunks=[2, 2])
    x = np.asarray(stack[0](np.zeros((1, D_IN), "float32")))
    for layer in stack[1:]:
        x = layer(x)
    ensembles = [layer for layer in stack if isinstance(layer, LinearBatchEnsemble)]
    assert len(ensembles) == 3 and [layer.k for layer in stack if hasattr(layer, "k")] == [K] * 5
    assert ensembles[0].scaling_init == ("random-signs", "ones") and ensembles[0].first_scaling_init_chunks == [2, 2]
    for later in ensembles[1:]:
        assert later.scaling_init == ("ones", "ones") and np.all(np.asarray(later.r) == 1) and np.all(np.asarray(later.s) == 1)
    assert isinstance(stack[-1], LinearEnsemble) and stack[-1].units == 2
    assert LinearBatchEnsemble(4).k == 32 and EnsembleView().k == 32


def test_tabm_mini_has_one_adapter_then_shared_dense_layers():
    keras.utils.set_random_seed(0)
    stack = tabm_layers(D_IN, k=K, n_blocks=2, d_block=6, dropout=0.0, arch_type="tabm-mini",
                        start_scaling_init="normal", start_scaling_init_chunks=[1, 3])
    kinds = [type(layer).__name__ for layer in stack]
    assert kinds == ["EnsembleView", "ElementwiseAffine", "Dense", "ReLU", "Dense", "ReLU", "LinearEnsemble"]
    affine = stack[1]
    affine.build((None, K, D_IN))
    scale = np.asarray(affine.scale)
    assert affine.bias is None and np.all(scale[:, 1:] == scale[:, 1:2]) and len(np.unique(scale[:, 0])) == K


def test_elementwise_affine_is_a_per_member_scale_and_shift():
    layer = ElementwiseAffine(K, use_bias=True)
    x = members_input()
    layer(x)
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(K, D_IN)).astype("float32"), rng.normal(size=(K, D_IN)).astype("float32")
    layer.scale.assign(w)
    layer.bias.assign(b)
    assert np.allclose(np.asarray(layer(x)), x * w + b, atol=1e-6)


@pytest.mark.parametrize("arch_type", ARCH_TYPES)
def test_member_outputs_depend_on_their_own_input_copy_only(arch_type):
    keras.utils.set_random_seed(0)
    stack = tabm_layers(D_IN, 2, k=K, n_blocks=2, d_block=8, dropout=0.1, arch_type=arch_type,
                        start_scaling_init="normal")
    x = tf.constant(members_input(batch=2, seed=6))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for layer in stack:
            y = layer(y, training=False) if isinstance(layer, keras.layers.Dropout) else layer(y)
    jacobian = tape.jacobian(y, x).numpy()  # (batch, k, out, batch, k, d_in)
    assert y.shape == (2, K, 2)
    for i in range(K):
        for j in range(K):
            block = jacobian[:, i, :, :, j, :]
            if i != j:
                assert np.all(block == 0), (i, j)
            else:
                assert np.abs(block).max() > 0


def test_build_tabm_head_gives_k_predictions_per_row():
    keras.utils.set_random_seed(0)
    head = build_tabm_head(D_IN, 3, k=K, n_blocks=1, d_block=8)
    assert head.name == "head" and tuple(head.output.shape) == (None, K, 3)
    out = np.asarray(head(np.ones((2, D_IN), "float32")))
    assert out.shape == (2, K, 3) and not np.allclose(out[:, 0], out[:, 1])  # the random signs diversify members


@pytest.mark.parametrize("arch_type", ARCH_TYPES)
def test_head_round_trips_with_safe_mode(arch_type, tmp_path):
    keras.utils.set_random_seed(0)
    head = build_tabm_head(D_IN, 2, k=K, n_blocks=2, d_block=8, arch_type=arch_type,
                           start_scaling_init_chunks=None if arch_type == "tabm-packed" else [1, 3])
    x = np.random.default_rng(7).normal(size=(4, D_IN)).astype("float32")
    head.save(tmp_path / "head.keras")
    loaded = keras.saving.load_model(tmp_path / "head.keras", safe_mode=True)  # registered: no custom_objects needed
    assert np.array_equal(np.asarray(loaded(x)), np.asarray(head(x)))
    config = loaded.get_layer("head_block_1_linear").get_config()
    assert config["units"] == 8
    if arch_type == "tabm":
        assert config["scaling_init"] == ["random-signs", "ones"] and config["first_scaling_init_chunks"] == [1, 3]
