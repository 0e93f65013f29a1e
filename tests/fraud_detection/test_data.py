import numpy as np
import pandas as pd
import pytest

from solutions.core.datasets import DataSource, resolve_data
from solutions.core.errors import DataError
from solutions.fraud_detection import FraudDetectionSolution
from solutions.fraud_detection.solution import gan_rows_wanted
from solutions.fraud_detection.data import make_transactions
from solutions.fraud_detection.gan import synthesize_rows


def test_generator_is_seeded_and_has_blanks():
    a, b = make_transactions(n=300, seed=3), make_transactions(n=300, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["amount"].isna().any() and not a["is_fraud"].isna().any()


def loaded(source, **recipe):
    solution = FraudDetectionSolution(recipe="quick", **recipe)
    r = solution.resolve_recipe()
    examples = solution.load_examples(source, r, None)
    splits = solution.split(examples, r)
    return solution, r, splits, solution.make_schema(splits, r)


def test_credit_card_layout_needs_no_options(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"Time": np.sort(rng.random(n) * 1000), **{f"V{i}": rng.normal(size=n) for i in range(1, 29)},
                          "Amount": np.round(rng.lognormal(3, 1, n), 2), "Class": (rng.random(n) < 0.08).astype(int)})
    frame.to_csv(tmp_path / "creditcard.csv", index=False)
    _, _, splits, schema = loaded(resolve_data(str(tmp_path / "creditcard.csv")))
    assert schema["label"] == "Class" and schema["positive"] == "1"
    assert [c["name"] for c in schema["numeric"]] == ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
    assert splits.class_names == ("0", "1")


def test_time_column_gives_an_out_of_time_split_and_identifiers_stay_out():
    frame = make_transactions(n=600, fraud_rate=0.1, seed=2)
    source = DataSource(spec="t", name="t", config={"generator": {"name": "transactions", "n": 600, "fraud_rate": 0.1,
                                                                   "seed": 2}, "label": "is_fraud", "time": "day",
                                                     "options": {"test_start": 25}})
    _, _, splits, schema = loaded(source)
    assert splits.test.x["day"].min() >= 25 and splits.train.x["day"].max() <= splits.val.x["day"].min()
    assert "day" not in [c["name"] for c in schema["numeric"]] and "transaction_id" in schema["ids"]
    assert len(splits.test) == int((frame["day"] >= 25).sum())


def test_no_positive_rows_in_the_training_split_is_an_error(tmp_path):
    frame = make_transactions(n=400, fraud_rate=0.1, seed=0)
    frame.loc[frame["day"] < 25, "is_fraud"] = 0  # frauds only in the test period
    frame.to_csv(tmp_path / "late.csv", index=False)
    source = resolve_data(str(tmp_path / "late.csv"), label="is_fraud", time="day")
    with pytest.raises(DataError, match="training split has no positive rows \\(label 'is_fraud' = '1'\\)"):
        loaded(source, test_start="25")


def test_oversampling_and_gan_fill_the_epoch_with_frauds():
    source = resolve_data("transactions")
    for imbalance in ("oversample", "gan"):
        solution, r, splits, schema = loaded(source, imbalance=imbalance, gan_steps=5)
        labels = np.concatenate([y.numpy() for _, y in solution.make_dataset(splits.train, schema, r, training=True)])
        assert len(labels) == len(splits.train)
        assert 0.2 < labels.mean() < 0.4  # oversample_ratio 0.3, against about 5% in the data
    wanted = gan_rows_wanted(splits.train.y, r)
    assert wanted == int(0.3 / 0.7 * (splits.train.y == 0).sum()) - int(splits.train.y.sum()) > 0
    _, notes = solution.extend_model(None, splits, schema, r, trainer=None)  # detector="mlp": notes only, no training
    assert notes["synthetic fraud rows (conditional GAN)"] == wanted and notes["real fraud rows"] == int(splits.train.y.sum())


def test_synthetic_rows_use_known_categories_and_the_training_range():
    frame = make_transactions(n=400, seed=1)
    _, _, splits, schema = loaded(resolve_data("transactions"))
    rows = synthesize_rows(splits.train.x, splits.train.y, schema, 50, steps=5)
    for spec in schema["categorical"]:
        assert set(rows[spec["name"]]) <= set(spec["vocabulary"])
    for spec in schema["numeric"]:
        assert rows[spec["name"]].between(spec["min"], spec["max"]).all()
    assert (rows["hour"] % 1 == 0).all()  # whole-number columns stay whole
    assert frame is not None
