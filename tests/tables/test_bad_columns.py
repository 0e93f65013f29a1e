"""Bad columns and numbers of tables, and bad TabM keys: each named, with what was received and the fix.

Columns with nothing to learn (one value, or none) are left out with a note and a warning; numbers a
float32 model cannot take (inf, |x| > 3.4e38) stop training and `--row` (exit 2) and are skipped,
each named, in a prediction file. One tiny fraud run (1 epoch) serves the command-line tests.
"""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from solutions.core.errors import ConfigError, DataError
from solutions.tables.columns import feature_schema, infer_layout, unusable_columns
from solutions.tables.inputs import frame_to_inputs, record_to_inputs, rows_in_range
from tests.tables.conftest import table


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def transactions(n=300, seed=4):
    from solutions.fraud_detection.data import make_transactions

    return make_transactions(n=n, fraud_rate=0.1, seed=seed)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A fraud run trained on a table with a constant column ("flat") and an empty one ("blank")."""
    folder = tmp_path_factory.mktemp("bad_columns")
    frame = transactions().assign(flat=7, blank=np.nan)
    frame.to_csv(folder / "train.csv", index=False)
    assert main(["--quiet", "train", "fraud_detection", "--data", str(folder / "train.csv"), "--label", "is_fraud",
                 "--recipe", "quick", "--set", "epochs=1", "--out", str(folder / "run")]) == 0
    return folder / "run"


@pytest.fixture
def new_rows(tmp_path):
    return transactions(n=20, seed=9).drop(columns=["is_fraud"]).head(12)


# ------------------------------------------------------------ columns with nothing to learn
def test_constant_and_empty_columns_are_left_out_with_a_note(run):
    schema = json.loads((run / "schema.json").read_text())
    numeric = {c["name"]: c for c in schema["numeric"]}
    assert "flat" not in numeric and "blank" not in numeric
    assert {d["name"]: d["why"] for d in schema["dropped_columns"]} == {
        "flat": "has the same value (7) in every row of the data", "blank": "is entirely missing in the data"}
    assert numeric["amount"]["missing"] is True  # a partly missing column is still imputed, with its indicator
    data = next(s for s in json.loads((run / "report.json").read_text())["sections"] if s["title"] == "Data")
    text = json.dumps(data)
    assert "flat has the same value (7) in every row of the data: left out of the features" in text
    assert "blank is entirely missing in the data: left out of the features" in text


def test_prediction_accepts_the_left_out_columns_and_ignores_them(run, new_rows, tmp_path, capsys):
    with_them, without = tmp_path / "with.csv", tmp_path / "without.csv"
    new_rows.assign(flat=99, blank=3.0).to_csv(with_them, index=False)
    new_rows.to_csv(without, index=False)
    scores = []
    for path in (with_them, without):
        code, _, err = cli(capsys, "--quiet", "predict", str(run), "--data", str(path), "--out", str(path) + ".out")
        assert code == 0, err
        scores.append(pd.read_csv(str(path) + ".out")["score"])
    pd.testing.assert_series_equal(*scores)
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in new_rows.iloc[0].items()}
    assert cli(capsys, "predict", str(run), "--row", json.dumps({**record, "flat": 1}))[0] == 0


def test_constant_and_empty_columns_warn_and_note(caplog):
    frame = table().assign(flat=3.5, blank=None, flag=[1.0, None] * 20)
    with caplog.at_level(logging.WARNING):
        layout = infer_layout(frame, label="label", where="claims.csv")
    assert layout.numeric == ("amount", "flag") and layout.categorical == ("kind",)  # flag: its missing cells tell
    assert dict(layout.dropped) == {"flat": "has the same value (3.5) in every row of the data",
                                    "blank": "is entirely missing in the data"}
    assert any(note.startswith("flat has the same value (3.5)") for note in layout.notes)
    assert "ksol: warning: claims.csv: column 'flat' has the same value (3.5) in every row of the data, so it is " \
           "not used as a feature" in caplog.text
    assert "column 'blank' is entirely missing" in caplog.text


def test_no_feature_left_is_an_error_naming_the_columns():
    frame = pd.DataFrame({"flat": [1] * 30, "blank": [None] * 30, "label": [0, 1] * 15})
    with pytest.raises(DataError, match="claims.csv has no feature columns left .* 'flat' has the same value \\(1\\) in "
                                        "every row of the data; 'blank' is entirely missing in the data. Add columns"):
        infer_layout(frame, label="label", where="claims.csv")


def test_a_column_constant_only_in_the_training_split_is_left_out_there(caplog):
    from solutions.core.datasets import DataSource
    from solutions.fraud_detection import FraudDetectionSolution

    frame = transactions(n=600, seed=2)
    frame["promo"] = np.where(frame["day"] < 25, 0.0, np.arange(len(frame)) % 5)  # varies only after day 25
    frame["late"] = np.where(frame["day"] < 25, np.nan, 1.0 + np.arange(len(frame)) % 3)  # missing before day 25
    solution = FraudDetectionSolution(recipe="quick", test_start="25")
    recipe = solution.resolve_recipe()
    source = DataSource(spec="t.csv", name="t", config={"label": "is_fraud", "time": "day"})
    solution.read_frame = lambda source, recipe: frame
    with caplog.at_level(logging.WARNING):
        splits = solution.split(solution.load_examples(source, recipe, None), recipe)
    schema = solution.make_schema(splits, recipe)
    names = [c["name"] for c in schema["numeric"]]
    assert "promo" not in names and "late" not in names and "amount" in names
    assert "promo has the same value (0) in every row of the training split: left out of the features" \
           in " ".join(splits.notes)
    assert "late is entirely missing in the training split" in " ".join(splits.notes)
    assert "late" not in splits.found["missing"]
    assert "column 'promo' has the same value (0) in every row of the training split" in caplog.text


def test_an_entirely_missing_label_exits_2(tmp_path, capsys):
    transactions().assign(is_fraud=np.nan).to_csv(tmp_path / "t.csv", index=False)
    code, _, err = cli(capsys, "train", "fraud_detection", "--data", str(tmp_path / "t.csv"), "--label", "is_fraud",
                       "--recipe", "quick", "--out", str(tmp_path / "run"))
    assert code == 2 and "has no rows with a label in column 'is_fraud': it is missing in every row (300 rows)" in err
    assert "Traceback" not in err


# ------------------------------------------------------------ numbers beyond float32
@pytest.mark.parametrize("cell, shown", [("inf", "inf"), ("-1e39", "-1e+39"), ("1e400", "inf")])
def test_training_on_numbers_float32_cannot_hold_exits_2_naming_them(tmp_path, capsys, cell, shown):
    frame = transactions().astype({"amount": object})
    frame.loc[[4, 9], "amount"] = cell
    frame.to_csv(tmp_path / "t.csv", index=False)
    code, _, err = cli(capsys, "train", "fraud_detection", "--data", str(tmp_path / "t.csv"), "--label", "is_fraud",
                       "--recipe", "quick", "--out", str(tmp_path / "run"))
    ids = frame["transaction_id"]
    assert code == 2 and "Traceback" not in err
    assert (f"numeric column 'amount' holds numbers the model cannot take in 2 rows ({ids[4]}, {ids[9]}), the first "
            f"{shown}: it computes in float32, which holds finite numbers up to |x| = 3.4e+38. Fix or blank") in err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_a_spread_too_wide_for_float32_is_an_error():
    frame = table().assign(amount=np.linspace(-3e38, 3e38, 40))
    with pytest.raises(DataError, match="numeric column 'amount' spreads too widely .*standard deviation 1.7[0-9]e\\+38"):
        feature_schema(frame, infer_layout(frame, label="label"))


def test_a_prediction_file_skips_the_rows_float32_cannot_hold_naming_each(run, new_rows, tmp_path, capsys):
    rows = new_rows.astype({"amount": object, "account_age_days": object})
    rows.loc[2, "amount"], rows.loc[5, "account_age_days"] = "inf", "-2e39"
    rows.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = cli(capsys, "--json", "predict", str(run), "--data", str(tmp_path / "new.csv"),
                         "--out", str(tmp_path / "p.csv"))
    assert code == 0, err
    summary = json.loads(out)
    ids = rows["transaction_id"]
    assert summary["rows"] == 10 and summary["skipped"] == [
        [ids[2], "numeric column 'amount' is inf, which the model cannot take (it computes in float32, which holds "
                 "finite numbers up to |x| = 3.4e+38): fix or blank the cell"],
        [ids[5], "numeric column 'account_age_days' is -2e+39, which the model cannot take (it computes in float32, "
                 "which holds finite numbers up to |x| = 3.4e+38): fix or blank the cell"]]
    assert "ksol: skipped 2 unreadable inputs" in err
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert list(predicted["transaction_id"]) == [i for k, i in enumerate(ids) if k not in (2, 5)]
    assert np.isfinite(predicted["score"]).all()


def test_a_prediction_file_of_bad_rows_only_exits_2_and_keeps_the_old_output(run, new_rows, tmp_path, capsys):
    new_rows.assign(amount=np.inf).to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "p.csv").write_text("earlier predictions\n")
    code, _, err = cli(capsys, "predict", str(run), "--data", str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "No readable inputs" in err and "numeric column 'amount' is inf" in err
    assert (tmp_path / "p.csv").read_text() == "earlier predictions\n"


@pytest.mark.parametrize("value, shown", [("Infinity", "inf"), ("-1e39", "-1e+39"), ('"inf"', "'inf'"),
                                          ("1" + "0" * 400, "1000")])
def test_one_row_with_a_number_float32_cannot_hold_exits_2(run, new_rows, capsys, value, shown):
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in new_rows.iloc[0].items()}
    text = json.dumps(record).replace(f'"amount": {json.dumps(record["amount"])}', f'"amount": {value}')
    assert value in text
    code, _, err = cli(capsys, "predict", str(run), "--row", text)
    assert code == 2 and "Traceback" not in err
    assert f"The row: numeric column 'amount' is {shown}" in err
    assert "which the model cannot take: it computes in float32" in err and "Pass a finite number there" in err


def test_inputs_refuse_numbers_float32_cannot_hold():
    frame = table()
    schema = feature_schema(frame, infer_layout(frame, label="label"))
    bad = frame.assign(amount=frame["amount"].where(frame.index != 3, np.inf))
    with pytest.raises(DataError, match="rows: numeric column 'amount' holds numbers the model cannot take in 1 row "
                                        "\\(row 4\\), the first inf"):
        frame_to_inputs(bad, schema, "rows")
    kept, ids, failures = rows_in_range(bad, [f"r{i}" for i in range(40)], schema, "rows")
    assert len(kept) == 39 and "r3" not in ids and failures[0][0] == "r3" and "'amount' is inf" in failures[0][1]
    assert rows_in_range(frame, list(range(40)), schema, "rows")[2] == ()
    for value in (float("inf"), -1e39, "1e999", 10**400):
        with pytest.raises(DataError, match="numeric column 'amount' is .*which the model cannot take"):
            record_to_inputs({"amount": value, "kind": "a"}, schema)
    assert np.isnan(record_to_inputs({"amount": float("nan"), "kind": "a"}, schema)["amount"][0, 0])  # missing
    assert record_to_inputs({"amount": 3.4e38, "kind": "a"}, schema)["amount"][0, 0] == np.float32(3.4e38)


def test_unusable_columns_keep_a_single_value_with_missing_cells_and_an_infinite_one():
    frame = pd.DataFrame({"flag": [1.0, None, 1.0], "inf": [np.inf] * 3, "text": ["a"] * 3, "x": [1, 2, 3]})
    assert unusable_columns(frame, frame.columns) == {}
    assert unusable_columns(frame.assign(x=5), ["x"], categorical=("x",)) == {}


# ------------------------------------------------------------ TabM keys
@pytest.mark.parametrize("options, message", [
    ({"network": "tabm", "tabm_k": 0}, "Recipe key `tabm_k` must be an integer from 1 to 64 (the number of TabM "
                                       "members). Received: tabm_k=0."),
    ({"network": "tabm", "tabm_k": 65}, "Received: tabm_k=65."),
    ({"network": "tabm", "tabm_width": 0}, "Recipe key `tabm_width` must be an integer >= 1 (the width of each TabM "
                                           "block). Received: tabm_width=0."),
    ({"network": "tabm", "tabm_blocks": -1}, "Recipe key `tabm_blocks` must be an integer >= 1 (the number of TabM "
                                             "blocks). Received: tabm_blocks=-1."),
    ({"network": "tabm", "members": 3}, "Recipe key `members` must be 1 with network=tabm"),
])
def test_tabm_keys_out_of_range_name_the_key(options, message):
    from solutions.credit_scoring import CreditScoringSolution
    from solutions.fraud_detection import FraudDetectionSolution

    for solution in (FraudDetectionSolution, CreditScoringSolution):
        with pytest.raises(ConfigError) as error:
            solution(recipe="quick", **options).resolve_recipe()
        assert message in str(error.value)
    assert FraudDetectionSolution(recipe="quick", network="tabm", tabm_k=1).resolve_recipe().tabm_k == 1  # tabm: k >= 1


def test_a_tabm_key_out_of_range_exits_2_on_the_command_line(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "fraud_detection", "--data", "transactions", "--recipe", "quick", "--set", "network=tabm",
                       "--set", "tabm_k=0", "--out", str(tmp_path / "run"))
    assert code == 2 and "config error: Recipe key `tabm_k` must be an integer from 1 to 64" in err
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
