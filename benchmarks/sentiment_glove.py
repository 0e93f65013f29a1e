"""MR sentence polarity benchmark of the sentiment CNN with GloVe vectors (Kim 2014's variants), the MiniLM sentence
encoder and ensembles: 10-fold CV.

Protocol (Kim 2014): Pang & Lee's sentence polarity v1.0 (MR: rt-polarity.pos / .neg, 5,331 + 5,331
snippets; datasets/rt_polarity.yaml) has no official folds, so a seeded stratified 10-fold split
(scikit-learn StratifiedKFold, shuffled, seed 0); each fold is scored by a model trained on the other
nine, of which the toolkit holds out 10% for validation (it keeps the best epoch on validation loss; Kim
also took 10% of the training folds as a dev set).

Rows, each the mean of the fold accuracies (interval: bootstrap over the pooled out-of-fold predictions):
  cnn-rand        model=cnn, embedding learned from scratch
  cnn-static      model=cnn, embedding_weights=GloVe, embedding_trainable=false
  cnn-non-static  model=cnn, embedding_weights=GloVe, embedding_trainable=true
  bow             the default recipe (bag of uni+bigrams with naive-Bayes weights)
  encoder         model=encoder: all-MiniLM-L6-v2 frozen, mean-pooled embeddings (64 word pieces) into a softmax
                  layer trained on the cached embeddings
  ensemble        model=ensemble of bow and encoder, weights chosen on each fold's validation split
  ensemble-cnn    model=ensemble of bow, encoder and cnn-non-static; Kim's CNN keys (batch 50, dropout 0.5,
                  10 epochs) are the recipe of all three members
beside Kim 2014 (CNN-rand 76.1%, CNN-static 81.0%, CNN-non-static 81.5%) and Wang & Manning 2012 (NBSVM-bi
79.4%), and a scikit-learn NBSVM-bi and TF-IDF + logistic regression run here on the same folds. The CNNs
follow Kim's architecture (filter widths 3, 4, 5 with 100 maps each, dropout 0.5, mini-batches of 50) with
50-dimensional vectors (Kim: 300-dimensional word2vec), AdamW instead of Adadelta and no max-norm constraint;
all three share the width, so only the embedding's start differs. The encoder rows also report the embedding
throughput (sentences/s, training + validation texts embedded once per fold) and the ensembles the weights chosen
per fold. Writes benchmarks/results/sentiment_mr.json (not with --limit, a smoke run).

    python benchmarks/sentiment_glove.py                                   # full protocol: 4 models x 10 folds
    python benchmarks/sentiment_glove.py --models cnn-static bow --folds 0 1 2
    python benchmarks/sentiment_glove.py --models encoder ensemble --folds 0 --limit 300 --set epochs=2   # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _common import ROOT, print_table, row, write_results
from sentiment import PreloadedSolution, nbsvm_bi, with_fold_as_test

from solutions.core.config import load_recipe, parse_overrides
from solutions.core.datasets import resolve_data
from solutions.core.metrics import accuracy, bootstrap_interval
from solutions.core.runs import fingerprint_path
from solutions.sentiment import SentimentSolution, baselines
from solutions.sentiment.recipe import SentimentRecipe

DOMAIN = "sentiment_mr"
DATASET = "MR sentence polarity (rt-polarity v1.0), 10-fold CV"
GLOVE = ROOT.parent / "shared" / "weights" / "glove.6B.50d.100k.txt"
MINILM = ROOT.parent / "shared" / "weights" / "all-MiniLM-L6-v2"
THROUGHPUT = "embedding throughput (sentences/s)"
SEED = 0
FOLDS = 10
KIM_CNN = {"model": "cnn", "kernel_sizes": (3, 4, 5), "units": 100, "dropout": 0.5, "batch_size": 50, "max_length": 64,
           "embedding_dim": 50, "epochs": 10}
MODELS = {
    "cnn-rand": ({**KIM_CNN}, "Kim 2014: CNN-rand 76.1%"),
    "cnn-static": ({**KIM_CNN, "embedding_weights": "GLOVE", "embedding_trainable": False}, "Kim 2014: CNN-static 81.0%"),
    "cnn-non-static": ({**KIM_CNN, "embedding_weights": "GLOVE", "embedding_trainable": True},
                       "Kim 2014: CNN-non-static 81.5%"),
    "bow": ({}, "Wang & Manning 2012: NBSVM-bi 79.4%"),
    "encoder": ({"model": "encoder", "hub_preset": "MINILM"}, "design notes: frozen MiniLM + logistic regression 76.7%"),
    "ensemble": ({"model": "ensemble", "ensemble_members": ("bow", "encoder"), "hub_preset": "MINILM"}, ""),
    "ensemble-cnn": ({**KIM_CNN, "model": "ensemble", "ensemble_members": ("bow", "encoder", "cnn"), "hub_preset": "MINILM",
                      "embedding_weights": "GLOVE", "embedding_trainable": True}, ""),
}
PUBLISHED = [("Kim 2014 CNN-rand", 0.761, "Kim 2014, Table 2"), ("Kim 2014 CNN-static", 0.810, "Kim 2014, Table 2"),
             ("Kim 2014 CNN-non-static", 0.815, "Kim 2014, Table 2"),
             ("Kim 2014 CNN-multichannel", 0.811, "Kim 2014, Table 2"),
             ("NBSVM-bi", 0.794, "Wang & Manning 2012, Table 3")]


def seeded_folds(y: np.ndarray, seed: int = SEED) -> np.ndarray:
    """The fold (0..9) of each example: a shuffled, stratified 10-fold split."""
    from sklearn.model_selection import StratifiedKFold

    folds = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        folds[test] = k
    return folds


def cross_validate(name: str, examples, folds: np.ndarray, fold_list: list[int], overrides: dict, source) -> dict:
    """Out-of-fold predictions, fold accuracies, fit seconds and training notes (per fold) of one toolkit recipe."""
    predicted = np.full(len(examples), -1)
    fold_accuracy, fit_seconds, fold_notes, recipe = [], [], [], None
    for k in fold_list:
        solution = PreloadedSolution(with_fold_as_test(examples, folds, k), "default", **overrides)
        solution.fit(source, progress=False)
        recipe = solution.recipe_
        fold_notes.append(solution.training_notes_)
        index = np.flatnonzero(folds == k)
        scores = solution.predict_scores(examples.x[index])
        classes = list(solution.schema_["class_names"])
        if classes != sorted(set(examples.labels)):
            raise SystemExit(f"The solution's classes {classes} are not the sorted labels; the pooled scores need them so.")
        predicted[index] = scores.argmax(axis=1)
        truth = np.asarray([classes.index(v) for v in examples.labels[index]])
        fold_accuracy.append(accuracy(truth, predicted[index]))
        fit_seconds.append(solution.timings_["fit_seconds"])  # the whole fit: an encoder's embedding is most of it
        print(f"{name} fold {k}: accuracy {fold_accuracy[-1]:.4f}, fit {fit_seconds[-1]:.0f} s "
              f"(training loops {solution.training_.seconds:.0f} s, "
              f"{solution.training_.epochs_done} epochs, best {solution.training_.best_epoch})", flush=True)
    return {"predicted": predicted, "classes": classes, "fold_accuracy": fold_accuracy, "fit_seconds": fit_seconds,
            "notes": fold_notes[-1] if fold_notes else {}, "fold_notes": fold_notes,
            "recipe": recipe.to_dict() if recipe else None}


def stratified_subset(y: np.ndarray, n: int, seed: int = SEED) -> np.ndarray:
    """The sorted indices of a seeded, stratified sample of `n` examples (smoke runs)."""
    from sklearn.model_selection import train_test_split

    if n >= len(y):
        return np.arange(len(y))
    index, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(index)


def describe(name: str, recipe: dict, notes: dict) -> str:
    """The notes of a row: the model's settings."""
    if name == "bow":
        return f"{recipe['features']} features, {recipe['ngrams']}-grams"
    if recipe["model"] == "encoder":
        return f"{notes.get('sentence encoder', '')}; {notes.get('encoder windows', '')}"
    if recipe["model"] == "ensemble":
        return f"members {', '.join(recipe['ensemble_members'])}; weights chosen on each fold's validation split"
    return (f"filters {list(recipe['kernel_sizes'])} x {recipe['units']}, embedding {recipe['embedding_dim']}"
            + (f", {notes.get('vocabulary words found in the file', '')} vocabulary words in GloVe"
               if recipe.get("embedding_weights") else ", random init"))


