"""The showdown pair: each role's sequence classifier, the limit it reads, and its logits for id sequences.

The limit is read from the loaded tokenizer and model, never assumed: RoBERTa-family models
number positions from `pad_token_id + 1`, so 514 position embeddings hold 512 tokens. A
sequence is document ids wrapped in `<s>` … `</s>`; Longformer gets global attention on `<s>`.
The lesson's answers run in `answer_precision` (bfloat16 where the CPU computes it natively, else
int8 linear layers where it can), Longformer with its attention blocked through SDPA; each model is
built and warmed up once.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from seqdemo.fast_longformer import block_multiple, with_fast_attention
from seqdemo.longformer import global_attention_on_bos, padding_multiple
from seqdemo.models import ModelStore
from seqdemo.padding import pad_encodings
from seqdemo.precision import Precision, answer_precision, int8_copy

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
    """A role's tokenizer and sequence-classification model, its class names, its limit and the precision it runs in."""

    role: str
    tokenizer: PreTrainedTokenizerBase
    model: Any
    label_names: tuple[str, ...]
    max_length: int
    precision: Precision = Precision(torch.float32, "float32")

    @property
    def budget(self) -> int:
        """Document tokens one sequence holds: `max_length` less `<s>` and `</s>`."""
        return self.max_length - self.tokenizer.num_special_tokens_to_add()

    @property
    def attention_window(self) -> int | None:
        """Longformer's largest attention window; None for full attention."""
        return padding_multiple(self.model.config)

    @property
    def pad_multiple(self) -> int | None:
        """What a sequence is padded to a multiple of: blocked attention's block, else the window; None for full."""
        return block_multiple(self.model) or self.attention_window


# store -> (role, precision) -> the model as the lesson runs it; built once per store, under the lock.
_LESSON_MODELS: weakref.WeakKeyDictionary[ModelStore, dict[tuple[str, Precision], Any]] = weakref.WeakKeyDictionary()
_LESSON_LOCK = threading.Lock()


def _lesson_model(store: ModelStore, role: str, precision: Precision) -> Any:
    """The role's model in `precision`, Longformer's attention blocked, warmed up.

    A bfloat16 model is loaded in it, with no float32 copy kept; int8 linear layers are a copy
    beside the store's float32 model, sharing its other weights.

    Warming up here, once per model, keeps one-off set-up (allocator, kernels) out of every
    request's latency without a second timed pass per request.
    """
    with _LESSON_LOCK:
        models = _LESSON_MODELS.setdefault(store, {})
        key = (role, precision)
        if key not in models:
            model = store.model(role, dtype=precision.dtype)
            if padding_multiple(model.config):
                model = with_fast_attention(model)
            if precision.int8_linears:
                model = int8_copy(model)
            tokenizer = store.tokenizer(role)
            warm_up(Classifier(role, tokenizer, model, (), sequence_limit(tokenizer, model.config), precision))
            models[key] = model
        return models[key]


def load_classifier(store: ModelStore, role: str, precision: Precision | None = None) -> Classifier:
    """The role's classifier as the lesson runs it, in `precision` (default: the device's `answer_precision`).

    The model is built once per store and precision; the tokenizer is the calling thread's own.
    """
    precision = precision or answer_precision(store.device)
    model = _lesson_model(store, role, precision)
    tokenizer = store.tokenizer(role)
    names = store.label_names(role, model.config)
    return Classifier(role, tokenizer, model, names, sequence_limit(tokenizer, model.config), precision)


def load_pair(store: ModelStore, precision: Precision | None = None) -> dict[str, Classifier]:
    """Both classifiers of the showdown, by role, in `precision` (default: the device's `answer_precision`)."""
    return {role: load_classifier(store, role, precision) for role in (SHORT_ROLE, LONG_ROLE)}


@torch.inference_mode()
def sequence_logits(classifier: Classifier, sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, int]:
    """(logits (sequences, labels), tokens processed) for document-id sequences wrapped in `<s>` … `</s>`.

    Sequences run WINDOW_BATCH_SIZE at a time, each batch padded to its longest; Longformer's
    batches are padded on to a multiple of its block (`pad_multiple`), with global attention on `<s>`.
    Tokens processed counts every slot of every batch: special tokens and padding included.
    """
    tokenizer, model = classifier.tokenizer, classifier.model
    rows = [[tokenizer.cls_token_id, *sequence, tokenizer.sep_token_id] for sequence in sequences]
    logits, processed = [], 0
    for first in range(0, len(rows), WINDOW_BATCH_SIZE):
        chunk = rows[first : first + WINDOW_BATCH_SIZE]
        batch = pad_encodings(tokenizer, {"input_ids": chunk}, pad_to_multiple_of=classifier.pad_multiple)
        if classifier.attention_window:
            batch["global_attention_mask"] = global_attention_on_bos(batch["attention_mask"])
        processed += batch["input_ids"].size
        inputs = {name: torch.from_numpy(values).to(model.device) for name, values in batch.items()}
        logits.append(model(**inputs).logits.float().cpu().numpy())
    return np.concatenate(logits), processed


def warm_up(classifier: Classifier, runs: int = 2) -> None:
    """Run the model a few times on one window's worth of tokens, so one-off set-up is not timed as a request's latency.

    The first forward passes in a process are several times slower than later ones (allocator
    and kernel set-up); a timed comparison should not start cold. A window: RoBERTa's whole
    input, Longformer's attention window (its inputs are multiples of it).
    """
    tokens = (classifier.attention_window or classifier.max_length) - classifier.tokenizer.num_special_tokens_to_add()
    for _ in range(runs):
        sequence_logits(classifier, [[classifier.tokenizer.unk_token_id] * tokens])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
