"""A tiny random BERT (two layers, 16 wide, a vocabulary of the sample's words) written as a local encoder folder,
in KerasHub's preset layout or in Hugging Face's, so the encoder model is tested without real weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from solutions.sentiment.sample import NEGATIVE_WORDS, NEUTRAL_WORDS, POSITIVE_WORDS, SUBJECTS

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# No dropout, so training through the frozen encoder is deterministic (test_encoder compares it with the cache).
CONFIG = {"num_layers": 2, "num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32, "max_sequence_length": 64, "dropout": 0.0}


def tiny_vocabulary() -> list[str]:
    words = {w for phrase in SUBJECTS for w in phrase.split()} | set(POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS)
    return SPECIAL + sorted(words) + ["not", "never", "but", "and", "a", "was", "is", ",", ".", "!", "##s"]


def tiny_backbone(seed: int = 0):
    import keras
    import keras_hub

    keras.utils.set_random_seed(seed)
    return keras_hub.models.BertBackbone(vocabulary_size=len(tiny_vocabulary()), **CONFIG)


def write_keras_preset(folder: Path, seed: int = 0) -> Path:
    """keras_hub's own preset layout (save_to_preset of the backbone and its tokenizer)."""
    import keras_hub

    tiny_backbone(seed).save_to_preset(str(folder))
    keras_hub.models.BertTokenizer(vocabulary=tiny_vocabulary(), lowercase=True).save_to_preset(str(folder))
    return folder


class _Recorder:
    """Stands in for KerasHub's SafetensorLoader: KerasHub's own BERT converter names each Hugging Face tensor of
    a Keras variable, and the tensor is rebuilt from the variable (the inverse of the converter's hook)."""

    def __init__(self):
        self.tensors: dict[str, np.ndarray] = {}

    def get_tensor(self, key):
        raise KeyError(key)  # no "gamma" LayerNorm names: the sentence-transformers naming (weight / bias)

    def port_weight(self, keras_variable, hf_weight_key, hook_fn=None):
        value = np.asarray(keras_variable.numpy())
        if hook_fn is None:
            tensor = value
        elif hf_weight_key.endswith("bias"):
            tensor = value.reshape(-1)  # per-head biases are one vector in BertModel
        elif value.ndim == 3:  # attention kernels (hidden, heads, head_dim) or (heads, head_dim, hidden)
            tensor = value.reshape(int(round(np.sqrt(value.size))), -1).T
        else:
            tensor = value.T  # BertModel's dense weights are (out, in)
        shape = tuple(keras_variable.shape)
        assert hook_fn is None or np.array_equal(np.asarray(hook_fn(tensor, shape)), value), hf_weight_key
        self.tensors[hf_weight_key] = np.ascontiguousarray(tensor, dtype=np.float32)


def write_hugging_face_folder(folder: Path, seed: int = 0) -> Path:
    """Hugging Face's layout, as sentence-transformers ships all-MiniLM-L6-v2: config.json, vocab.txt,
    tokenizer_config.json and model.safetensors (tensor names as BertModel's)."""
    from safetensors.numpy import save_file

    from keras_hub.src.utils.transformers import convert_bert

    backbone = tiny_backbone(seed)
    folder.mkdir(parents=True, exist_ok=True)
    recorder = _Recorder()
    convert_bert.convert_weights(backbone, recorder, {})
    save_file(recorder.tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(tiny_vocabulary()),
        "num_hidden_layers": CONFIG["num_layers"], "num_attention_heads": CONFIG["num_heads"],
        "hidden_size": CONFIG["hidden_dim"], "intermediate_size": CONFIG["intermediate_dim"],
        "max_position_embeddings": CONFIG["max_sequence_length"]}))
    (folder / "vocab.txt").write_text("\n".join(tiny_vocabulary()) + "\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "tokenizer_class": "BertTokenizer"}))
    return folder
