"""Which table network should fraud_detection default to? Each variant over 5 seeds, beside boosting at its best.

fraud_oracle out of time (train 1994-95 with the recipe's validation split, test 1996). For each
network variant and seed: AUPRC on validation (what the choice is made on) and on test. Beside
them, on the same splits: logistic regression, HistGradientBoosting with default settings, and
HistGradientBoosting with its learning rate, leaf count and number of iterations chosen on the
same validation split (so the peer is at its best too). Then the paired bootstrap 95% interval of
(variant minus tuned boosting) on test, the seeds' mean score in each resample against boosting's,
the same 1,000 resamples for both; and training seconds.

    python benchmarks/fraud_networks.py                       # every variant, 5 seeds
    python benchmarks/fraud_networks.py --variants mlp --seeds 0 --epochs 2   # smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import numpy as np

from _common import ROOT, print_table, row, write_results

from solutions.core.runs import atomic_write_json
from solutions.fraud_detection import FraudDetectionSolution
from solutions.fraud_detection.metrics import average_precision
from solutions.tables.baselines import boosting_frame, logistic_regression_scores

DOMAIN = "fraud_networks"
CACHE = ROOT / "runs" / "bench" / "fraud_networks"
DATASET = "fraud_oracle (vehicle insurance), train 1994-95 / test 1996"
# The recipe values of each variant; "mlp" is the default recipe as it stood before this benchmark.
# Every variant names each key that a default could change, so a variant means the same network whatever the
# recipe's defaults become. "mlp" is fraud_detection's default before issue 17; "mlp-plr" its default since.
FORMER_DEFAULT = {"network": "mlp", "numeric_embedding": "none", "lr_schedule": "one_cycle", "weight_decay": 1e-4,
                  "monitor": "val_loss", "tabm_k": 16}
VARIANTS = {
    "mlp": FORMER_DEFAULT,
    "tabm+periodic": {**FORMER_DEFAULT, "network": "tabm", "numeric_embedding": "periodic", "lr_schedule": "constant",
                      "weight_decay": 3e-4, "monitor": "val_auprc"},
    # TabM with one member is an MLP (tabm_width wide, tabm_blocks deep) on the periodic embeddings: MLP-PLR
    "mlp-plr": {**FORMER_DEFAULT, "network": "tabm", "tabm_k": 1, "numeric_embedding": "periodic",
                "lr_schedule": "constant", "weight_decay": 3e-4, "monitor": "val_auprc"},
    # the same TabM, its best epoch picked by validation loss (as the MLP's) instead of validation AUPRC
    "tabm+periodic/val_loss": {**FORMER_DEFAULT, "network": "tabm", "numeric_embedding": "periodic",
                               "lr_schedule": "constant", "weight_decay": 3e-4},
}


def fit_variant(name: str, seed: int, epochs: int | None) -> dict:
    """One fit's figures and test scores, kept in runs/bench/fraud_networks/ so an interrupted benchmark goes on
    where it stopped (the file names the recipe values, so a changed variant is fitted again)."""
    overrides = {**VARIANTS[name], "seed": seed, **({"epochs": epochs} if epochs else {})}
    key = hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:12]
    kept = CACHE / f"{name.replace('/', '_')}-seed{seed}-{key}.json"
    if kept.is_file():
        return {**json.loads(kept.read_text()), "cached": True}
    began = time.perf_counter()
    solution = FraudDetectionSolution("default", **overrides).fit("fraud_oracle", progress=False)
    seconds = time.perf_counter() - began
    _, validation = solution.validation_score()
    test = solution.splits_.test
    result = {"seed": seed, "val": validation, "scores": solution.predict_scores(test.x)[:, 0].tolist(),
              "seconds": seconds, "epochs": solution.training_.epochs_done}
    atomic_write_json(kept, result)
    return result


def splits_and_schema():
    """The benchmark's splits and schema (the default recipe's; every variant splits the same way)."""
    solution = FraudDetectionSolution("default")
    recipe = solution.resolve_recipe()
    from solutions.core.datasets import resolve_data

    examples = solution.load_examples(resolve_data("fraud_oracle"), recipe, None)
    splits = solution.split(examples, recipe)
    return splits, solution.make_schema(splits, recipe)


def tuned_boosting(train, val, schema, seed: int = 0):
    """HistGradientBoosting with learning rate, leaves and iterations chosen on the validation split's AUPRC."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    train_frame, val_frame = boosting_frame(train.x, schema), boosting_frame(val.x, schema)
    best = (-1.0, None, None)
    with threadpool_limits(1):
        for rate in (0.02, 0.05, 0.1, 0.2):
            for leaves in (7, 15, 31):
                model = HistGradientBoostingClassifier(learning_rate=rate, max_leaf_nodes=leaves, max_iter=25, warm_start=True,
                                                       early_stopping=False, categorical_features="from_dtype",
                                                       random_state=seed)
                for iterations in (25, 50, 100, 200, 400, 800):
                    model.set_params(max_iter=iterations)
                    model.fit(train_frame, np.asarray(train.y))
                    score = average_precision(val.y, model.predict_proba(val_frame)[:, 1])
                    if score > best[0]:
                        best = (score, {"learning_rate": rate, "max_leaf_nodes": leaves, "max_iter": iterations}, None)
        params = best[1]
        model = HistGradientBoostingClassifier(**params, early_stopping=False, categorical_features="from_dtype",
                                               random_state=seed).fit(train_frame, np.asarray(train.y))
    return model, params, best[0]


