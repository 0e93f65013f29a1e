"""Statlog German credit benchmark of the credit-scoring solution (stratified 10-fold cross-validation).

Each fold's 100 applicants are the test split; the other 900 are split by the toolkit into training
and validation (15%, stratified), which fits the calibration (Platt) and early stopping, or, for
cross-fitted members (the default recipe: 10 of them), pooled and cut into one fold per member. Per
fold: MLP and wide-and-deep ensembles of 5 members on one split, the same cross-fitted (mlp_cf,
wide_deep_cf), 10 members either way (mlp10, wide_deep10; mlp10_cf is the default), each deciding at the least-expected-cost threshold on
calibrated probabilities (approve when P(bad) < 1/6, from the cost matrix of german.doc: a bad
applicant approved costs 5, a good one refused 1) and, as a second row, at the threshold with the least
cost on the validation applicants; beside them, on the same folds, the weight-of-evidence logistic
scorecard, logistic regression on one-hot categories and standardised numbers (C = 1, and with C tuned by
5-fold CV on the training rows), and HistGradientBoosting
(each deciding at P(bad) < 1/6), refusing everyone (0.700), the default MLP as one network (members=1),
which shows what the ensemble adds, TabM with periodic numeric embeddings (one network of k=16
members; issue #17) and the same with k=1 (an MLP on periodic embeddings, "MLP-PLR"). Each network's validation AUC (the toolkit's 15% of the fold's training applicants)
is recorded too, on the same 15% holdout rows for every variant: the default network is chosen on it,
never on the test folds. Cross-fitted members (`cross_fit: true`, issue #17) pool the 900 rows into one
fold per member; their validation AUC on those holdout rows is out of fold, and their AUC over all 900
pooled rows out of fold is a row of its own. Their report's baselines train on all 900 rows too, which
gives the baseline rows "trained on all 900 rows" (the plain baseline rows train on the 765).
Printed: mean AUC, KS and cost per applicant over the 10 folds with a 95% t-interval.
Goal: AUC >= 0.80 and cost < 0.53.

    python benchmarks/credit_scoring.py               # the full protocol
    python benchmarks/credit_scoring.py --folds 2 --epochs 3    # smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

from _common import beside_previous, print_table, row, write_results

from solutions.core import metrics as M
from solutions.core.datasets import resolve_data
from solutions.credit_scoring import CreditScoringSolution
from solutions.credit_scoring.data import load_german_credit
from solutions.credit_scoring.metrics import ks_statistic
from solutions.credit_scoring.scorecard import decision_cost, least_cost_threshold
from solutions.tables.baselines import logistic_regression_scores

DOMAIN = "credit_scoring"
DATASET = "Statlog German credit, stratified 10-fold CV"
SEED = 0


class FoldSolution(CreditScoringSolution):
    """The toolkit's solution with one fold held out as the test split (only the split differs)."""

    def __init__(self, frame, test_index: np.ndarray, recipe="default", **overrides):
        super().__init__(recipe, **overrides)
        self.frame, self.test_index = frame, test_index

    def read_frame(self, source, recipe):
        return self.frame.copy()

    def load_examples(self, source, recipe, schema):
        examples = super().load_examples(source, recipe, schema)
        if schema is None:
            given = np.full(len(examples), "train", dtype=object)
            given[self.test_index] = "test"
            examples = dataclasses.replace(examples, given_split=given)
        return examples


def interval(values: list[float]) -> tuple[float, float, float]:
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


ALL_VARIANTS = ("mlp", "wide_deep", "mlp1", "tabm", "mlp_plr", "tabm_loss", "tabm_plain", "tabm_ple", "tabm_ple_tree",
                "mlp10", "wide_deep10", "mlp_cf", "wide_deep_cf", "mlp10_cf")


def holdout_validation_ids(frame, test_index: np.ndarray, source) -> np.ndarray:
    """The ids of the recipe's 15% validation split of a fold (the same seed gives every variant the same one)."""
    solution = FoldSolution(frame, test_index, "default", cross_fit=False)
    recipe = solution.resolve_recipe()
    return solution.split(solution.load_examples(source, recipe, None), recipe).val.ids
VARIANTS_RUN_BY_DEFAULT = ALL_VARIANTS


