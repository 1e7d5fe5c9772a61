"""The showdown pair: each role's sequence classifier, the limit it reads, and its logits for id sequences.

The limit is read from the loaded tokenizer and model, never assumed: RoBERTa-family models
number positions from `pad_token_id + 1`, so 514 position embeddings hold 512 tokens. A
sequence is document ids wrapped in `<s>` … `</s>`; Longformer gets global attention on `<s>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from seqdemo.longformer import global_attention_on_bos, padding_multiple
from seqdemo.models import ModelStore
from seqdemo.padding import pad_encodings

SHORT_ROLE = "short-classifier"
LONG_ROLE = "long-classifier"
WINDOW_BATCH_SIZE = 8  # windows per forward pass: fewer passes, bounded memory


def sequence_limit(tokenizer: PreTrainedTokenizerBase, config: PretrainedConfig) -> int:
    """Tokens one sequence may hold, special tokens included.

    The smaller of the tokenizer's `model_max_length` and the model's positions: RoBERTa-family
    models number positions from `pad_token_id + 1`, so 514 position embeddings hold 512 tokens.
    """
    return min(tokenizer.model_max_length, config.max_position_embeddings - config.pad_token_id - 1)


@dataclass(frozen=True)
class Classifier:
    """A role's tokenizer and sequence-classification model, its class names and its limit."""

    role: str
    tokenizer: PreTrainedTokenizerBase
    model: Any
    label_names: tuple[str, ...]
    max_length: int

    @property
    def budget(self) -> int:
        """Document tokens one sequence holds: `max_length` less `<s>` and `</s>`."""
        return self.max_length - self.tokenizer.num_special_tokens_to_add()

    @property
    def attention_window(self) -> int | None:
        """What Longformer pads its input to a multiple of (its largest window); None for full attention."""
        return padding_multiple(self.model.config)


def load_classifier(store: ModelStore, role: str) -> Classifier:
    """The role's classifier from the store (loaded once per process)."""
    model = store.model(role)
    tokenizer = store.tokenizer(role)
    return Classifier(role, tokenizer, model, store.label_names(role), sequence_limit(tokenizer, model.config))


def load_pair(store: ModelStore) -> dict[str, Classifier]:
    """Both classifiers of the showdown, by role."""
    return {role: load_classifier(store, role) for role in (SHORT_ROLE, LONG_ROLE)}


@torch.inference_mode()
def sequence_logits(classifier: Classifier, sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, int]:
    """(logits (sequences, labels), tokens processed) for document-id sequences wrapped in `<s>` … `</s>`.

    Sequences run WINDOW_BATCH_SIZE at a time, each batch padded to its longest; Longformer's
    batches are padded on to a multiple of its attention window, with global attention on `<s>`.
    Tokens processed counts every slot of every batch: special tokens and padding included.
    """
    tokenizer, model = classifier.tokenizer, classifier.model
    rows = [[tokenizer.cls_token_id, *sequence, tokenizer.sep_token_id] for sequence in sequences]
    logits, processed = [], 0
    for first in range(0, len(rows), WINDOW_BATCH_SIZE):
        chunk = rows[first : first + WINDOW_BATCH_SIZE]
        batch = pad_encodings(tokenizer, {"input_ids": chunk}, pad_to_multiple_of=classifier.attention_window)
        if classifier.attention_window:
            batch["global_attention_mask"] = global_attention_on_bos(batch["attention_mask"])
        processed += batch["input_ids"].size
        inputs = {name: torch.from_numpy(values).to(model.device) for name, values in batch.items()}
        logits.append(model(**inputs).logits.float().cpu().numpy())
    return np.concatenate(logits), processed


def warm_up(classifier: Classifier, runs: int = 3) -> None:
    """Run the model a few times on a few tokens, so one-off set-up is not timed as the first strategy's latency.

    The first forward passes in a process are several times slower than later ones
    (allocator and kernel set-up); a timed comparison should not start cold.
    """
    for _ in range(runs):
        sequence_logits(classifier, [[classifier.tokenizer.unk_token_id] * 8])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
