"""Sentiment recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import Recipe, require_value
from solutions.core.search_space import FloatRange, IntRange

MODEL_NAMES = ("bow", "cnn", "bilstm", "transformer", "hub", "encoder", "ensemble")
SEQUENCE_MODELS = ("cnn", "bilstm", "transformer")
# Models an ensemble can hold: each takes raw strings inside one Keras graph (the hub classifier's
# KerasHub preprocessor runs outside its model, so it cannot join one).
MEMBER_MODELS = ("bow", "cnn", "bilstm", "transformer", "encoder")
ENSEMBLE_WEIGHT_STEP = 0.05


@dataclass(frozen=True)
class SentimentRecipe(Recipe):
    """How a sentiment classifier is trained. Raw strings go in; TextVectorization is inside the model.

    model: "bow" (bag of n-grams into a linear or small dense layer: the fast, strong default),
      "cnn" (1D convolutions over learned embeddings, Kim 2014), "bilstm" (a bidirectional LSTM),
      "transformer" (a small Transformer encoder), "hub" (a KerasHub BERT-family text
      classifier loaded from the local preset directory `hub_preset`; nothing is downloaded),
      "encoder" (a pretrained BERT sentence encoder from `hub_preset`, e.g. all-MiniLM-L6-v2, kept
      frozen: each text's mean-pooled last hidden states, over its non-padding word pieces, go into a
      small head; each training and validation text is embedded once and the head trains on those
      cached embeddings, which is the same training as through the frozen encoder and much faster),
      or "ensemble" (the models in `ensemble_members`, each trained on the same split, their class
      probabilities averaged with weights chosen on the validation split; one saved model).
    optimizer: "sgd" (with momentum 0.9), "adamw", or "auto": SGD for the linear bow model on
      naive-Bayes features (Adam's per-feature steps overfit the rare n-grams there), AdamW otherwise.
    learning_rate: peak learning rate; None picks the model's own (0.25 for the SGD bow model,
      1e-3 for AdamW on bow, 2e-3 for cnn / bilstm / transformer, 5e-5 for hub, 3e-3 for the encoder's head).
      With model=ensemble, optimizer, learning_rate and max_tokens apply to the first member; the other
      members take their own "auto" values (the manifest's training notes list each member's).
    features: for model="bow": "nb" weights binary n-gram features by their naive-Bayes
      log-count ratio, fixed from the training split (Wang & Manning's NBSVM, as a Keras layer);
      "tfidf" uses TF-IDF weights; "binary" plain presence.
    ngrams: n-grams up to this length are features of the bow model (2: unigrams and bigrams).
    max_tokens: vocabulary size (most frequent tokens or n-grams of the training split); None
      picks 1,000,000 n-grams for a linear bow model, 50,000 with a hidden layer, 30,000 words
      for sequence models.
    hidden_units: bow and encoder; 0 is a linear model on the features (the encoder's: its sentence
      embeddings), > 0 adds a ReLU layer of that size.
    nb_alpha: additive smoothing of the naive-Bayes counts (features="nb").
    embedding_dim, units: width of the embeddings and of the CNN filters / LSTM / Transformer.
    embedding_weights: cnn, bilstm, transformer: a word-vector file in GloVe's text format (`word v1 ... vD`
      per line, e.g. glove.6B.100d.txt; a word2vec / fastText .vec header line is read too) whose vectors
      start the embedding (Kim 2014). Read once at fit time for the vocabulary of the training split, which
      is all it keeps in memory: a word is looked up as it is, else as the lower-case form of a file word;
      words not in the file get random rows (normal, the spread of the vectors found; seeded), the padding
      row zeros. The report says how many vocabulary words were found; model.keras holds the matrix (the file
      is not needed to predict) and manifest.json names the file and its SHA-256. The embedding's width must
      equal the file's dimension: embedding_dim for cnn and bilstm, units for the transformer (no default is
      replaced silently: set it, e.g. --set embedding_dim=100 for glove.6B.100d.txt). None: learned from scratch.
    embedding_trainable: with embedding_weights: true trains the vectors with the model (Kim's
      CNN-non-static), false keeps them as read (CNN-static; words missing from the file keep their random rows).
    kernel_sizes: CNN filter widths; num_layers, num_heads: Transformer encoder depth and heads.
    max_length: sequence models read at most this many tokens per window.
    truncation: which tokens a long text keeps: "head" (the first max_length), "tail" (the last),
      or "head_tail" (the first and last halves; the end of a review often says the verdict).
    chunks: chunk-and-average for long texts: > 1 reads up to `chunks` consecutive windows of
      max_length tokens (the encoder's: of encoder_sequence_length word pieces) and averages their class
      probabilities (windows past the text are ignored). `truncation` cuts what is longer than all windows.
    normalize: NLTK normalisation applied before the model, saved in schema.json and applied the
      same way at prediction: "none"; "tweet" (NLTK's TweetTokenizer: lower-cased, handles and
      elongations reduced, emoticons and hashtags kept as tokens); "negation" (NLTK's
      mark_negation: words after "not", "never", "n't"... up to the next .:;!? get a _NEG suffix);
      "tweet_negation" (both).
    standardize: the TextVectorization standardisation: "separate_punctuation" (lower-case and put
      spaces around punctuation, so "great!" is "great" and "!"), "strip_punctuation" (Keras'
      lower_and_strip_punctuation), "lower", or "auto" ("lower" after an NLTK normalisation, which
      already tokenised the text, else "separate_punctuation").
    label_map: rewrites raw labels before training, as "raw=class" pairs, e.g. star ratings
      [1=negative, 2=negative, 3=neutral, 4=positive, 5=positive]; a label missing from a
      non-empty map is an error.
    duplicates: "drop" keeps the first copy of a repeated text and drops every copy of a text
      seen with conflicting labels; "keep" keeps all. Both are counted in the report.
    on_decode_error: bytes that are not UTF-8: "error" (stop and name the file and line),
      "skip" (drop those rows or files, counted), "replace" (keep them with U+FFFD, counted).
    hub_preset: model="hub" or "encoder" (or an ensemble with an encoder member): a local folder that
      KerasHub's from_preset reads; nothing is downloaded. For "hub", a KerasHub preset directory (with
      config.json and the tokenizer's assets), e.g. one written by keras_hub's save_to_preset. For "encoder",
      a BERT-family encoder either as a KerasHub preset (config.json, tokenizer.json,
      assets/tokenizer/vocabulary.txt, model.weights.h5) or in Hugging Face's layout (config.json, vocab.txt,
      tokenizer_config.json, model.safetensors; reading it needs the safetensors package), e.g.
      sentence-transformers' all-MiniLM-L6-v2. model.keras holds the encoder's weights and vocabulary: the
      folder is not needed to predict.
    encoder_sequence_length: model="encoder": word pieces per window, [CLS] and [SEP] included (at most the
      encoder's position count, 512 for BERT). Most sentences need under 40; shorter windows are faster.
      Longer texts are cut by `truncation`, or read in `chunks` windows.
    ensemble_members: model="ensemble": two or more of bow, cnn, bilstm, transformer and encoder, each
      trained as that model would be with this recipe's other keys. Their probabilities are averaged with
      weights on a grid of step 0.05 (summing to 1): the weights with the best validation accuracy win,
      ties going to the lower validation cross-entropy. Members weighted 0 are left out of the saved model;
      the report and manifest give the weights.
    dropout: dropout before the classifier layer.
    feature_dropout: bow only: during training each n-gram feature of a text is dropped with this
      probability (a regulariser for linear models of sparse features).
    """

    PRESETS: ClassVar[dict] = {
        "quick": {"epochs": 6, "batch_size": 16, "max_tokens": 5000, "max_length": 64, "embedding_dim": 16,
                  "units": 16},
        "default": {},
        "accurate": {"epochs": 40},
    }
    # What `ksol tune sentiment` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "ngrams": IntRange(1, 3),
        "nb_alpha": FloatRange(0.1, 2.0, log=True),
        "feature_dropout": FloatRange(0.0, 0.6),
        "epochs": IntRange(5, 20),
        "weight_decay": FloatRange(1e-6, 1e-3, log=True),
    }

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float | None = None  # type: ignore[assignment]
    early_stopping_patience: int = 0
    model: Literal[MODEL_NAMES] = "bow"  # type: ignore[valid-type]
    optimizer: Literal["auto", "sgd", "adamw"] = "auto"
    features: Literal["nb", "tfidf", "binary"] = "nb"
    ngrams: int = 2
    max_tokens: int | None = None
    hidden_units: int = 0
    nb_alpha: float = 1.0
    embedding_dim: int = 64
    units: int = 64
    kernel_sizes: tuple[int, ...] = (3, 4, 5)
    num_layers: int = 2
    num_heads: int = 4
    max_length: int = 400
    truncation: Literal["head", "tail", "head_tail"] = "head_tail"
    chunks: int = 1
    normalize: Literal["none", "tweet", "negation", "tweet_negation"] = "none"
    standardize: Literal["auto", "separate_punctuation", "strip_punctuation", "lower"] = "auto"
    label_map: tuple[str, ...] = ()
    duplicates: Literal["drop", "keep"] = "drop"
    on_decode_error: Literal["error", "skip", "replace"] = "error"
    hub_preset: str | None = None
    encoder_sequence_length: int = 64
    ensemble_members: tuple[str, ...] = ("bow", "encoder")
    embedding_weights: str | None = None
    embedding_trainable: bool = True
    dropout: float = 0.0
    feature_dropout: float = 0.0

    def __post_init__(self) -> None:
        # "auto" values are resolved here, so recipe.yaml records what was actually used.
        # An ensemble resolves them for its first member (member_recipe resolves the others' afresh).
        self._check_members()
        model = self.members()[0]
        if self.optimizer == "auto":
            object.__setattr__(self, "optimizer", "sgd" if model == "bow" and self.features == "nb"
                               and not self.hidden_units else "adamw")
        if self.learning_rate is None:
            rate = ({"hub": 5e-5, "bow": 1e-3, "encoder": 3e-3}.get(model, 2e-3) if self.optimizer == "adamw"
                    else 0.25)
            object.__setattr__(self, "learning_rate", rate)
        if self.max_tokens is None:
            tokens = (50_000 if self.hidden_units else 1_000_000) if model == "bow" else 30_000
            object.__setattr__(self, "max_tokens", tokens)
        super().__post_init__()

    def check(self) -> None:
        super().check()
        self._check_members()
        members = self.members()
        require_value(self.model != "hub" or bool(self.hub_preset), "hub_preset",
                      "a local KerasHub preset directory when model=hub (Nothing is downloaded: pass "
                      "--set hub_preset=/path/to/preset)", self.hub_preset)
        require_value("encoder" not in members or bool(self.hub_preset), "hub_preset",
                      "the local folder of a pretrained BERT encoder when model=encoder or an ensemble member is "
                      "encoder, e.g. --set hub_preset=/path/to/all-MiniLM-L6-v2 (a Hugging Face folder with config.json, "
                      "vocab.txt and model.safetensors, or a KerasHub preset). Nothing is downloaded", self.hub_preset)
        require_value(self.encoder_sequence_length >= 3, "encoder_sequence_length",
                      "an integer >= 3 ([CLS], one word piece, [SEP])", self.encoder_sequence_length)
        require_value(1 <= self.ngrams <= 5, "ngrams", "an integer from 1 to 5", self.ngrams)
        require_value(self.max_tokens >= 10, "max_tokens", "an integer >= 10", self.max_tokens)
        require_value(self.hidden_units >= 0, "hidden_units", "an integer >= 0 (0: linear)", self.hidden_units)
        require_value(self.features != "nb" or self.hidden_units == 0 or "bow" not in members, "hidden_units",
                      "0 with features=nb (the naive-Bayes layer is linear per class; for a hidden layer set "
                      "features=tfidf or binary)", self.hidden_units)
        require_value(self.nb_alpha > 0, "nb_alpha", "a number > 0", self.nb_alpha)
        for name in ("embedding_dim", "units", "num_layers", "num_heads"):
            require_value(getattr(self, name) >= 1, name, "an integer >= 1", getattr(self, name))
        require_value(len(self.kernel_sizes) >= 1 and min(self.kernel_sizes) >= 1, "kernel_sizes",
                      "a list of filter widths >= 1, e.g. [3, 4, 5]", list(self.kernel_sizes))
        require_value(self.max_length >= 4, "max_length", "an integer >= 4", self.max_length)
        require_value(self.chunks >= 1, "chunks", "an integer >= 1 (1: no chunking)", self.chunks)
        require_value(0 <= self.dropout < 1, "dropout", "a number in [0, 1)", self.dropout)
        require_value(0 <= self.feature_dropout < 1, "feature_dropout", "a number in [0, 1)", self.feature_dropout)
        require_value(self.units % self.num_heads == 0 or self.model != "transformer", "num_heads",
                      f"a divisor of units ({self.units}) for the transformer", self.num_heads)
        require_value(self.embedding_weights is None or bool(set(members) & set(SEQUENCE_MODELS)), "embedding_weights",
                      f"unset with model={self.model} (only cnn, bilstm and transformer have a word embedding to start "
                      "from pretrained vectors: pass --set model=cnn, or drop embedding_weights)", self.embedding_weights)
        require_value(self.embedding_weights is None or bool(self.embedding_weights.strip()), "embedding_weights",
                      "the path of a word-vector file, or none", self.embedding_weights)
        require_value(self.embedding_trainable or self.embedding_weights is not None, "embedding_trainable",
                      "true without embedding_weights (false keeps pretrained vectors as read, Kim's CNN-static; a "
                      "frozen random embedding would learn nothing from the words)", self.embedding_trainable)
        for pair in self.label_map:
            require_value("=" in pair and pair.split("=", 1)[1].strip() != "", "label_map",
                          'a list of "raw=class" pairs, e.g. [1=negative, 5=positive]', list(self.label_map))

    def _check_members(self) -> None:
        members = list(self.ensemble_members)
        if self.model != "ensemble":
            return
        require_value(len(members) >= 2 and len(set(members)) == len(members) and set(members) <= set(MEMBER_MODELS),
                      "ensemble_members", f"two or more different models of {', '.join(MEMBER_MODELS)}, e.g. "
                      "[bow, encoder]", members)

    def members(self) -> tuple[str, ...]:
        """The models trained: the ensemble's members, else the one model.

        >>> SentimentRecipe(model="ensemble", ensemble_members=("bow", "cnn")).members()
        ('bow', 'cnn')
        >>> SentimentRecipe(model="cnn").members()
        ('cnn',)
        """
        return tuple(self.ensemble_members) if self.model == "ensemble" else (self.model,)

    def member_recipe(self, member: str) -> "SentimentRecipe":
        """The recipe an ensemble member trains with: this one with model=member; the first member keeps the
        resolved optimizer, learning_rate and max_tokens, the others resolve their own; embedding_weights
        stays with the members that have a word embedding.

        >>> recipe = SentimentRecipe(model="ensemble", ensemble_members=("bow", "cnn"))
        >>> [(r.model, r.optimizer, r.learning_rate) for r in map(recipe.member_recipe, recipe.members())]
        [('bow', 'sgd', 0.25), ('cnn', 'adamw', 0.002)]
        """
        if self.model != "ensemble":
            return self
        values = {**self.to_dict(), "model": member}
        if member != self.members()[0]:
            values.update(optimizer="auto", learning_rate=None, max_tokens=None)
        if member not in SEQUENCE_MODELS:
            values.update(embedding_weights=None, embedding_trainable=True)
        return SentimentRecipe(**values)

    def label_mapping(self) -> dict[str, str]:
        """`label_map` as a dict from raw label text to class name.

        >>> SentimentRecipe(label_map=("1=neg", "5=pos")).label_mapping()
        {'1': 'neg', '5': 'pos'}
        """
        return {raw.strip(): name.strip() for raw, name in (pair.split("=", 1) for pair in self.label_map)}

    def embedding_width(self) -> tuple[str, int]:
        """(recipe key, value) of the width of the sequence model's word embedding: `units` for the transformer
        (its embedding is as wide as its encoder), else `embedding_dim`.

        >>> SentimentRecipe(model="transformer", units=48).embedding_width()
        ('units', 48)
        """
        name = "units" if self.model == "transformer" else "embedding_dim"
        return name, getattr(self, name)

    def model_standardize(self) -> str:
        """The TextVectorization standardisation `standardize` resolves to.

        >>> SentimentRecipe(normalize="tweet").model_standardize()
        'lower'
        """
        if self.standardize != "auto":
            return self.standardize
        return "lower" if self.normalize != "none" else "separate_punctuation"