def main(argv: list[str]) -> int:
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=10, help="folds to run (of the 10)")
    parser.add_argument("--epochs", type=int, help="override the default recipe's epochs (smoke runs)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS_RUN_BY_DEFAULT), choices=list(ALL_VARIANTS),
                        help="networks to run; rows of the others (and the baselines, which come with `mlp`) are kept "
                             "from the results file")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    source = resolve_data("german_credit")
    frame = load_german_credit(source.path)
    y = (frame["credit_risk"] == "bad").to_numpy().astype(int)
    folds = list(StratifiedKFold(10, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))[:args.folds]
    results: dict[str, dict[str, list[float]]] = {}
    overrides = {"epochs": args.epochs} if args.epochs else {}

    def record(name: str, auc: float, ks: float, cost: float) -> None:
        entry = results.setdefault(name, {"auc": [], "ks": [], "cost": []})
        entry["auc"].append(auc), entry["ks"].append(ks), entry["cost"].append(cost)

    members = CreditScoringSolution("default").resolve_recipe().members
    tabm = {"members": 1, "network": "tabm", "numeric_embedding": "periodic", "lr_schedule": "constant", "monitor": "val_auc"}
    one_split, five = {"cross_fit": False}, {"members": 5}
    variants = {"mlp": ("mlp", {**five, **one_split}, "MLP, 5 members on one split (cross_fit=false)"),
                "wide_deep": ("wide_deep", {**five, **one_split}, "wide-and-deep (5 members)"),
                "mlp1": ("mlp", {"members": 1}, "MLP, one network (members=1)"),
                "tabm": ("mlp", tabm, "TabM k=16 + periodic embeddings (one network)"),
                "mlp_plr": ("mlp", {**tabm, "tabm_k": 1}, "MLP-PLR: TabM k=1 + periodic embeddings (one network)"),
                "tabm_loss": ("mlp", {**tabm, "monitor": "val_loss"},
                              "TabM k=16 + periodic embeddings, early stopping on validation loss"),
                "tabm_plain": ("mlp", {"members": 1, "network": "tabm", "monitor": "val_loss"},
                               "TabM k=16, no numeric embeddings, early stopping on validation loss"),
                "tabm_ple": ("mlp", {**tabm, "numeric_embedding": "piecewise_linear", "monitor": "val_loss"},
                             "TabM k=16 + piecewise-linear embeddings (quantile bins), early stopping on validation loss"),
                "tabm_ple_tree": ("mlp", {**tabm, "numeric_embedding": "piecewise_linear_tree", "monitor": "val_loss"},
                                  "TabM k=16 + piecewise-linear embeddings (tree bins), early stopping on validation loss"),
                "mlp10": ("mlp", {"members": 10, **one_split}, "MLP, 10 members"),
                "wide_deep10": ("wide_deep", {"members": 10, **one_split}, "wide-and-deep, 10 members"),
                "mlp_cf": ("mlp", {**five, "cross_fit": True}, "MLP, 5 cross-fitted members"),
                "wide_deep_cf": ("wide_deep", {**five, "cross_fit": True}, "wide-and-deep, 5 cross-fitted members"),
                "mlp10_cf": ("mlp", {}, f"MLP (default, {members} cross-fitted members)")}
    variants = [(name, *variants[name]) for name in args.variants]
    validation: dict[str, list[float]] = {}
    pooled_validation: dict[str, list[float]] = {}
    for k, (_, test_index) in enumerate(folds):
        holdout = holdout_validation_ids(frame, test_index, source)
        for name, model, extra, label in variants:
            solution = FoldSolution(frame, test_index, "default", model=model, **extra, **overrides).fit(source, progress=False)
            report = solution.evaluate()
            m = report.metrics
            # Every variant's validation AUC on the same 15% holdout rows (out of fold for cross-fitted members).
            val = solution.splits_.val
            on_holdout = np.isin(val.ids, holdout)
            validation.setdefault(label, []).append(M.roc_auc(val.y[on_holdout], solution.held_out_scores(val)[on_holdout, 0]))
            cross_fitted = solution.resolve_recipe().cross_fits(time_split=False)
            if cross_fitted:
                pooled_validation.setdefault(label, []).append(solution.validation_score()[1])
            if cross_fitted and name == next(n for n, _, e, _ in variants if n.endswith("_cf")):
                # the baselines of a cross-fitted run's report train on all pooled rows too (once per fold)
                train = solution.splits_.train
                for baseline in ("WOE scorecard (logistic regression)", "HistGradientBoosting"):
                    record(f"baseline: {baseline}, trained on all {len(train)} rows", m[f"baseline/{baseline}/auc"]["value"],
                           m[f"baseline/{baseline}/ks"]["value"], m[f"baseline/{baseline}/cost_per_applicant"]["value"])
                test_y = solution.splits_.test.y
                for tuned, what in ((False, ""), (True, ", C tuned by 5-fold CV")):
                    p_lr = logistic_regression_scores(train.x, train.y, solution.splits_.test.x, solution.schema_, tuned=tuned)
                    record(f"baseline: logistic regression (one-hot){what}, trained on all {len(train)} rows",
                           M.roc_auc(test_y, p_lr), ks_statistic(test_y, p_lr), decision_cost(test_y, p_lr, 1 / 6, 5, 1))
            record(f"{label}, threshold P(bad) < 1/6", m["auc"]["value"], m["ks"]["value"], m["cost_per_applicant"]["value"])
            if name not in ("mlp", "wide_deep", "mlp_cf", "wide_deep_cf"):
                continue
            val, test = solution.splits_.val, solution.splits_.test
            chosen = least_cost_threshold(val.y, solution.held_out_scores(val)[:, 0], 5, 1)
            p = solution.predict_scores(test.x)[:, 0]
            record(f"{label}, threshold chosen on validation", m["auc"]["value"], m["ks"]["value"],
                   decision_cost(test.y, p, chosen, 5, 1))
            if name == "mlp":
                for baseline in ("WOE scorecard (logistic regression)", "HistGradientBoosting"):
                    record(f"baseline: {baseline}", m[f"baseline/{baseline}/auc"]["value"], m[f"baseline/{baseline}/ks"]["value"],
                           m[f"baseline/{baseline}/cost_per_applicant"]["value"])
                record("baseline: refuse everyone", 0.5, 0.0, m["baseline/refuse everyone/cost_per_applicant"]["value"])
                train = solution.splits_.train
                p_lr = logistic_regression_scores(train.x, train.y, test.x, solution.schema_)
                record("baseline: logistic regression (one-hot)", M.roc_auc(test.y, p_lr), ks_statistic(test.y, p_lr),
                       decision_cost(test.y, p_lr, 1 / 6, 5, 1))
        print(f"fold {k + 1}/{len(folds)} done ({(time.perf_counter() - began) / 60:.1f} min): "
              + ", ".join(f"{n.split(', threshold')[0]} AUC {v['auc'][-1]:.3f} cost {v['cost'][-1]:.3f}" for n, v in results.items()
                          if "threshold chosen" not in n), flush=True)

    rows = []
    n = len(folds)
    notes = f"mean over {n} folds, 95% t-interval" + ("" if n == 10 else f"; REDUCED: {n} of 10 folds") + \
        (f"; epochs={args.epochs}" if args.epochs else "")
    for name, values in results.items():
        for metric, unit, reference in (("auc", "", "goal >= 0.80; tuned LR/GBM about 0.75-0.80"),
                                        ("ks", "", ""),
                                        ("cost", "", "goal < 0.53; StatLog best about 0.53; refuse everyone 0.700")):
            if (name == "baseline: refuse everyone" or "chosen on validation" in name) and metric != "cost":
                continue
            mean, low, high = interval(values[metric])
            rows.append(row(DATASET, name, {"auc": "ROC-AUC", "ks": "KS", "cost": "cost per applicant"}[metric], mean,
                            unit=unit, low=low, high=high, reference=reference if name.startswith("MLP (default") and "1/6" in name else "",
                            notes=notes))
    for name, values in validation.items():
        mean, low, high = interval(values)
        rows.append(row(DATASET, name, "validation ROC-AUC", mean, low=low, high=high,
                        notes=f"mean over {n} folds of the 15% validation split inside each fold's training applicants"
                              + (" (out of fold: each row scored by the members that did not train on it)"
                                 if name in pooled_validation else "")))
    for name, values in pooled_validation.items():
        mean, low, high = interval(values)
        rows.append(row(DATASET, name, "validation ROC-AUC, all pooled rows out of fold", mean, low=low, high=high,
                        notes=f"mean over {n} folds of the out-of-fold AUC of each fold's 900 training applicants"))
    settings = {"folds": n, "epochs": args.epochs or "default recipe", "seed": SEED, "variants": args.variants,
                "wall_minutes": (time.perf_counter() - began) / 60}
    rows, settings = beside_previous(DOMAIN, rows, settings)
    print_table(rows)
    print(f"wrote {write_results(DOMAIN, rows, settings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