def extra_rows(name: str, fold_notes: list[dict]) -> list[dict]:
    """The embedding throughput of the rows with an encoder, and an ensemble's weights per fold."""
    rows = []
    rates = [value for notes in fold_notes for key, value in notes.items() if key.endswith(THROUGHPUT) and value]
    if rates:
        rows.append(row(DATASET, f"{name} (toolkit)", "embedding throughput", float(np.mean(rates)), unit="sentences/s",
                        notes=f"mean over {len(rates)} folds: training + validation texts embedded once (tokenising "
                              f"included), batches of similar length; per fold {', '.join(f'{r:.1f}' for r in rates)}"))
    weights = [notes["ensemble weights by member"] for notes in fold_notes if "ensemble weights by member" in notes]
    if weights:
        members = list(weights[0])
        mean = {m: float(np.mean([w[m] for w in weights])) for m in members}
        rows.append(row(DATASET, f"{name} (toolkit)", "ensemble weight of " + members[0], mean[members[0]], unit="fraction",
                        notes="mean over folds; per fold: " + "; ".join(
                            ", ".join(f"{m} {w[m]:.2f}" for m in members) for w in weights)))
    return rows


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="MR 10-fold benchmark of the sentiment CNN with GloVe vectors.")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="rows to run (default: all)")
    parser.add_argument("--folds", nargs="+", type=int, default=list(range(FOLDS)), help="folds to run (default: all 10)")
    parser.add_argument("--glove", type=Path, default=GLOVE, help=f"GloVe text file (default: {GLOVE})")
    parser.add_argument("--minilm", type=Path, default=MINILM, help=f"all-MiniLM-L6-v2 folder (default: {MINILM})")
    parser.add_argument("--limit", type=int, help="a seeded stratified sample of N sentences (smoke runs; nothing is written)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for every toolkit model (smoke runs: --set epochs=1)")
    parser.add_argument("--skip-baselines", action="store_true", help="no NBSVM-bi or TF-IDF rows run here")
    args = parser.parse_args(argv)
    bad = [k for k in args.folds if not 0 <= k < FOLDS]
    if bad:
        parser.error(f"folds are 0 to {FOLDS - 1}. Received: {bad}.")
    if any("embedding_weights" in MODELS[m][0] for m in args.models) and not args.glove.is_file():
        parser.error(f"--glove {args.glove} is not a file; the cnn-static and cnn-non-static rows need GloVe vectors "
                     "(glove.6B.zip from Stanford NLP), or leave them out with --models cnn-rand bow.")
    if any("hub_preset" in MODELS[m][0] for m in args.models) and not (args.minilm / "config.json").is_file():
        parser.error(f"--minilm {args.minilm} is no encoder folder; the encoder and ensemble rows need "
                     "sentence-transformers/all-MiniLM-L6-v2 (see shared/weights/README.md), or leave them out with --models.")
    if args.limit is not None and args.limit < 4 * FOLDS:
        parser.error(f"--limit must be at least {4 * FOLDS} sentences. Received: {args.limit}.")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    overrides = parse_overrides(args.overrides)
    paths = {"GLOVE": str(args.glove.resolve()), "MINILM": str(args.minilm.resolve())}
    glove = paths["GLOVE"]
    plans = {m: {**{k: paths.get(v, v) if isinstance(v, str) else v for k, v in MODELS[m][0].items()}, **overrides}
             for m in args.models}
    for plan in plans.values():  # reject bad overrides before the long work
        load_recipe(SentimentRecipe, "default", plan)
    source = resolve_data("rt_polarity")
    examples = SentimentSolution("default").load_examples(source, load_recipe(SentimentRecipe, "default"), None)
    classes = sorted(set(examples.labels))
    y = np.asarray([classes.index(v) for v in examples.labels])
    if args.limit is not None:
        keep = stratified_subset(y, args.limit)
        examples, y = examples.subset(keep), y[keep]
    folds = seeded_folds(y)
    print(f"loaded {len(examples)} sentences ({len(examples.dropped)} dropped) in {time.perf_counter() - began:.0f} s; "
          f"classes {classes}", flush=True)
    folds_note = "all 10 folds" if len(args.folds) == FOLDS else f"REDUCED: folds {args.folds} only"
    if args.limit is not None:
        folds_note += f"; SMOKE: {len(y)} sentences"
    seen = np.isin(folds, args.folds)
    rows, settings = [], {"args": {**vars(args), "glove": glove, "minilm": paths["MINILM"]}, "overrides": overrides, "models": {},
                          "glove_sha256": fingerprint_path(args.glove) if args.glove.is_file() else None}
    for name in args.models:
        result = cross_validate(name, examples, folds, args.folds, plans[name], source)
        recipe, notes = result["recipe"], result["notes"]
        interval = bootstrap_interval(accuracy, y[seen], result["predicted"][seen], seed=SEED)
        detail = describe(name, recipe, notes)
        rows.append(row(DATASET, f"{name} (toolkit)", "mean CV accuracy", float(np.mean(result["fold_accuracy"])),
                        unit="fraction", low=interval.low, high=interval.high, reference=MODELS[name][1],
                        notes=f"{folds_note}; {detail}; {recipe['optimizer']} lr {recipe['learning_rate']}, "
                              f"{recipe['epochs']} epochs; fold sd {np.std(result['fold_accuracy']):.4f}"))
        rows.append(row(DATASET, f"{name} (toolkit)", "training time per fold", float(np.mean(result["fit_seconds"])),
                        unit="s", notes=f"mean over {len(args.folds)} folds; Solution.fit wall time: model build, vocabulary, "
                              "embedding (encoder), training with tf.data and validation"))
        rows.extend(extra_rows(name, result["fold_notes"]))
        settings["models"][name] = {k: v for k, v in result.items() if k != "predicted"}
    for name, value, reference in PUBLISHED:
        rows.append(row(DATASET, f"published: {name}", "mean CV accuracy", value, unit="fraction", reference=reference,
                        notes="published figure, not run here"))
    if not args.skip_baselines:
        texts = [str(t) for t in examples.x]
        nbsvm, tfidf = np.full(len(y), -1), np.full(len(y), -1)
        for k in args.folds:
            train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
            nbsvm[test] = nbsvm_bi([texts[i] for i in train], y[train], [texts[i] for i in test])
            tfidf[test] = baselines.tfidf_logistic_regression([texts[i] for i in train], y[train], [texts[i] for i in test],
                                                              len(classes), SEED).argmax(axis=1)
        for name, predicted, reference in (("NBSVM-bi, scikit-learn reproduction (run here)", nbsvm, "Wang & Manning 2012: NBSVM-bi 79.4%"),
                                           ("TF-IDF + logistic regression (run here)", tfidf, "")):
            interval = bootstrap_interval(accuracy, y[seen], predicted[seen], seed=SEED)
            per_fold = [accuracy(y[folds == k], predicted[folds == k]) for k in args.folds]
            rows.append(row(DATASET, name, "mean CV accuracy", float(np.mean(per_fold)), unit="fraction",
                            low=interval.low, high=interval.high, reference=reference,
                            notes=f"{folds_note}; trained on all nine other folds"))
    settings["wall_seconds"] = time.perf_counter() - began
    if len(args.folds) != FOLDS:  # so the README's summary row says it too, not only the notes
        for entry in rows:
            entry["dataset"] = DATASET.replace(f"{FOLDS}-fold CV", f"folds {', '.join(map(str, args.folds))} of {FOLDS} only")
    print()
    print_table(rows)
    if args.limit is not None:
        print(f"\nsmoke run on {len(y)} sentences: nothing written")
        return 0
    path = write_results(DOMAIN, rows, settings)
    print(f"\nwrote {path.relative_to(ROOT)} (python benchmarks/readme_table.py regenerates the README table)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
