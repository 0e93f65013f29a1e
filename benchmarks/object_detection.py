"""BCCD benchmark of the object-detection solution (default recipe: the FCOS-style CNN from scratch).

Accuracy: the default recipe trains on BCCD's official train split (205 images), keeps the
epoch with the lowest validation loss on the official val split (87), and is scored on the
official test split (72) with pycocotools: mAP@.5 and mAP@[.5:.95] with 95% bootstrap
intervals over test images, and AP per class, beside keras-yolo3's reported 84% mAP@.5
(a YOLOv3 pretrained on ImageNet/COCO, on its own split). The two zero-size boxes in
BloodImage_00338.xml and BloodImage_00343.xml are dropped and counted in the report.
The run directory (report, model, COCO JSON) goes to runs/bench/object_detection/runN.

Speed: training seconds and images/s (whole epochs, validation included), inference
images/s of the saved model (pixels in, boxes after NMS out) and of `predict` from JPEG files
(decode + letterbox + model + mapping back), and, unless --skip-retinanet, the training
throughput of KerasHub's RetinaNet on a ResNet-18 encoder at the same input size, the
alternative the design notes measured, beside this detector's on the same batches.

    python benchmarks/object_detection.py                       # the default recipe
    python benchmarks/object_detection.py --set epochs=2 --skip-retinanet   # smoke run

Pretrained backbone (issue 16): `--pretrained` trains the same default recipe (the same 40 epochs, the
same best-validation-loss epoch kept) with the ImageNet MobileNetV2 of ../shared/weights/ under the
pyramid (the keys of PRETRAINED: frozen backbone for the recipe's freeze_epochs, then fine-tuning at
fine_tune_learning_rate), plus any --set. Its rows go into the results file beside the from-scratch
rows already there (whose date is kept in the settings), so the from-scratch run need not be repeated;
the RetinaNet throughput comparison is not rerun.

    python benchmarks/object_detection.py --pretrained
    python benchmarks/object_detection.py --pretrained --set epochs=2 --set freeze_epochs=1 \
        --set image_size=[128,160]                               # smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _common import RESULTS_DIR, ROOT, print_table, row, write_results

from solutions.core.config import parse_overrides
from solutions.core.datasets import resolve_data
from solutions.core.runs import next_run_dir
from solutions.object_detection import ObjectDetectionSolution

DOMAIN = "object_detection"
DATASET = "BCCD (VOC), official train 205 / val 87 / test 72"
REFERENCE = "keras-yolo3, pretrained YOLOv3: mAP@0.5 84% (its own split)"
WEIGHTS = ROOT.parent / "shared" / "weights" / "mobilenet_v2_1.0_224_imagenet_notop.weights.h5"
PRETRAINED = {"backbone": "mobilenet_v2", "weights": str(WEIGHTS)}  # the rest: the default recipe's keys
FROM_SCRATCH_NAME = "this detector (FCOS-style CNN, from scratch)"
PRETRAINED_NAME = "this detector (FCOS-style head on ImageNet MobileNetV2)"


def fit_throughput(model, dataset, batches: int, batch_size: int) -> float:
    """Training images/s of `model.fit` over `batches` batches, after one untimed batch (tracing)."""
    model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    began = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=batches, verbose=0)
    return batches * batch_size / (time.perf_counter() - began)


def detector_throughput(solution, batch_size: int, batches: int) -> tuple[float, int]:
    """Training images/s of this solution's detector (a fresh copy) on the training images, augmented."""
    import keras

    recipe = solution.recipe_
    schema = solution.schema_
    model = solution.build_model(schema, recipe)
    loss, _ = solution.loss_and_metrics(schema, recipe)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss=loss)
    data = solution.make_dataset(solution.splits_.train, schema, recipe, training=True).unbatch().batch(batch_size).repeat()
    rate = fit_throughput(model, data, batches, batch_size)
    params = model.count_params()
    keras.backend.clear_session()
    return rate, params


