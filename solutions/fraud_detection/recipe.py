"""Fraud detection recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import require_value
from solutions.core.search_space import Choice, FloatRange, IntRange
from solutions.tables.numeric_bins import NUMERIC_EMBEDDINGS
from solutions.tables.solution import TabularRecipe


@dataclass(frozen=True)
class FraudRecipe(TabularRecipe):
    """How a fraud detector is trained and how its alert threshold is chosen.

    (The table keys missing, categorical_columns, ignore_columns, test_start,
    min_category_count, max_embedding_dim, hidden_units and dropout are
    documented on TabularRecipe.)

    detector: "mlp" (a classifier on the labels), "autoencoder" (an anomaly
      detector trained on legitimate rows only; its score is the log
      reconstruction error) or "combined" (both, stacked by a logistic
      regression fitted on the validation split).
    imbalance: how the MLP copes with rare frauds: "class_weight" (each class
      weighs half of the loss), "focal" (focal loss, focusing on hard rows),
      "oversample" (fraud rows repeated so they make `oversample_ratio` of each
      epoch), "gan" (a conditional GAN adds synthetic fraud rows until they make
      `oversample_ratio` of each epoch) or "none". The default is the strategy with
      the best AUPRC in benchmarks/fraud_detection.py (fraud_oracle, out of time):
      oversample 0.159, class_weight 0.151, focal 0.142, gan 0.110.
    oversample_ratio: the share of fraud rows in an epoch with "oversample" or "gan".
    focal_gamma: the focusing parameter of the focal loss.
    gan_steps, gan_noise_dim: training steps and noise width of the conditional GAN.
    autoencoder_units: widths of the autoencoder's encoder (the decoder mirrors
      them); autoencoder_epochs: its training epochs in the combined detector
      (early stopping on validation reconstruction error); detector="autoencoder"
      trains it for `epochs` like any model.
    threshold_rule: "cost" (least expected cost on validation), "budget" (flag
      the top `alert_budget` share) or "recall" (catch `target_recall` of the frauds).
    missed_fraud_cost: the cost of a fraud that is not flagged; with
      `amount_column`, that column's value in the row is the cost instead.
    review_cost: the cost of reviewing one alert.
    alert_budget: the share of rows the team can review (rule "budget"; also reported for every rule).
    target_recall: the share of frauds to catch (rule "recall").
    n_reasons: how many top reasons each scored row gets.
    network, tabm_k, numeric_embedding (TabularRecipe): by default one MLP on periodic embeddings of the
      numbers ("MLP-PLR", Gorishniy et al. 2022): network="tabm" with tabm_k=1 is a plain MLP of
      tabm_blocks layers of tabm_width (TabM's adapters need k > 1), trained with a constant learning
      rate, weight_decay 3e-4 and the best epoch by validation AUPRC (`monitor`; with
      detector="autoencoder", which has no labels to rank, the default becomes val_loss). Chosen on validation in
      benchmarks/fraud_networks.py (fraud_oracle, 5 seeds, validation / test AUPRC means): MLP-PLR
      0.212 / 0.160, TabM k=16 + PLR 0.200 / 0.157, the former default MLP (hidden_units, dropout)
      0.171 / 0.159, HistGradientBoosting tuned on validation 0.210 / 0.168. network="mlp" is that MLP.
    members: (TabularRecipe) 1 by default here, to keep one-row scoring near a millisecond. On
      fraud_oracle (seed 0) 5 members scored AUPRC 0.171 on validation and 0.167 on test against one
      network's 0.163 and 0.160, at 2.1 ms instead of 1.3 ms per row and 2.4x the training time.
    """

    PRESETS: ClassVar[dict] = {
        "quick": {"epochs": 8, "batch_size": 64, "hidden_units": (32, 16), "early_stopping_patience": 0,
                  "learning_rate": 3e-3, "gan_steps": 150, "autoencoder_epochs": 5},
        "default": {},
        "accurate": {"epochs": 60, "hidden_units": (128, 64, 32), "gan_steps": 3000, "autoencoder_epochs": 60},
    }
    # What `ksol tune fraud_detection` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "learning_rate": FloatRange(3e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-6, 1e-2, log=True),
        "dropout": FloatRange(0.0, 0.5),
        "tabm_width": Choice((64, 128, 256)),
        "tabm_blocks": IntRange(1, 3),
        "batch_size": Choice((128, 256, 512)),
        "oversample_ratio": FloatRange(0.1, 0.5),
        "max_embedding_dim": IntRange(2, 8),
    }

    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 2e-3
    lr_schedule: Literal["constant", "cosine", "one_cycle"] = "constant"
    weight_decay: float = 3e-4
    monitor: str = "val_auprc"
    network: Literal["mlp", "tabm"] = "tabm"
    tabm_k: int = 1
    numeric_embedding: Literal[NUMERIC_EMBEDDINGS] = "periodic"  # type: ignore[valid-type]
    early_stopping_patience: int = 8
    validation_fraction: float = 0.15
    dropout: float = 0.3
    max_embedding_dim: int = 4
    detector: Literal["mlp", "autoencoder", "combined"] = "mlp"
    imbalance: Literal["class_weight", "focal", "oversample", "gan", "none"] = "oversample"
    oversample_ratio: float = 0.3
    focal_gamma: float = 2.0
    gan_steps: int = 1000
    gan_noise_dim: int = 16
    autoencoder_units: tuple[int, ...] = (32, 8)
    autoencoder_epochs: int = 30
    threshold_rule: Literal["cost", "budget", "recall"] = "cost"
    missed_fraud_cost: float = 100.0
    amount_column: str | None = None
    review_cost: float = 5.0
    alert_budget: float = 0.05
    target_recall: float = 0.8
    n_reasons: int = 3

    def __post_init__(self) -> None:
        if self.detector == "autoencoder" and self.monitor == "val_auprc":  # no labels to rank: it logs its loss only
            object.__setattr__(self, "monitor", "val_loss")
        super().__post_init__()

    def check(self) -> None:
        super().check()
        require_value(self.cross_fit is not True or (self.detector == "mlp" and self.imbalance in ("none", "focal")), "cross_fit",
                      "false unless detector=mlp with imbalance=none or focal (resampled or weighted rows are not "
                      "split per member)", self.cross_fit)
        require_value(0 < self.oversample_ratio < 1, "oversample_ratio", "a share between 0 and 1", self.oversample_ratio)
        require_value(self.focal_gamma >= 0, "focal_gamma", "a number >= 0", self.focal_gamma)
        require_value(self.gan_steps >= 1, "gan_steps", "an integer >= 1", self.gan_steps)
        require_value(self.gan_noise_dim >= 1, "gan_noise_dim", "an integer >= 1", self.gan_noise_dim)
        require_value(len(self.autoencoder_units) >= 1 and min(self.autoencoder_units) >= 1, "autoencoder_units",
                      "a list of layer widths, each >= 1", list(self.autoencoder_units))
        require_value(self.autoencoder_epochs >= 1, "autoencoder_epochs", "an integer >= 1", self.autoencoder_epochs)
        require_value(self.missed_fraud_cost >= 0, "missed_fraud_cost", "a number >= 0", self.missed_fraud_cost)
        require_value(self.review_cost >= 0, "review_cost", "a number >= 0", self.review_cost)
        require_value(0 < self.alert_budget < 1, "alert_budget", "a share between 0 and 1", self.alert_budget)
        require_value(0 < self.target_recall <= 1, "target_recall", "a share in (0, 1]", self.target_recall)
        require_value(self.n_reasons >= 0, "n_reasons", "an integer >= 0", self.n_reasons)
