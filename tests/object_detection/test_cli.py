"""The object-detection command line: train on a VOC folder, predict a folder of images, and bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from solutions.cli import main
from tests.object_detection.conftest import voc_xml, write_voc, write_yolo


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def voc_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("od_cli")
    folder = write_voc(root / "voc", n_images=16, size=64, seed=2, splits=(10, 3, 3))
    out = root / "run"
    assert main(["--quiet", "train", "object_detection", "--data", str(folder), "--recipe", "quick",
                 "--set", "epochs=2", "--set", "image_size=[64,64]", "--out", str(out)]) == 0
    return folder, out


def test_predict_writes_csv_json_and_annotated_images(voc_run, tmp_path, capsys):
    folder, run_dir = voc_run
    code, out, _ = run(capsys, "--json", "predict", str(run_dir), "--data", str(folder / "JPEGImages"),
                       "--out", str(tmp_path / "boxes.csv"), "--threshold", "0")
    assert code == 0
    summary = json.loads(out)
    assert summary["images"] == 16 and summary["threshold"] == 0.0
    lines = (tmp_path / "boxes.csv").read_text().splitlines()
    assert lines[0] == "file,class,score,x1,y1,x2,y2" and len(lines) == summary["rows"] + 1 > 1
    assert len(list((tmp_path / "boxes_annotated").glob("*.png"))) == 16
    code, _, _ = run(capsys, "--quiet", "predict", str(run_dir), "--data", str(folder / "JPEGImages"),
                     "--out", str(tmp_path / "boxes.json"), "--threshold", "0.999999")
    results = json.loads((tmp_path / "boxes.json").read_text())
    assert code == 0 and isinstance(results, list) and len(results) < summary["rows"]
    assert all(r["score"] >= 0.999999 for r in results)


def test_threshold_outside_zero_one_exits_2(voc_run, tmp_path, capsys):
    folder, run_dir = voc_run
    code, _, err = run(capsys, "predict", str(run_dir), "--data", str(folder / "JPEGImages"),
                       "--out", str(tmp_path / "x.csv"), "--threshold", "1.5")
    assert code == 2 and "--threshold must be a score in [0, 1]. Received: --threshold 1.5" in err


def test_threshold_is_refused_by_solutions_without_one(capsys, tmp_path):
    from solutions.core.errors import UsageError
    from solutions.core.solution import Solution

    class Plain(Solution):
        name = "plain"

    plain = Plain()
    plain.model_, plain.decision_ = object(), None
    for call in (lambda: plain.predict_to_csv([], tmp_path / "x.csv", threshold=0.5), lambda: plain.predict([], threshold=0.5)):
        with pytest.raises(UsageError, match=r"--threshold is not used by plain: .* Received: --threshold 0.5"):
            call()
    assert not (tmp_path / "x.csv").exists()


def _train(capsys, tmp_path, data):
    return run(capsys, "train", "object_detection", "--data", str(data), "--recipe", "quick", "--set", "epochs=1",
               "--out", str(tmp_path / "run"))


def test_malformed_xml_exits_2_naming_file_and_line(tmp_path, capsys):
    folder = write_voc(tmp_path / "voc", n_images=8, splits=(4, 2, 2))
    (folder / "Annotations" / "scene_001.xml").write_text("<annotation>\n<object>\n</annotation>")
    code, _, err = _train(capsys, tmp_path, folder)
    assert code == 2 and "scene_001.xml, line 3" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_annotation_naming_a_missing_image_exits_2(tmp_path, capsys):
    folder = write_voc(tmp_path / "voc", n_images=8, splits=(4, 2, 2))
    (folder / "Annotations" / "scene_002.xml").write_text(voc_xml("elsewhere.png", [[1, 1, 9, 9]], ["circle"]))
    (folder / "JPEGImages" / "scene_002.png").unlink()
    code, _, err = _train(capsys, tmp_path, folder)
    assert code == 2 and "names an image that does not exist" in err and "on_bad_image=skip" in err


def test_undecodable_image_exits_2(tmp_path, capsys):
    folder = write_voc(tmp_path / "voc", n_images=8, splits=(4, 2, 2))
    (folder / "JPEGImages" / "scene_004.png").write_bytes(b"\x89PNG broken")
    code, _, err = _train(capsys, tmp_path, folder)
    assert code == 2 and "scene_004.png: image cannot be decoded" in err


def test_class_only_in_validation_exits_2(tmp_path, capsys):
    folder = write_voc(tmp_path / "voc", n_images=8, splits=(4, 2, 2))
    val_id = (folder / "ImageSets" / "Main" / "val.txt").read_text().split()[0]
    (folder / "Annotations" / f"{val_id}.xml").write_text(voc_xml(f"{val_id}.png", [[5, 5, 30, 30]], ["hexagon"]))
    code, _, err = _train(capsys, tmp_path, folder)
    assert code == 2 and "never seen in training: 'hexagon'" in err


def test_malformed_coco_json_exits_2(tmp_path, capsys):
    (tmp_path / "train.json").write_text('{"images": [\n}')
    code, _, err = _train(capsys, tmp_path, tmp_path / "train.json")
    assert code == 2 and "train.json, line 2, column 1: not valid JSON" in err


def test_yolo_yaml_pointing_at_a_missing_folder_exits_2(tmp_path, capsys):
    path = write_yolo(tmp_path / "yolo")
    shutil.rmtree(tmp_path / "yolo" / "images" / "val")
    code, _, err = _train(capsys, tmp_path, path.parent)
    assert code == 2 and "`val: images/val` points at" in err and "does not exist" in err


def test_bad_recipe_values_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "train", "object_detection", "--data", "shape_scenes", "--set", "image_size=[100,100]")
    assert code == 2 and "multiple of 32" in err
    code, _, err = run(capsys, "train", "object_detection", "--data", "shape_scenes", "--set", "flip=diagonal")
    assert code == 2 and "Recipe key `flip` must be one of" in err