def retinanet_throughput(solution, batch_size: int, batches: int) -> tuple[float, int]:
    """Training images/s of KerasHub's RetinaNet (ResNet-18 encoder, random init) on the same images and boxes."""
    import keras
    import keras_hub
    import tensorflow as tf

    from solutions.object_detection.data import padded_boxes

    height, width = solution.schema_["image_size"]
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=[64, 128, 256, 512],
        stackwise_num_blocks=[2, 2, 2, 2], stackwise_num_strides=[1, 2, 2, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(height, width, 3))
    backbone = keras_hub.models.RetinaNetBackbone(image_encoder=encoder, min_level=3, max_level=7, use_p5=False,
                                                  image_shape=(height, width, 3))
    model = keras_hub.models.RetinaNetObjectDetector(backbone=backbone, num_classes=len(solution.schema_["class_names"]),
                                                     bounding_box_format="xyxy")
    model.compile(optimizer=keras.optimizers.AdamW(1e-4))
    train = solution.splits_.train
    boxes, classes = padded_boxes(train, max(len(y) for y in train.y))
    data = tf.data.Dataset.from_tensor_slices((train.x.astype(np.float32) / 255.0, {"boxes": boxes, "labels": classes}))
    rate = fit_throughput(model, data.batch(batch_size).repeat(), batches, batch_size)
    params = model.count_params()
    keras.backend.clear_session()
    return rate, params


def inference_rates(solution, test_files: list[Path]) -> tuple[float, float]:
    """Images/s of the saved model on letterboxed pixels, and of predict() from JPEG files."""
    x = solution.splits_.test.x.astype(np.float32)
    solution.model_.predict(x[:8], batch_size=8, verbose=0)
    began = time.perf_counter()
    solution.model_.predict(x, batch_size=8, verbose=0)
    model_rate = len(x) / (time.perf_counter() - began)
    solution.predict(test_files[:8])
    began = time.perf_counter()
    solution.predict(test_files)
    files_rate = len(test_files) / (time.perf_counter() - began)
    return model_rate, files_rate


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="BCCD benchmark of the object-detection solution.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of the default recipe (repeatable), e.g. --set epochs=2 for a smoke run")
    parser.add_argument("--pretrained", action="store_true",
                        help="train on the ImageNet MobileNetV2 backbone (PRETRAINED) and add its rows beside the others")
    parser.add_argument("--skip-retinanet", action="store_true", help="do not measure KerasHub RetinaNet's throughput")
    parser.add_argument("--throughput-batches", type=int, default=3,
                        help="timed training batches of 4 images per detector in the throughput comparison (default 3)")
    args = parser.parse_args(argv)
    if args.pretrained and not WEIGHTS.is_file():
        parser.error(f"--pretrained needs the MobileNetV2 weights at {WEIGHTS} (see ../shared/weights/README.md).")
    return args