def paired_mean_difference(y, seed_scores: list[np.ndarray], other: np.ndarray, n_resamples: int = 1000, seed: int = 0):
    """Mean over seeds of AUPRC(network) minus AUPRC(other), with its paired percentile bootstrap 95% interval."""
    rng = np.random.default_rng(seed)
    n = len(y)

    def difference(index):
        return float(np.mean([average_precision(y[index], s[index]) for s in seed_scores])
                     - average_precision(y[index], other[index]))

    value = difference(np.arange(n))
    samples = []
    for _ in range(n_resamples):
        index = rng.integers(0, n, n)
        if y[index].any():
            samples.append(difference(index))
    low, high = np.percentile(samples, [2.5, 97.5])
    return value, float(low), float(high)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, help="override every variant's epochs (smoke runs)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows, results = [], {}
    splits, schema = splits_and_schema()
    for name in args.variants:
        for seed in args.seeds:
            fit = fit_variant(name, seed, args.epochs)
            fit["scores"] = np.asarray(fit["scores"])
            fit["test"] = average_precision(splits.test.y, fit["scores"])
            results.setdefault(name, []).append(fit)
            print(f"{name} seed {seed}: validation AUPRC {fit['val']:.4f}, test {fit['test']:.4f} ({fit['seconds']:.0f} s"
                  + (", kept from an earlier run)" if fit.get("cached") else ")"), flush=True)
    y = splits.test.y
    hgb_began = time.perf_counter()
    hgb, params, hgb_val = tuned_boosting(splits.train, splits.val, schema)
    hgb_seconds = time.perf_counter() - hgb_began
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        hgb_scores = hgb.predict_proba(boosting_frame(splits.test.x, schema))[:, 1]
    from solutions.tables.baselines import gradient_boosting_model

    with threadpool_limits(1):
        plain = gradient_boosting_model(splits.train.x, splits.train.y, schema)
        plain_val = average_precision(splits.val.y, plain.predict_proba(boosting_frame(splits.val.x, schema))[:, 1])
        plain_test = average_precision(y, plain.predict_proba(boosting_frame(splits.test.x, schema))[:, 1])
    lr_test = average_precision(y, logistic_regression_scores(splits.train.x, splits.train.y, splits.test.x, schema))
    hgb_test = average_precision(y, hgb_scores)
    for name, runs in results.items():
        vals, tests = [r["val"] for r in runs], [r["test"] for r in runs]
        spread = lambda v: f"sd {np.std(v, ddof=1):.4f}" if len(v) > 1 else "one seed"  # noqa: E731
        settings = ", ".join(f"{k}={v}" for k, v in VARIANTS[name].items() if FORMER_DEFAULT.get(k) != v or name == "mlp")
        rows.append(row(DATASET, f"network {name}", "validation AUPRC", float(np.mean(vals)),
                        notes=f"mean of {len(runs)} seeds, {spread(vals)}; {settings}"))
        rows.append(row(DATASET, f"network {name}", "test AUPRC", float(np.mean(tests)),
                        notes=f"mean of {len(runs)} seeds, {spread(tests)}; seeds {', '.join(f'{t:.3f}' for t in tests)}; "
                              f"{np.mean([r['seconds'] for r in runs]):.0f} s per fit"))
        value, low, high = paired_mean_difference(y, [r["scores"] for r in runs], hgb_scores)
        rows.append({**row(DATASET, f"network {name} minus tuned HistGradientBoosting", "test AUPRC difference", value,
                           low=low, high=high, notes="paired bootstrap, 1,000 resamples of the test claims, seeds' mean"),
                     "role": "derived"})
    baseline = lambda *args, **kwargs: {**row(*args, **kwargs), "role": "baseline"}  # noqa: E731
    rows.append(baseline(DATASET, "HistGradientBoosting, tuned on validation", "validation AUPRC", hgb_val,
                         notes=", ".join(f"{k}={v}" for k, v in params.items()) + f"; search and fit {hgb_seconds:.0f} s"))
    rows.append(baseline(DATASET, "HistGradientBoosting, tuned on validation", "test AUPRC", hgb_test))
    rows.append(baseline(DATASET, "HistGradientBoosting, default settings", "validation AUPRC", plain_val))
    rows.append(baseline(DATASET, "HistGradientBoosting, default settings", "test AUPRC", plain_test))
    rows.append(baseline(DATASET, "logistic regression", "test AUPRC", lr_test))
    print_table(rows)
    settings = {"variants": {k: VARIANTS[k] for k in args.variants}, "seeds": args.seeds,
                "epochs": args.epochs or "each variant's recipe", "wall_minutes": (time.perf_counter() - began) / 60,
                "fraud_rate_test": float(np.mean(y))}
    print(f"wrote {write_results(DOMAIN, rows, settings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
