"""A conditional GAN that writes synthetic fraud rows in the table's own columns.

Rows are encoded as the model sees them (numbers standardised with the
training mean and deviation, missing ones at the median; categories one-hot
over the training vocabulary) plus the class as a condition. The generator
emits standardised numbers and, per categorical column, a Gumbel-softmax
over its categories (so its output looks one-hot to the discriminator, as in
CTGAN). Synthetic rows are decoded back to raw values (numbers clipped to
the training range and rounded where the column holds whole numbers,
categories sampled from the generator's probabilities), so the classifier
reads them exactly like real rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TEMPERATURE = 0.5


def encode_rows(frame, schema: dict[str, Any]) -> np.ndarray:
    """Training rows as a float32 matrix: standardised numbers, then one-hot categories (index 0: unknown)."""
    from solutions.tables.columns import categorical_text

    parts = []
    for spec in schema["numeric"]:
        values = frame[spec["name"]].astype("float64").fillna(spec["median"]).to_numpy()
        parts.append(((values - spec["mean"]) / spec["std"]).reshape(-1, 1))
    for spec in schema["categorical"]:
        index = {v: i + 1 for i, v in enumerate(spec["vocabulary"])}
        codes = np.asarray([index.get(v, 0) for v in categorical_text(frame[spec["name"]])])
        parts.append(np.eye(len(spec["vocabulary"]) + 1)[codes])
    return np.hstack(parts).astype(np.float32)


def _widths(schema: dict[str, Any]) -> tuple[int, list[int]]:
    return len(schema["numeric"]), [len(s["vocabulary"]) + 1 for s in schema["categorical"]]


def synthesize_rows(frame, y: np.ndarray, schema: dict[str, Any], n_rows: int, *, label: int = 1, steps: int = 1000,
                    noise_dim: int = 16, batch_size: int = 128, seed: int = 0):
    """`n_rows` synthetic rows of class `label` (a DataFrame with the schema's feature columns).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": np.arange(40.0), "kind": ["a", "b"] * 20})
    >>> schema = {"numeric": [{"name": "amount", "median": 20.0, "mean": 19.5, "std": 11.5, "min": 0.0, "max": 39.0}],
    ...           "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}
    >>> rows = synthesize_rows(frame, np.arange(40) % 2, schema, 5, steps=5)
    >>> rows.shape, set(rows["kind"]) <= {"a", "b"}, bool(rows["amount"].between(0, 39).all())
    ((5, 2), True, True)
    """
    import keras
    import tensorflow as tf
    from keras import layers

    keras.utils.set_random_seed(seed)
    real = encode_rows(frame, schema)
    condition = np.eye(2, dtype=np.float32)[np.asarray(y, dtype=int)]
    n_numeric, cat_widths = _widths(schema)
    width = real.shape[1]

    noise_in, cond_in = keras.Input((noise_dim,)), keras.Input((2,))
    h = layers.Concatenate()([noise_in, cond_in])
    for units in (64, 64):
        h = layers.Dense(units)(h)
        h = layers.LeakyReLU(0.2)(h)
    generator = keras.Model([noise_in, cond_in], layers.Dense(width)(h))
    row_in, cond_in2 = keras.Input((width,)), keras.Input((2,))
    d = layers.Concatenate()([row_in, cond_in2])
    for units in (64, 64):
        d = layers.Dense(units)(d)
        d = layers.LeakyReLU(0.2)(d)
    discriminator = keras.Model([row_in, cond_in2], layers.Dense(1)(d))
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    splits = [n_numeric] + cat_widths

    def activate(raw, hard_seed):
        pieces = tf.split(raw, splits, axis=1) if cat_widths else [raw]
        out = [pieces[0]]
        for logits in pieces[1:]:
            gumbel = -tf.math.log(-tf.math.log(tf.random.uniform(tf.shape(logits), 1e-6, 1.0, seed=hard_seed) + 1e-9))
            out.append(tf.nn.softmax((logits + gumbel) / TEMPERATURE))
        return tf.concat(out, axis=1)

    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    # Fraud rows are rare: draw them as often as legitimate ones so the generator learns their condition.
    weights = np.where(np.asarray(y) == 1, 0.5 / max(1, (np.asarray(y) == 1).sum()), 0.5 / max(1, (np.asarray(y) == 0).sum()))
    rng = np.random.default_rng(seed)

    @tf.function
    def train_step(rows, conds, noise):
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = activate(generator([noise, conds], training=True), seed)
            real_logit = discriminator([rows, conds], training=True)
            fake_logit = discriminator([fake, conds], training=True)
            d_loss = loss(tf.ones_like(real_logit), real_logit) + loss(tf.zeros_like(fake_logit), fake_logit)
            g_loss = loss(tf.ones_like(fake_logit), fake_logit)
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        return d_loss, g_loss

    for _ in range(steps):
        index = rng.choice(len(real), size=batch_size, p=weights / weights.sum())
        noise = rng.standard_normal((batch_size, noise_dim)).astype(np.float32)
        train_step(tf.constant(real[index]), tf.constant(condition[index]), tf.constant(noise))

    noise = rng.standard_normal((n_rows, noise_dim)).astype(np.float32)
    conds = np.tile(np.eye(2, dtype=np.float32)[label], (n_rows, 1))
    raw = generator([noise, conds], training=False).numpy()
    return decode_rows(raw, schema, frame, rng)


def decode_rows(raw: np.ndarray, schema: dict[str, Any], frame, rng: np.random.Generator):
    """Generator outputs back to raw column values (see the module docstring)."""
    import pandas as pd

    n_numeric, cat_widths = _widths(schema)
    columns: dict[str, Any] = {}
    for i, spec in enumerate(schema["numeric"]):
        values = raw[:, i] * spec["std"] + spec["mean"]
        values = np.clip(values, spec.get("min", -np.inf), spec.get("max", np.inf))
        original = frame[spec["name"]].dropna().to_numpy(dtype=float)
        if len(original) and np.all(np.mod(original, 1) == 0):
            values = np.round(values)
        columns[spec["name"]] = values
    start = n_numeric
    for spec, w in zip(schema["categorical"], cat_widths):
        logits = raw[:, start + 1:start + w]  # index 0 is the unknown bucket: never generated
        start += w
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        picks = (probabilities.cumsum(axis=1) < rng.random((len(raw), 1))).sum(axis=1)
        vocabulary = np.asarray(spec["vocabulary"], dtype=object)
        columns[spec["name"]] = vocabulary[np.minimum(picks, len(vocabulary) - 1)]
    return pd.DataFrame(columns)
