import pandas as pd
import pytest

from solutions.core.errors import DataError
from solutions.credit_scoring.data import GERMAN_CODEBOOK, load_german_credit, make_applicants

ROWS = ["A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1",
        "A12 48 A32 A43 5951 A61 A73 2 A92 A101 2 A121 22 A143 A152 1 A173 1 A191 A201 2"]


def write(tmp_path, rows):
    path = tmp_path / "german.data"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_german_file_loads_with_readable_names_meanings_and_target(tmp_path):
    frame = load_german_credit(write(tmp_path, ROWS))
    assert list(frame.columns) == [name for name, _ in GERMAN_CODEBOOK] + ["credit_risk"]
    assert frame["checking_account"].tolist() == ["< 0 DM", "0 to 200 DM"]
    assert frame["credit_amount"].tolist() == [1169, 5951]
    assert frame["credit_risk"].tolist() == ["good", "bad"]


@pytest.mark.parametrize("row, message", [
    (ROWS[0].replace("A43", "A499"), "attribute 4 \\(purpose\\) has the code 'A499' in row 2"),
    (ROWS[0].replace(" 1169 ", " lots "), "attribute 5 \\(credit_amount\\) must be a number"),
    (ROWS[0][:-2] + " 3", "the class in row 2 is '3'"),
    (" ".join(ROWS[0].split()[:-1]), "has 20 fields per row"),
])
def test_bad_german_rows_are_errors_naming_what_is_wrong(tmp_path, row, message):
    with pytest.raises(DataError, match=message):
        load_german_credit(write(tmp_path, [ROWS[1], row]) if "fields" not in message else write(tmp_path, [row]))


def test_sample_is_seeded():
    pd.testing.assert_frame_equal(make_applicants(n=100, seed=2), make_applicants(n=100, seed=2))
