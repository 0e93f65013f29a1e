"""Movie-review polarity (RT-2k) benchmark of the sentiment solution: 10-fold cross-validation.

Protocol (Pang & Lee's README): review_polarity.tar.gz, folds by file prefix, cv000-cv099 = fold 0,
..., cv900-cv999 = fold 9; each fold is scored by a model trained on the other nine. The toolkit
holds out 10% of those nine folds for validation (it keeps the best epoch on validation loss), so
its models train on 1,620 reviews per fold where the published baselines used 1,800.

Rows: the mean fold accuracy of each toolkit model (default recipe: the bag-of-n-grams model on
naive-Bayes-weighted uni+bigram features), beside Wang & Manning (2012) NBSVM-bi 89.45%, SVM-bi
87.40% and MNB-bi 85.85%, and beside baselines run here on the same folds: TF-IDF + logistic
regression (the report's baseline), a scikit-learn NBSVM-bi reproduction (binary uni+bigrams,
log-count ratios, LinearSVC C=1, beta=0.25) and VADER + logistic regression. The 95% interval is a
bootstrap over the 2,000 pooled out-of-fold predictions. Also: training seconds per fold and
prediction throughput (texts/s, model.predict over the 2,000 reviews after one warm-up).

    python benchmarks/sentiment.py                                   # full protocol, default recipe
    python benchmarks/sentiment.py --models bow cnn bilstm transformer --folds 0 1 2   # more models, 3 folds
    python benchmarks/sentiment.py --folds 0 --set epochs=2 --no-readme           # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import ROOT, beside_previous, print_table, row, write_results
from readme_table import update_readme

from solutions.core.config import load_recipe, parse_overrides
from solutions.core.datasets import resolve_data
from solutions.core.metrics import accuracy, bootstrap_interval
from solutions.core.runs import next_run_dir
from solutions.core.splits import Examples
from solutions.sentiment import SentimentSolution
from solutions.sentiment import baselines
from solutions.sentiment.recipe import SentimentRecipe

DOMAIN = "sentiment"
DATASET = "RT-2k movie reviews (review_polarity v2.0), 10-fold CV"
PUBLISHED = [("NBSVM-bi", 0.8945), ("SVM-bi", 0.8740), ("MNB-bi", 0.8585)]
REFERENCE = "Wang & Manning 2012: NBSVM-bi 89.45%"
MINILM = ROOT.parent / "shared" / "weights" / "all-MiniLM-L6-v2"
# model=ensemble (issue 16): the default bow model and the frozen MiniLM sentence encoder (reviews longer than its
# 64 word pieces go through chunk-and-average), probabilities averaged with weights chosen on each fold's validation.
MODEL_KEYS = {"ensemble": {"hub_preset": str(MINILM)}}
SEED = 0


class PreloadedSolution(SentimentSolution):
    """The toolkit's solution with the reviews already read, so the archive is read once.

    Only `load_examples` differs; the split (given folds, validation carved from train), model,
    tf.data pipeline and training are the toolkit's own.
    """

    def __init__(self, examples: Examples, recipe="default", **overrides):
        super().__init__(recipe, **overrides)
        self.examples = examples

    def load_examples(self, source, recipe, schema):
        return self.examples


def fold_of(ids: np.ndarray) -> np.ndarray:
    """The CV fold of each review from its file name: cvNNN_... -> NNN // 100."""
    names = [str(i).replace("\\", "/").rsplit("/", 1)[-1] for i in ids]
    bad = [n for n in names if not (n.startswith("cv") and n[2:5].isdigit())]
    if bad:
        raise SystemExit(f"Review files must be named cvNNN_*.txt to give their fold; found {bad[:3]}.")
    return np.asarray([int(n[2:5]) // 100 for n in names])


def with_fold_as_test(examples: Examples, folds: np.ndarray, k: int) -> Examples:
    given = np.where(folds == k, "test", "train").astype(object)
    return Examples(x=examples.x, labels=examples.labels, ids=examples.ids, given_split=given, dropped=examples.dropped)


def nbsvm_bi(train_texts, train_y, test_texts) -> np.ndarray:
    """Wang & Manning's NBSVM-bi with scikit-learn: binary uni+bigrams, log-count ratio r (alpha 1),
    LinearSVC (C=1) on x*r, weights interpolated w' = (1-beta) mean|w| + beta w, beta = 0.25."""
    from scipy.sparse import diags
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+")
    x_train, x_test = vectorizer.fit_transform(train_texts), vectorizer.transform(test_texts)
    p = 1 + np.asarray(x_train[train_y == 1].sum(0)).ravel()
    q = 1 + np.asarray(x_train[train_y == 0].sum(0)).ravel()
    ratio = diags(np.log((p / p.sum()) / (q / q.sum())))
    svm = LinearSVC(C=1.0, max_iter=10_000).fit(x_train @ ratio, train_y)
    w = svm.coef_.ravel()
    w = 0.75 * np.abs(w).mean() + 0.25 * w
    return ((x_test @ ratio) @ w + 0.25 * svm.intercept_[0] > 0).astype(int)


def cross_validate_model(name: str, examples: Examples, folds: np.ndarray, fold_list: list[int], overrides: dict,
                         source, report_dir=None) -> dict:
    """Out-of-fold predictions, training seconds and predict throughput of one toolkit recipe."""
    predicted = np.full(len(examples), -1)
    fit_seconds, throughput, sizes = [], [], []
    recipe = None
    for k in fold_list:
        solution = PreloadedSolution(with_fold_as_test(examples, folds, k), "default", **overrides)
        run_dir = report_dir if (report_dir is not None and k == fold_list[0]) else None
        solution.fit(source, progress=False, run_dir=run_dir)
        recipe = solution.recipe_
        test = solution.splits_.test
        solution.predict_scores(examples.x[:64])  # warm-up: tracing is not throughput
        began = time.perf_counter()
        scores = solution.predict_scores(examples.x)
        throughput.append(len(examples.x) / (time.perf_counter() - began))
        by_id = dict(zip(examples.ids, scores.argmax(axis=1)))
        index = np.flatnonzero(folds == k)
        classes = list(solution.schema_["class_names"])
        predicted[index] = [by_id[i] for i in examples.ids[index]]
        fold_acc = accuracy(test.y, scores[index].argmax(axis=1)) if len(test) else float("nan")
        fit_seconds.append(solution.training_.seconds)
        sizes.append((len(solution.splits_.train), len(solution.splits_.val)))
        print(f"{name} fold {k}: accuracy {fold_acc:.4f}, fit {solution.training_.seconds:.0f} s "
              f"({solution.training_.epochs_done} epochs), predict {throughput[-1]:.0f} texts/s", flush=True)
        if run_dir is not None:
            report = solution.evaluate()
            solution.write_report(run_dir, report)
            solution.save(run_dir, command=[sys.executable, *sys.argv])
            print(f"{name}: full report of fold {k} in {run_dir}", flush=True)
    return {"predicted": predicted, "classes": classes, "fit_seconds": fit_seconds, "throughput": throughput,
            "train_val_sizes": sizes, "recipe": recipe.to_dict() if recipe else None}


def accuracy_row(name: str, y: np.ndarray, predicted: np.ndarray, mask: np.ndarray, reference: str, notes: str) -> dict:
    interval = bootstrap_interval(accuracy, y[mask], predicted[mask], seed=SEED)
    return row(DATASET, name, "mean CV accuracy", interval.value, unit="fraction", low=interval.low, high=interval.high,
               reference=reference, notes=notes)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="RT-2k 10-fold benchmark of the sentiment solution.")
    parser.add_argument("--models", nargs="+", default=["bow"], help="toolkit models to cross-validate (default: bow, "
                        "the default recipe); also cnn, bilstm, transformer and ensemble (bow + the MiniLM encoder "
                        "of ../shared/weights)")
    parser.add_argument("--folds", nargs="+", type=int, default=list(range(10)), help="folds to run (default: all 10)")
    parser.add_argument("--sequence-folds", nargs="+", type=int, help="folds for cnn / bilstm / transformer "
                        "(default: --folds); fewer folds keep their CPU time in bounds")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for every toolkit model (smoke runs: --set epochs=2)")
    parser.add_argument("--skip-baselines", action="store_true", help="no TF-IDF, NBSVM or VADER rows")
    parser.add_argument("--no-report", action="store_true", help="do not write the full report of fold 0 of the first model")
    parser.add_argument("--no-readme", action="store_true", help="do not regenerate the README results table")
    args = parser.parse_args(argv)
    bad = [k for k in args.folds + (args.sequence_folds or []) if not 0 <= k <= 9]
    if bad:
        parser.error(f"folds are 0 to 9. Received: {bad}.")
    unknown = [m for m in args.models if m not in ("bow", "cnn", "bilstm", "transformer", "ensemble")]
    if unknown:
        parser.error(f"--models takes bow, cnn, bilstm, transformer, ensemble. Received: {unknown}.")
    if "ensemble" in args.models and not (MINILM / "config.json").is_file():
        parser.error(f"the ensemble needs the all-MiniLM-L6-v2 folder at {MINILM} (see shared/weights/README.md).")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    overrides = parse_overrides(args.overrides)
    load_recipe(SentimentRecipe, "default", overrides)  # reject bad overrides before the long work
    source = resolve_data("review_polarity")
    examples = SentimentSolution("default").load_examples(source, load_recipe(SentimentRecipe, "default"), None)
    folds = fold_of(examples.ids)
    classes = sorted(set(examples.labels))
    y = np.asarray([classes.index(v) for v in examples.labels])
    print(f"loaded {len(examples)} reviews ({len(examples.dropped)} dropped) in {time.perf_counter() - began:.0f} s; "
          f"classes {classes}", flush=True)
    rows, settings = [], {"args": vars(args), "overrides": overrides, "models": {}}
    seen_folds = np.isin(folds, args.folds)
    for index, model in enumerate(args.models):
        fold_list = args.folds if model == "bow" or not args.sequence_folds else args.sequence_folds
        report_dir = None if args.no_report or index else next_run_dir(DOMAIN, ROOT / "runs" / "bench")
        result = cross_validate_model(model, examples, folds, fold_list,
                                      {**overrides, "model": model, **MODEL_KEYS.get(model, {})}, source, report_dir)
        mask = np.isin(folds, fold_list)
        recipe = result["recipe"]
        name = f"{model}, default recipe" if model == "bow" else f"{model} (default recipe, model={model})"
        features = (f"{recipe['features']} features, {recipe['ngrams']}-grams, {recipe['optimizer']} lr "
                    f"{recipe['learning_rate']}, {recipe['epochs']} epochs" if model == "bow" else
                    f"max_length {recipe['max_length']} ({recipe['truncation']}), {recipe['optimizer']} lr "
                    f"{recipe['learning_rate']}, {recipe['epochs']} epochs")
        n_train, n_val = (int(np.median(side)) for side in zip(*result["train_val_sizes"]))
        trained_on = (f"trained on {1 - recipe['validation_fraction']:.0%} of the other folds "
                      f"({recipe['validation_fraction']:.0%} validation)")
        folds_note = "all 10 folds" if len(fold_list) == 10 else f"REDUCED: folds {fold_list} only"
        rows.append(accuracy_row(name, y, result["predicted"], mask, REFERENCE if model == "bow" else "",
                                 f"{folds_note}; {features}; {trained_on}"))
        rows.append(row(DATASET, name, "training time per fold", float(np.mean(result["fit_seconds"])), unit="s",
                        notes=f"mean over {len(fold_list)} folds; {n_train:,} training + {n_val:,} validation reviews each; "
                              "Solution.fit, including tf.data and validation"))
        rows.append(row(DATASET, name, "prediction throughput", float(np.median(result["throughput"])), unit="texts/s",
                        notes="median over folds of model.predict on all 2,000 reviews (about 700 words each), after a warm-up"))
        settings["models"][model] = {k: v for k, v in result.items() if k != "predicted"}
        if report_dir is not None:
            settings["report_run"] = str(report_dir.relative_to(ROOT))
    for name, value in PUBLISHED:
        rows.append(row(DATASET, f"published: {name}", "mean CV accuracy", value, unit="fraction",
                        reference="Wang & Manning 2012, Table 3", notes="published figure, not run here"))
    if not args.skip_baselines:
        texts = [str(t) for t in examples.x]
        tfidf, nbsvm, vader = (np.full(len(y), -1) for _ in range(3))
        began_vader = time.perf_counter()
        vader_features = baselines.vader_scores(texts)
        vader_seconds = time.perf_counter() - began_vader
        from sklearn.linear_model import LogisticRegression

        for k in args.folds:
            train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
            tfidf[test] = baselines.tfidf_logistic_regression([texts[i] for i in train], y[train],
                                                              [texts[i] for i in test], len(classes), SEED).argmax(axis=1)
            nbsvm[test] = nbsvm_bi([texts[i] for i in train], y[train], [texts[i] for i in test])
            vader[test] = LogisticRegression(max_iter=1000).fit(vader_features[train], y[train]).predict(vader_features[test])
        folds_note = "all 10 folds" if len(args.folds) == 10 else f"REDUCED: folds {args.folds} only"
        rows.append(accuracy_row("TF-IDF + logistic regression (run here)", y, tfidf, seen_folds, "",
                                 f"{folds_note}; uni+bigram sublinear TF-IDF, C={baselines.TFIDF_C}; trained on all 1,800"))
        rows.append(accuracy_row("NBSVM-bi, scikit-learn reproduction (run here)", y, nbsvm, seen_folds, REFERENCE,
                                 f"{folds_note}; binary uni+bigrams on whitespace tokens, LinearSVC C=1, beta 0.25"))
        rows.append(accuracy_row("VADER + logistic regression (run here)", y, vader, seen_folds, "",
                                 f"{folds_note}; VADER's 4 scores, LR fitted per fold; scoring 2,000 reviews took "
                                 f"{vader_seconds:.0f} s"))
    settings["wall_seconds"] = time.perf_counter() - began
    if len(args.folds) != 10:  # rows of some folds only are a dataset of their own (and keep the 10-fold rows)
        for entry in rows:
            entry["dataset"] = DATASET.replace("10-fold CV", f"folds {', '.join(map(str, args.folds))} of 10 only")
    rows, settings = beside_previous(DOMAIN, rows, settings)
    path = write_results(DOMAIN, rows, settings)
    print()
    print_table(rows)
    print(f"\nwrote {path.relative_to(ROOT)}")
    if not args.no_readme:
        update_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
