"""PneumoniaMNIST benchmark of the medical-imaging solution, beside the MedMNIST v2 table (28x28).

Protocol (MedMNIST v2, Yang et al. 2023): train on the official 4,708 training images, select on the
official 524 validation images (the toolkit keeps the epoch with the lowest validation loss and chooses
its operating point there), score once on the official 624 test images. Test AUC and accuracy are
MedMNIST's: AUC of P(pneumonia), accuracy of the most probable class (threshold 0.5); both with 95%
bootstrap intervals. The shared file's rows come in an order rebuilt from two sources, so training
shuffles them (a full-size shuffle buffer, reshuffled every epoch). Training time is measured on this
machine; the run directory (report, model, manifest) goes to runs/bench/medical_imaging/runN, and the
README's results table is regenerated at the end.

    python benchmarks/medical_imaging.py                        # default recipe (40 epochs)
    python benchmarks/medical_imaging.py --budget-minutes 20    # as many epochs as fit in 20 minutes
    python benchmarks/medical_imaging.py --epochs 2 --set depth=8 --no-readme   # smoke run
    python benchmarks/medical_imaging.py --transfer --epochs 20   # pretrained MobileNetV2 (TRANSFER keys)

Rows are named after the model and its input size; a run leaves the earlier rows of other models in the
results file (their date is in the settings), so the from-scratch and the transfer rows sit side by side.
Each row has its validation AUC too: the recipe default is chosen on it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from _common import ROOT, beside_previous, print_table, row, write_results
from readme_table import update_readme

from solutions.core.config import load_recipe, parse_overrides
from solutions.core.runs import next_run_dir, read_json
from solutions.core.workflow import train_run
from solutions.medical_imaging import MedicalImagingSolution
from solutions.medical_imaging.recipe import MedicalImagingRecipe

DOMAIN = "medical_imaging"
DATASET = "PneumoniaMNIST (MedMNIST v2), 28x28, official split"
CITATION = "MedMNIST v2 (Yang et al. 2023), Table: PneumoniaMNIST test"
PUBLISHED = {  # test AUC, test ACC
    "ResNet-18 (28)": (0.944, 0.854),
    "ResNet-50 (224)": (0.962, 0.884),
    "AutoKeras": (0.947, 0.878),
    "Google AutoML Vision": (0.991, 0.946),
}
WEIGHTS = ROOT.parent / "shared" / "weights" / "mobilenet_v2_1.0_224_imagenet_notop.weights.h5"
# Grayscale 28x28 upscaled to 96x96 and repeated to three channels inside the model (imaging/backbones.py).
TRANSFER = {"model": "transfer", "weights": str(WEIGHTS), "image_size": [96, 96], "freeze_epochs": 3,
            "fine_tune_blocks": 8, "learning_rate": 1e-3, "fine_tune_learning_rate": 1e-3, "feature_cache_views": 1}
GOAL_ROWS = ("ResNet-18 (28)", "ResNet-50 (224)", "AutoKeras", "Google AutoML Vision")


def estimate_epochs(recipe: MedicalImagingRecipe, budget_minutes: float) -> tuple[int, float]:
    """Epochs that fit the budget, from a timed 2-epoch fit (the second epoch's time; the first traces)."""
    probe = MedicalImagingSolution(recipe, epochs=2, freeze_epochs=0)
    probe.fit("pneumoniamnist", progress=False)
    per_epoch = probe.training_.history[-1]["seconds"]
    tracing = max(0.0, probe.training_.history[0]["seconds"] - per_epoch)
    return max(1, math.floor((budget_minutes * 60 - tracing) / per_epoch)), per_epoch


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="PneumoniaMNIST benchmark of the medical-imaging solution.")
    parser.add_argument("--recipe", default="default", help="preset or recipe file (default: default)")
    parser.add_argument("--epochs", type=int, help="train exactly this many epochs")
    parser.add_argument("--budget-minutes", type=float, help="instead of --epochs: as many epochs as fit in this training time")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="recipe overrides")
    parser.add_argument("--transfer", action="store_true", help="the pretrained MobileNetV2 (TRANSFER keys, then --set)")
    parser.add_argument("--no-readme", action="store_true", help="do not regenerate the README results table")
    args = parser.parse_args(argv)
    if args.transfer and not WEIGHTS.is_file():
        parser.error(f"--transfer needs the MobileNetV2 weights at {WEIGHTS} (see ../shared/weights/README.md).")
    if args.epochs is not None and args.budget_minutes is not None:
        parser.error("pass --epochs or --budget-minutes, not both.")

    began = time.perf_counter()
    overrides = {**(TRANSFER if args.transfer else {}), **parse_overrides(args.overrides)}
    recipe = load_recipe(MedicalImagingRecipe, args.recipe, overrides)
    estimate = None
    if args.budget_minutes is not None:
        epochs, estimate = estimate_epochs(recipe, args.budget_minutes)
        print(f"estimate: {estimate:.1f} s/epoch -> {epochs} epochs in {args.budget_minutes:g} min", flush=True)
        overrides["epochs"] = epochs
    elif args.epochs is not None:
        overrides["epochs"] = args.epochs
    recipe = load_recipe(MedicalImagingRecipe, args.recipe, overrides)

    run_dir = next_run_dir(DOMAIN, ROOT / "runs" / "bench")
    solution = MedicalImagingSolution(recipe)
    report = train_run(solution, "pneumoniamnist", run_dir, command=[sys.executable, *sys.argv]).report
    training, metrics = solution.training_, report.metrics
    sizes = {name: s["size"] for name, s in solution.data_["summary"]["splits"].items()}
    auc, acc = metrics["auc"], metrics["accuracy"]
    beaten = [name for name in GOAL_ROWS if auc["value"] > PUBLISHED[name][0] and acc["value"] > PUBLISHED[name][1]]
    missed = [name for name in GOAL_ROWS if name not in beaten]
    size = "x".join(map(str, recipe.image_size)) if recipe.image_size else "28"
    model = f"{recipe.model}-{recipe.depth}" if recipe.model == "resnet" else recipe.model
    if recipe.model == "transfer":
        model = f"transfer {recipe.backbone or 'MobileNetV2'}, {'pretrained' if recipe.weights else 'random init'}"
    notes = (f"{model}, width {recipe.width}, {training.epochs_done} epochs (best {training.best_epoch}), "
             f"{args.recipe} recipe{', TTA' if recipe.tta else ''}; {sizes['train']} train / {sizes['val']} val / {sizes['test']} test")
    if args.budget_minutes is not None:
        notes += f"; epochs from a {args.budget_minutes:g}-minute budget at {estimate:.0f} s/epoch"
    goal = ("beats every goal row on AUC and ACC" if not missed else
            f"beats {', '.join(beaten) or 'none'} on both; not {', '.join(missed)}")
    rows = [
        row(DATASET, f"toolkit {model} ({size})", "test AUC", auc["value"], low=auc.get("low"), high=auc.get("high"),
            reference=f"{CITATION}: " + ", ".join(f"{k} {v[0]:.3f}" for k, v in PUBLISHED.items()), notes=notes + f"; {goal}"),
        row(DATASET, f"toolkit {model} ({size})", "test ACC", acc["value"], unit="fraction", low=acc.get("low"), high=acc.get("high"),
            reference=f"{CITATION}: " + ", ".join(f"{k} {v[1]:.3f}" for k, v in PUBLISHED.items()),
            notes="most probable class (threshold 0.5), as MedMNIST's evaluator"),
    ]
    rows.append(row(DATASET, f"toolkit {model} ({size})", "validation AUC", solution.validation_score()[1],
                    notes="official validation split; the recipe default is chosen on it"))
    for name in ("sensitivity", "specificity"):
        rows.append(row(DATASET, f"toolkit {model} ({size})", f"test {name}", metrics[name]["value"], unit="fraction",
                        low=metrics[name].get("low"), high=metrics[name].get("high"),
                        notes=f"at the operating point chosen on validation ({recipe.operating_point})"))
    for name, (published_auc, published_acc) in PUBLISHED.items():
        rows.append(row(DATASET, f"published: {name}", "test AUC", published_auc, reference=CITATION))
        rows.append(row(DATASET, f"published: {name}", "test ACC", published_acc, unit="fraction", reference=CITATION))
    for key, entry in metrics.items():
        if key.startswith("baseline/") and key.endswith(("/auc", "/accuracy")):
            rows.append(row(DATASET, f"baseline: {key.split('/')[1]}", f"test {'AUC' if key.endswith('auc') else 'ACC'}",
                            entry["value"], unit="" if key.endswith("auc") else "fraction", notes="toolkit report, same split"))
    seconds = training.seconds
    rows.append(row(DATASET, f"toolkit {model} ({size})", "training time", seconds / 60, unit="min",
                    notes=f"{sizes['train'] * training.epochs_done / seconds:.0f} images/s over {training.epochs_done} epochs "
                          "incl. validation, on this machine (see machine info)"))
    load = os.getloadavg()[0]
    rows[-1]["notes"] += f"; 1-minute load average at the end {load:.1f} on {os.cpu_count()} CPUs (other work slows it)"
    settings = {"load_average_end": load, "recipe": recipe.to_dict(), "run_dir": str(run_dir.relative_to(ROOT)), "fit_seconds": seconds,
                "evaluate_seconds": read_json(run_dir / "manifest.json")["timings"]["evaluate_seconds"], "wall_seconds": time.perf_counter() - began,
                "estimate_seconds_per_epoch": estimate, "beaten": beaten, "missed": missed}
    rows, settings = beside_previous(DOMAIN, rows, settings)
    path = write_results(DOMAIN, rows, settings)
    print()
    print_table(rows)
    print(f"\nrun directory: {run_dir}\nwrote {path.relative_to(ROOT)}")
    if not args.no_readme:
        update_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
