"""The kit's models: the fetched pretrained BERT where there is one, small seeded ones elsewhere.

A seeded model is the transformers class the Hub checkpoint uses (`BertModel`, `RobertaModel`,
`LongformerModel`, `GPT2LMHeadModel`) with a few narrow layers, sized to its tokenizer: same
vocabulary, pad id and maximum length. RoBERTa-style models count positions from pad_id + 1,
so they need max_length + 2 position embeddings. Weights are seeded, so two builds are identical.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import transformers
from transformers import (
    AutoTokenizer,
    BertConfig,
    GPT2Config,
    LongformerConfig,
    PretrainedConfig,
    PreTrainedTokenizerBase,
    RobertaConfig,
)

SEED = 0
HIDDEN_SIZE = 64
LAYERS = 2
HEADS = 4
INTERMEDIATE_SIZE = 256
# Even, as Longformer requires, and small enough that a few sentences already span more
# than one window, so the local band is visible.
LONGFORMER_ATTENTION_WINDOW = 32


def _encoder_sizes() -> dict[str, int]:
    return {
        "hidden_size": HIDDEN_SIZE,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE_SIZE,
    }


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def _bert_config(tokenizer: PreTrainedTokenizerBase) -> BertConfig:
    return BertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=tokenizer.model_max_length,
        pad_token_id=tokenizer.pad_token_id,
        **_encoder_sizes(),
    )


def _roberta_like(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return {
        "vocab_size": len(tokenizer),
        "max_position_embeddings": tokenizer.model_max_length + tokenizer.pad_token_id + 1,
        "type_vocab_size": 1,
        **_special_ids(tokenizer),
        **_encoder_sizes(),
    }


def _roberta_config(tokenizer: PreTrainedTokenizerBase) -> RobertaConfig:
    return RobertaConfig(**_roberta_like(tokenizer))


def _longformer_config(tokenizer: PreTrainedTokenizerBase) -> LongformerConfig:
    return LongformerConfig(
        attention_window=LONGFORMER_ATTENTION_WINDOW, sep_token_id=tokenizer.sep_token_id, **_roberta_like(tokenizer)
    )


def _gpt2_config(tokenizer: PreTrainedTokenizerBase) -> GPT2Config:
    return GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=tokenizer.model_max_length,
        n_embd=HIDDEN_SIZE,
        n_layer=LAYERS,
        n_head=HEADS,
        **_special_ids(tokenizer),
    )


# kit folder -> (architecture's name in transformers, config sized to the tokenizer saved in that folder).
# Named, not imported: transformers' modelling code takes seconds to import, and only a kit build needs it.
KIT_MODELS: dict[str, tuple[str, Callable[[PreTrainedTokenizerBase], PretrainedConfig]]] = {
    "bert": ("BertModel", _bert_config),
    "roberta": ("RobertaModel", _roberta_config),
    "longformer": ("LongformerModel", _longformer_config),
    "decoder": ("GPT2LMHeadModel", _gpt2_config),
}


def build_model(folder: Path, seed: int = SEED) -> None:
    """Create the seeded kit model for the tokenizer already saved in `folder`; save it there too."""
    architecture, make_config = KIT_MODELS[folder.name]
    config = make_config(AutoTokenizer.from_pretrained(folder))
    torch.manual_seed(seed)
    getattr(transformers, architecture)(config).save_pretrained(folder)


def build_models(kit_dir: Path, names: Iterable[str] = KIT_MODELS) -> None:
    """A seeded model next to each named kit tokenizer (`kit_dir/<name>`), so `from_pretrained` loads both."""
    for name in names:
        build_model(kit_dir / name)


PRETRAINED_FILES = ("config.json", "model.safetensors")


def install_pretrained(source: Path, folder: Path) -> None:
    """Put a fetched checkpoint's config and weights, byte for byte, next to the tokenizer in `folder`.

    A hard link where the parts cache shares the file system (every kit shares the 90 MB), a copy elsewhere.
    """
    for name in PRETRAINED_FILES:
        try:
            os.link(source / name, folder / name)
        except OSError:
            shutil.copyfile(source / name, folder / name)
