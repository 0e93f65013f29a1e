"""A corrupt image among good ones: skipped, said on stderr during `ksol train`, and named in the report."""

from __future__ import annotations

import json
import shutil

from solutions.cli import main


def test_training_names_the_skipped_image_on_stderr_and_in_the_report(shapes_folder, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(shapes_folder, data)
    (data / "circle" / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x13\x37" * 50 + b"\xff\xd9")  # JPEG markers, no image
    out = tmp_path / "run"
    code = main(["--quiet", "--json", "train", "image_classification", "--data", str(data), "--recipe", "quick",
                 "--set", "epochs=1", "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    lines = [line for line in err.splitlines() if "skipped" in line]
    assert lines == ["ksol: skipped 1 unreadable image: circle/bad.jpg (not a decodable image); "
                     "see the report's Data section."]
    assert "WARN" not in err and "ERROR" not in err  # OpenCV's own lines stay off stderr
    assert json.loads(printed)["dropped"]["examples"] == [["circle/bad.jpg", "unreadable image: not a decodable image"]]
    report = json.loads((out / "report.json").read_text())
    data_section = next(s for s in report["sections"] if s["title"] == "Data")
    assert "1 input was dropped: circle/bad.jpg (unreadable image: not a decodable image)" in data_section["note"]
    assert "circle/bad.jpg" in (out / "report.md").read_text()
