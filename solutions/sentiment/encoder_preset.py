"""The local folder of a pretrained BERT encoder (recipe key hub_preset with model="encoder"): checked, then loaded.

KerasHub's `from_preset` reads two layouts, and both are accepted; nothing is downloaded:
  - a KerasHub preset (keras_hub's save_to_preset): config.json naming the BertBackbone class,
    tokenizer.json, assets/tokenizer/vocabulary.txt and model.weights.h5;
  - Hugging Face's layout (e.g. sentence-transformers/all-MiniLM-L6-v2): config.json with
    model_type "bert", vocab.txt, tokenizer_config.json and model.safetensors, read through the
    safetensors package.
Each file is checked before any data is read, and a missing one is named with the fix.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError

KERAS_FILES = ("config.json", "tokenizer.json", "assets/tokenizer/vocabulary.txt")
HF_FILES = ("config.json", "vocab.txt", "tokenizer_config.json")
KERAS_WEIGHTS = ("model.weights.h5", "model.weights.json")  # one file, or the index of sharded ones
HF_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
INSTALL_HUB = "pip install 'keras-solutions[hub]' (keras-hub and safetensors)"


@dataclass(frozen=True)
class EncoderPreset:
    """A checked encoder folder: its layout ("keras_hub" or "hugging_face") and how many positions it reads."""

    path: Path
    layout: str
    max_positions: int


def _describe(layout: str) -> str:
    files = KERAS_FILES + KERAS_WEIGHTS[:1] if layout == "keras_hub" else HF_FILES + HF_WEIGHTS[:1]
    return ", ".join(files)


def check_encoder_preset(value: str | None, sequence_length: int) -> EncoderPreset:
    """The encoder folder `value` (recipe key hub_preset), or a ConfigError naming what is missing and the fix.

    >>> check_encoder_preset("/no/such/folder", 64)
    Traceback (most recent call last):
    ...
    solutions.core.errors.ConfigError: Recipe key `hub_preset` must be the local folder of a BERT encoder for model=encoder; /no/such/folder is not a folder. Nothing is downloaded: pass the folder of a Hugging Face download (config.json, vocab.txt, tokenizer_config.json, model.safetensors) or of keras_hub's save_to_preset. Received: hub_preset='/no/such/folder'.
    """
    received = f"Received: hub_preset={value!r}."
    fix = (f"Nothing is downloaded: pass the folder of a Hugging Face download ({_describe('hugging_face')}) or of "
           "keras_hub's save_to_preset.")
    if not value:
        raise ConfigError(f"model=encoder needs the local folder of a BERT encoder in recipe key `hub_preset`. {fix} {received}")
    path = Path(value)
    if not path.is_dir():
        raise ConfigError(f"Recipe key `hub_preset` must be the local folder of a BERT encoder for model=encoder; "
                          f"{path} is not a folder. {fix} {received}")
    if not (path / "config.json").is_file():
        raise ConfigError(f"Recipe key `hub_preset`: {path} has no config.json, so it is no encoder folder. {fix} {received}")
    config = _read_config(path, received)
    layout = "keras_hub" if "class_name" in config else "hugging_face"
    if layout == "keras_hub" and config.get("class_name") != "BertBackbone":
        raise ConfigError(f"Recipe key `hub_preset`: {path}/config.json describes a {config.get('class_name')!r}; "
                          f"model=encoder reads a BertBackbone (a BERT-family encoder). {received}")
    if layout == "hugging_face" and config.get("model_type") != "bert":
        raise ConfigError(f"Recipe key `hub_preset`: {path}/config.json has model_type={config.get('model_type')!r}; "
                          f"model=encoder reads BERT encoders (model_type 'bert', as all-MiniLM-L6-v2). {received}")
    required, weights = (KERAS_FILES, KERAS_WEIGHTS) if layout == "keras_hub" else (HF_FILES, HF_WEIGHTS)
    missing = [name for name in required if not (path / name).is_file()]
    if not any((path / name).is_file() for name in weights):
        missing.append(weights[0])
    if missing:
        vocabulary = [name for name in missing if "vocab" in name]
        raise ConfigError(
            f"Recipe key `hub_preset`: the encoder folder {path} ({layout.replace('_', ' ')} layout) lacks "
            f"{', '.join(missing)}" + (" (the word-piece vocabulary the tokenizer reads)" if vocabulary else "")
            + f". A complete folder holds {_describe(layout)}: copy the missing files from the same download. {received}")
    if importlib.util.find_spec("keras_hub") is None:
        raise ConfigError(f"model=encoder needs keras-hub, which is not installed: {INSTALL_HUB}.")
    if layout == "hugging_face" and importlib.util.find_spec("safetensors") is None:
        raise ConfigError(f"Reading the Hugging Face folder {path} (model.safetensors) needs the safetensors package, "
                          f"which is not installed: pip install safetensors, or {INSTALL_HUB}.")
    positions = int(config.get("config", {}).get("max_sequence_length", 0) if layout == "keras_hub"
                    else config.get("max_position_embeddings", 0))
    if positions and sequence_length > positions:
        raise ConfigError(f"Recipe key `encoder_sequence_length` must be at most {positions}, the positions the encoder "
                          f"in {path} was trained for. Received: encoder_sequence_length={sequence_length}.")
    return EncoderPreset(path, layout, positions)


def _read_config(path: Path, received: str) -> dict[str, Any]:
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"Recipe key `hub_preset`: {path}/config.json could not be read as JSON: {error}. {received}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"Recipe key `hub_preset`: {path}/config.json holds no JSON object. {received}")
    return config


def load_bert_encoder(preset: EncoderPreset):
    """(BertBackbone, BertTokenizer) from a checked folder, the backbone frozen; a ConfigError when KerasHub cannot
    read it (a damaged weights file, say)."""
    import keras_hub

    try:
        backbone = keras_hub.models.BertBackbone.from_preset(str(preset.path))
        tokenizer = keras_hub.models.BertTokenizer.from_preset(str(preset.path))
    except (ValueError, OSError, KeyError, TypeError) as error:
        detail = " ".join(str(error).split())
        raise ConfigError(f"KerasHub could not load a BERT encoder from {preset.path} ({preset.layout.replace('_', ' ')} "
                          f"layout): {detail}. Check that the folder is one complete download.") from None
    if tokenizer.pad_token_id != 0:
        raise ConfigError(f"The vocabulary in {preset.path} has [PAD] at index {tokenizer.pad_token_id}; model=encoder needs "
                          "BERT's layout, [PAD] first (index 0).")
    backbone.trainable = False
    return backbone, tokenizer