def beside_previous(rows: list[dict], settings: dict) -> tuple[list[dict], dict]:
    """The results file's earlier rows (the from-scratch run) with these pretrained rows in place of earlier ones."""
    path = RESULTS_DIR / f"{DOMAIN}.json"
    previous = json.loads(path.read_text()) if path.is_file() else {"rows": [], "settings": {}}
    names = {r["row"] for r in rows}
    kept = [r for r in previous["rows"] if r["row"] not in names]
    return kept + rows, {**previous.get("settings", {}), "pretrained": settings, "from_scratch_date": previous.get("date")}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    overrides = {**(PRETRAINED if args.pretrained else {}), **parse_overrides(args.overrides)}
    solution = ObjectDetectionSolution("default", **overrides)
    recipe = solution.resolve_recipe()
    run_dir = next_run_dir(DOMAIN, root=ROOT / "runs" / "bench")
    solution.fit("bccd", run_dir=run_dir, progress=True)
    report = solution.evaluate()
    solution.write_report(run_dir, report)
    solution.save(run_dir, command=["python", "benchmarks/object_detection.py", *argv])
    metrics = report.metrics
    training = solution.training_
    n_train = len(solution.splits_.train)
    fit_seconds = solution.timings_["fit_seconds"]
    summary = solution.data_["summary"]
    dropped = summary["dropped"]
    name = PRETRAINED_NAME if args.pretrained else FROM_SCRATCH_NAME
    short = "this detector, MobileNetV2" if args.pretrained else "this detector"
    notes = solution.training_notes_
    origin = "; ".join(f"{what} {text}" for what, text in notes.items()) if args.pretrained else "trained from scratch"
    setup = (f"default recipe{' with ' + ', '.join(args.overrides) if args.overrides else ''}: "
             f"{recipe.image_size[0]}x{recipe.image_size[1]} letterboxed, {training.epochs_done} epochs, batch "
             f"{recipe.batch_size}, best val-loss epoch {training.best_epoch}; {origin}; "
             f"{dropped['count']} zero-size boxes dropped ({', '.join(e[0] for e in dropped['examples'])})")
    rows = [
        row(DATASET, name, "mAP@0.5 (test)", metrics["mAP50"]["value"],
            unit="fraction", low=metrics["mAP50"]["low"], high=metrics["mAP50"]["high"], reference=REFERENCE,
            notes=setup + "; pycocotools, 95% bootstrap over test images"),
        row(DATASET, name, "mAP@[.5:.95] (test)", metrics["mAP50-95"]["value"],
            unit="fraction", low=metrics["mAP50-95"]["low"], high=metrics["mAP50-95"]["high"],
            notes="pycocotools COCOeval (primary metric of the report)"),
    ]
    per_class = next(s for s in report.sections if s.title == "Per-class AP")
    for class_name, objects, ap, ap50, *_ in per_class.data["rows"]:
        rows.append(row(DATASET, f"{short}: {class_name}", "AP@0.5 (test)", ap50 if isinstance(ap50, float) else None,
                        unit="fraction", notes=f"AP@[.5:.95] {ap if isinstance(ap, str) else f'{ap:.3f}'}; {objects} test objects"))
    baseline = metrics.get("baseline/class-mean box/mAP50")
    if baseline and not args.pretrained:  # the same boxes, already in the from-scratch rows
        rows.append(row(DATASET, "class-mean box (trivial baseline)", "mAP@0.5 (test)", baseline["value"], unit="fraction",
                        notes="each class's mean training box on every test image"))
    rows.append(row(DATASET, short, "training time", fit_seconds, unit="s",
                    notes=f"{training.epochs_done} epochs x {n_train} images incl. validation each epoch: "
                          f"{training.epochs_done * n_train / fit_seconds:.1f} training images/s; {solution.model_.count_params():,} params"))
    root = resolve_data("bccd").path
    test_files = [root / str(i) for i in solution.splits_.test.ids]
    model_rate, files_rate = inference_rates(solution, test_files)
    rows.append(row(DATASET, short, "inference throughput", model_rate, unit="images/s",
                    notes=f"saved model incl. NMS, batch 8, {len(test_files)} test images; from JPEG files with "
                          f"decode + letterbox + mapping back: {files_rate:.1f} images/s"))
    settings = {"overrides": args.overrides, "recipe": recipe.to_dict(), "run_dir": str(run_dir.relative_to(ROOT)),
                "fit_seconds": fit_seconds, "epochs_done": training.epochs_done, "best_epoch": training.best_epoch,
                "history": training.history, "dropped": dropped}
    if not args.skip_retinanet and not args.pretrained:
        ours, our_params = detector_throughput(solution, 4, args.throughput_batches)
        theirs, their_params = retinanet_throughput(solution, 4, args.throughput_batches)
        note = (f"model.fit, batch 4, {recipe.image_size[0]}x{recipe.image_size[1]}, {args.throughput_batches} timed "
                f"batches after one untimed (tracing)")
        rows.append(row(DATASET, "this detector", "training throughput", ours, unit="images/s",
                        notes=f"{note}; {our_params:,} params"))
        rows.append(row(DATASET, "KerasHub RetinaNet, ResNet-18 encoder", "training throughput", theirs, unit="images/s",
                        notes=f"{note}; {their_params:,} params; random init (no weights can be downloaded here)"))
        settings["throughput"] = {"this_detector": ours, "retinanet_resnet18": theirs}
    settings["wall_seconds"] = time.perf_counter() - began
    if args.pretrained:
        settings["training_notes"] = notes
        rows, settings = beside_previous(rows, settings)
    path = write_results(DOMAIN, rows, settings)
    print()
    print_table(rows)
    print(f"\nwrote {path.relative_to(ROOT)}; run directory {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
