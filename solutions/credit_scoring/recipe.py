"""Credit scoring recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import require_value
from solutions.core.search_space import Choice, FloatRange, IntRange
from solutions.tables.solution import TabularRecipe


@dataclass(frozen=True)
class CreditRecipe(TabularRecipe):
    """How a credit-scoring model is trained, calibrated, scaled to points and turned into decisions.

    (The table keys missing, categorical_columns, ignore_columns, test_start,
    min_category_count, max_embedding_dim, hidden_units and dropout are
    documented on TabularRecipe.)

    model: "mlp" (embeddings of the categories and the numbers into an MLP) or
      "wide_deep" (that MLP plus a linear model on one-hot categories and numbers).
    calibration: "platt" (a logistic fit of the validation outcomes on the
      model's logit), "isotonic" (a monotone step fit) or "none". The fitted
      parameters are stored as JSON in schema.json beside the model.
    bad_values: the target values that mean "bad" (default); every other value is
      "good". Empty: a 0/1 target (1 = bad), --positive VALUE, or the German
      credit file's own coding (1 = good, 2 = bad).
    base_score, base_odds, pdo: scorecard scaling. An applicant with good:bad
      odds of base_odds scores base_score points; every pdo points double the odds.
    band_names: the grades, best first; band_edges: the score cut points between
      them (ascending, one fewer than the names), or empty for equal-sized bands
      of the training applicants' scores.
    cost_bad_approved, cost_good_refused: the cost matrix (German credit: 5 and 1).
    threshold_rule: "expected_cost" (approve when the calibrated probability of
      default is below cost_good_refused / (cost_good_refused + cost_bad_approved),
      the decision of least expected cost) or "validation" (the threshold with
      the least cost on the validation applicants).
    group_column: a column (a feature or not) whose groups get their own metrics
      in the report, to check for disparate outcomes; numbers are cut into quartiles.
    n_reasons: how many reason codes each applicant gets.
    members: (TabularRecipe) 10 by default here: on German credit one MLP's test AUC moved by up to
      0.08 between seeds of the same fold, and scores that move with the seed are a model-risk
      problem too. In benchmarks/credit_scoring.py (10 folds) 5 members on one split score AUC 0.789
      and cost 0.514 per applicant against one network's 0.780 and 0.533.
    cross_fit: (TabularRecipe) unset here means on for member ensembles: the training and validation
      applicants are pooled and each member holds out its own fold (tables.cross_fit), so early
      stopping, calibration and the threshold see every applicant out of fold, not 15% of them.
      Chosen on validation in benchmarks/credit_scoring.py: 10 cross-fitted members have the best
      validation AUC, 0.799 on the same 15% holdout applicants of each fold (scored out of fold) and
      0.788 over all 900 out of fold, against 0.798 / 0.783 for 5 cross-fitted members and 0.797 for 5
      members on one split. Test AUC: 0.790, 0.790 and 0.789. `--set cross_fit=false --set members=5`
      is the former recipe.
    """

    CROSS_FIT_DEFAULT: ClassVar[bool] = True

    PRESETS: ClassVar[dict] = {
        "quick": {"epochs": 15, "batch_size": 32, "hidden_units": (16,), "early_stopping_patience": 0,
                  "learning_rate": 5e-3, "members": 1},
        "default": {},
        "accurate": {"epochs": 150, "hidden_units": (64, 32), "dropout": 0.3},
    }
    # What `ksol tune credit_scoring` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "learning_rate": FloatRange(3e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-5, 1e-1, log=True),
        "dropout": FloatRange(0.0, 0.5),
        "hidden_units": Choice(((16,), (32, 16), (64, 32), (128, 64))),
        "batch_size": Choice((16, 32, 64)),
        "max_embedding_dim": IntRange(2, 8),
        "lr_schedule": Choice(("constant", "cosine", "one_cycle")),
    }

    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3
    early_stopping_patience: int = 15
    validation_fraction: float = 0.15
    hidden_units: tuple[int, ...] = (32, 16)
    dropout: float = 0.2
    max_embedding_dim: int = 4
    min_category_count: int = 5
    model: Literal["mlp", "wide_deep"] = "mlp"
    calibration: Literal["platt", "isotonic", "none"] = "platt"
    bad_values: tuple[str, ...] = ()
    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    band_names: tuple[str, ...] = ("A", "B", "C", "D", "E")
    band_edges: tuple[float, ...] = ()
    cost_bad_approved: float = 5.0
    cost_good_refused: float = 1.0
    threshold_rule: Literal["expected_cost", "validation"] = "expected_cost"
    group_column: str | None = None
    n_reasons: int = 4
    members: int = 10

    def check(self) -> None:
        super().check()
        require_value(self.network == "mlp" or self.model == "mlp", "network",
                      '"mlp" with model=wide_deep (the wide part is its own linear model)', self.network)
        require_value(self.base_odds > 0, "base_odds", "a number > 0 (good:bad odds, e.g. 50)", self.base_odds)
        require_value(self.pdo > 0, "pdo", "a number > 0 (points to double the odds)", self.pdo)
        require_value(len(self.band_names) >= 1, "band_names", "a list of at least one grade", list(self.band_names))
        require_value(not self.band_edges or (len(self.band_edges) == len(self.band_names) - 1
                                              and list(self.band_edges) == sorted(self.band_edges)),
                      "band_edges", f"empty, or {len(self.band_names) - 1} ascending score cut points (one fewer than band_names)",
                      list(self.band_edges))
        require_value(self.cost_bad_approved > 0, "cost_bad_approved", "a number > 0", self.cost_bad_approved)
        require_value(self.cost_good_refused > 0, "cost_good_refused", "a number > 0", self.cost_good_refused)
        require_value(self.n_reasons >= 0, "n_reasons", "an integer >= 0", self.n_reasons)
