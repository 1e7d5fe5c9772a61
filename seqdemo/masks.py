"""What the attention mask does, measured: padded batches against each text run alone.

The mask hides padded *keys*, not queries: every pad position still gets a hidden state
(not zero), so pooling must leave pads out with the same mask. Position ids are the other
half of batching: RoBERTa and Longformer count them from the input ids (pads skipped,
starting at pad_id + 1), BERT and GPT-2 from 0 whatever is padded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from seqdemo.errors import InputError
from seqdemo.longformer import attention_windows, global_attention_on_bos
from seqdemo.padding import pad_encodings

# Largest max |Δ| still called float noise, by the dtype the model runs in. A float32 model
# moves by about 1e-7 to 1e-6 when the batch shape changes; half precision keeps three
# significant digits (bfloat16 two), so its noise over a dozen layers reaches about 1e-2 (1e-1).
TOLERANCES = {torch.float32: 1e-5, torch.float16: 5e-2, torch.bfloat16: 2e-1}
# The module whose input is the position ids, by `config.model_type`.
POSITION_EMBEDDINGS = {
    "bert": "embeddings.position_embeddings",
    "roberta": "embeddings.position_embeddings",
    "longformer": "embeddings.position_embeddings",
    "gpt2": "transformer.wpe",
}


@dataclass(frozen=True)
class TokenizedTexts:
    """Each text tokenized alone, special tokens included, cut to `max_length` tokens.

    `ids[i]` is what the model sees when text i runs by itself; `dropped[i]` counts the
    tokens truncation removed from it (0 when it fit).
    """

    ids: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    max_length: int

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(ids) for ids in self.ids)


def tokenize_texts(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int | None = None
) -> TokenizedTexts:
    """Tokenize every text separately, truncating to `max_length` (default: the model's limit)."""
    if not texts:
        raise InputError("There are no texts to compare: enter at least one.")
    limit = max_length or tokenizer.model_max_length
    full = tokenizer(list(texts), verbose=False)["input_ids"]
    cut = tokenizer(list(texts), truncation=True, max_length=limit)["input_ids"]
    return TokenizedTexts(
        ids=tuple(tuple(ids) for ids in cut),
        dropped=tuple(len(whole) - len(kept) for whole, kept in zip(full, cut, strict=True)),
        max_length=limit,
    )


def batch_notes(tokenized: TokenizedTexts) -> tuple[str, ...]:
    """Sentences for what is unusual about this batch: one text, equal lengths, truncation."""
    notes = []
    lengths = tokenized.lengths
    if len(lengths) == 1:
        notes.append("Only one text: there is nothing to pad, so the mask is all ones and every run agrees.")
    elif len(set(lengths)) == 1:
        notes.append(
            f"All {len(lengths)} texts have {lengths[0]} tokens: nothing is padded, so the mask is all ones "
            "and every run agrees. Make one text shorter to see padding at work."
        )
    for number, dropped in enumerate(tokenized.dropped, start=1):
        if dropped:
            notes.append(
                f"Text {number} had {tokenized.max_length + dropped:,} tokens; it was truncated to "
                f"{tokenized.max_length:,} to fit the model."
            )
    return tuple(notes)


@dataclass(frozen=True)
class PaddedBatch:
    """Texts padded to one length on `padding_side`.

    input_ids, attention_mask, special_tokens_mask: (batch, seq); attention_mask is 1 on real
    tokens and 0 on pads, special_tokens_mask 1 on the real tokens that are special (`<s>`,
    `[CLS]` ...); tokens[i][j] is input_ids[i, j] as a string.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    special_tokens_mask: np.ndarray
    tokens: tuple[tuple[str, ...], ...]
    padding_side: str
    pad_token_id: int


def as_tokens(tokenizer: PreTrainedTokenizerBase, rows: np.ndarray) -> tuple[tuple[str, ...], ...]:
    """Token strings of id rows (rows, seq), as the tokenizer writes them; an id it has no string for, as the id.

    A model's vocabulary can be larger than its tokenizer's (GPT-2 pads its embeddings to a round
    size), so generation can produce ids the tokenizer never writes.
    """
    return tuple(
        tuple(
            str(token_id) if token is None else token
            for token_id, token in zip(row.tolist(), tokenizer.convert_ids_to_tokens(row.tolist()), strict=True)
        )
        for row in rows
    )


def pad_tokenized_texts(
    tokenizer: PreTrainedTokenizerBase, tokenized: TokenizedTexts, padding_side: str
) -> PaddedBatch:
    """Pad every text to the longest with the pad token (GPT-2, which has none, uses end-of-text)."""
    padded = pad_encodings(
        tokenizer, {"input_ids": tokenized.ids}, padding_side=padding_side, pad_token=tokenizer.eos_token
    )
    input_ids, attention_mask = padded["input_ids"], padded["attention_mask"]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    special = np.isin(input_ids, tokenizer.all_special_ids) & (attention_mask == 1)
    tokens = as_tokens(tokenizer, input_ids)
    return PaddedBatch(input_ids, attention_mask, special.astype(np.int64), tokens, padding_side, pad_id)


def attention_key_mask(batch: PaddedBatch, index: int, config: PretrainedConfig, layer: int = 0) -> np.ndarray:
    """Which keys each query of example `index` attends to in the encoder's attention layer `layer`.

    Returns (seq, seq) bool, [query, key]. BERT and RoBERTa block padded keys in every row,
    pad queries included: the mask hides keys, not queries. Longformer keeps only keys within
    the layer's attention_window / 2 of the query, plus global attention to and from `<s>`, and
    gives pad queries no attention at all.
    """
    if not 0 <= index < len(batch.input_ids):
        raise InputError(f"There is no text {index + 1}: the batch has {len(batch.input_ids)}.")
    real = batch.attention_mask[index].astype(bool)
    seq = len(real)
    allowed = np.broadcast_to(real, (seq, seq)).copy()
    if config.model_type == "longformer":
        half = attention_windows(config)[layer] // 2
        query, key = np.indices((seq, seq))
        is_global = global_attention_on_bos(batch.attention_mask[index : index + 1])[0].astype(bool)
        allowed &= (np.abs(query - key) <= half) | is_global[None, :] | is_global[:, None]
        allowed &= real[:, None]
    return allowed


@contextlib.contextmanager
def recorded_position_ids(model: Any) -> Iterator[list[np.ndarray]]:
    """Collect the position ids the model feeds its position embedding, one array per forward call of this thread.

    The model is shared: another request may run it meanwhile, and its calls are not this one's.
    """
    module = model.get_submodule(POSITION_EMBEDDINGS[model.config.model_type])
    calls: list[np.ndarray] = []
    thread = threading.get_ident()

    def record(_: Any, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == thread:
            calls.append(args[0].detach().cpu().numpy())

    handle = module.register_forward_pre_hook(record)
    try:
        yield calls
    finally:
        handle.remove()


def _encoder_inputs(
    model: Any, input_ids: np.ndarray, attention_mask: np.ndarray, use_mask: bool
) -> dict[str, torch.Tensor]:
    inputs = {"input_ids": input_ids}
    if use_mask:
        inputs["attention_mask"] = attention_mask
    if model.config.model_type == "longformer":  # global attention on <s>, as Longformer is used
        inputs["global_attention_mask"] = global_attention_on_bos(attention_mask)
    return {name: torch.as_tensor(values, device=model.device) for name, values in inputs.items()}


def _last_hidden(
    model: Any, input_ids: np.ndarray, attention_mask: np.ndarray, use_mask: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Last hidden states (batch, seq, hidden) as float32, and the position ids used (batch, seq).

    `attention_mask` says where the real tokens are; with `use_mask=False` the model is not given it.
    """
    with torch.no_grad(), recorded_position_ids(model) as calls:
        hidden = model(**_encoder_inputs(model, input_ids, attention_mask, use_mask)).last_hidden_state
    # Longformer pads to a multiple of its window inside the model: keep the positions of our
    # tokens. BERT builds one row (1, seq) for the whole batch.
    position_ids = np.broadcast_to(calls[0][:, : input_ids.shape[1]], input_ids.shape).copy()
    return hidden.float().cpu().numpy(), position_ids


@dataclass(frozen=True)
class BatchRun:
    """One forward pass over a padded batch, each text compared with its run alone.

    position_ids: (batch, seq), as the model built them. The rest are (batch,) max |Δ|
    against the text alone: `hidden_delta` over real tokens' last hidden states,
    `pooled_delta` of the mean over real tokens (the masked mean), `mean_all_delta` of the
    plain mean over every position, pads included. `pad_hidden_max` is the largest |h| at
    the text's pad positions (0 without pads).
    """

    batch: PaddedBatch
    with_mask: bool
    position_ids: np.ndarray
    hidden_delta: np.ndarray
    pooled_delta: np.ndarray
    mean_all_delta: np.ndarray
    pad_hidden_max: np.ndarray


def _run_batch(model: Any, batch: PaddedBatch, alone: Sequence[np.ndarray], with_mask: bool) -> BatchRun:
    hidden, position_ids = _last_hidden(model, batch.input_ids, batch.attention_mask, use_mask=with_mask)
    real = batch.attention_mask.astype(bool)
    rows = []
    for row, reference in enumerate(alone):
        states, pads = hidden[row][real[row]], hidden[row][~real[row]]
        rows.append(
            (
                np.abs(states - reference).max(),
                np.abs(states.mean(0) - reference.mean(0)).max(),
                np.abs(hidden[row].mean(0) - reference.mean(0)).max(),
                np.abs(pads).max(initial=0.0),
            )
        )
    hidden_delta, pooled_delta, mean_all_delta, pad_hidden_max = np.array(rows, dtype=np.float64).T
    return BatchRun(batch, with_mask, position_ids, hidden_delta, pooled_delta, mean_all_delta, pad_hidden_max)


@dataclass(frozen=True)
class MaskProof:
    """Three ways to run a batch, each compared with every text run alone (unpadded).

    `masked`: right padding with the attention_mask; `unmasked`: the same batch without it;
    `left`: left padding with the mask. A |Δ| at most `tolerance` is float noise for `dtype`.
    """

    tokenized: TokenizedTexts
    masked: BatchRun
    unmasked: BatchRun
    left: BatchRun
    tolerance: float
    dtype: str
    notes: tuple[str, ...]

    def matches(self, run: BatchRun) -> np.ndarray:
        """(batch,) bool: the run's hidden states equal the text-alone ones within tolerance."""
        return run.hidden_delta <= self.tolerance


def prove_mask(model: Any, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> MaskProof:
    """Run `texts` alone, then padded with and without the mask, and measure the differences.

    `model` is an encoder (BERT, RoBERTa, Longformer) returning `last_hidden_state`.
    """
    tokenized = tokenize_texts(tokenizer, texts)
    rows = [np.array([ids]) for ids in tokenized.ids]
    alone = [_last_hidden(model, row, np.ones_like(row), use_mask=False)[0][0] for row in rows]
    right = pad_tokenized_texts(tokenizer, tokenized, "right")
    return MaskProof(
        tokenized=tokenized,
        masked=_run_batch(model, right, alone, with_mask=True),
        unmasked=_run_batch(model, right, alone, with_mask=False),
        left=_run_batch(model, pad_tokenized_texts(tokenizer, tokenized, "left"), alone, with_mask=True),
        tolerance=TOLERANCES[model.dtype],
        dtype=str(model.dtype).removeprefix("torch."),
        notes=batch_notes(tokenized),
    )


@dataclass(frozen=True)
class GenerationComparison:
    """Greedy generation of the same prompts one at a time, left-padded and right-padded.

    alone, left, right: (batch, max_new_tokens) generated token ids, and `alone_tokens`,
    `left_tokens`, `right_tokens` the same as token strings. `left_batch` and `right_batch`
    are the padded prompts; `left_position_ids` / `right_position_ids` (batch, seq) are the
    prompt position ids `generate` built from the attention_mask.
    """

    tokenized: TokenizedTexts
    alone: np.ndarray
    left: np.ndarray
    right: np.ndarray
    alone_tokens: tuple[tuple[str, ...], ...]
    left_tokens: tuple[tuple[str, ...], ...]
    right_tokens: tuple[tuple[str, ...], ...]
    left_batch: PaddedBatch
    right_batch: PaddedBatch
    left_position_ids: np.ndarray
    right_position_ids: np.ndarray
    notes: tuple[str, ...]

    @property
    def left_matches(self) -> np.ndarray:
        """(batch,) bool: left-padded generation equals the prompt run alone, token for token."""
        return (self.left == self.alone).all(axis=1)

    @property
    def right_matches(self) -> np.ndarray:
        return (self.right == self.alone).all(axis=1)


def _generate(
    model: Any, input_ids: np.ndarray, attention_mask: np.ndarray, pad_token_id: int, max_new_tokens: int
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy continuations (batch, max_new_tokens) and the prompt's position ids (batch, seq)."""
    with torch.no_grad(), recorded_position_ids(model) as calls:
        output = model.generate(
            input_ids=torch.as_tensor(input_ids, device=model.device),
            attention_mask=torch.as_tensor(attention_mask, device=model.device),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            min_new_tokens=max_new_tokens,  # no early end-of-text, so every run has the same length
            pad_token_id=pad_token_id,
        )
    return output[:, input_ids.shape[1] :].cpu().numpy(), calls[0]


def compare_batched_generation(
    model: Any, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_new_tokens: int = 5
) -> GenerationComparison:
    """Generate `max_new_tokens` greedily for each prompt alone, then batched with each padding side.

    `model` is a decoder-only language model (GPT-2). `generate` builds position ids from
    the attention_mask, so left padding reproduces the single-prompt run; right padding
    makes shorter prompts continue from a pad.
    """
    if max_new_tokens < 1:
        raise InputError("Generate at least one new token.")
    tokenized = tokenize_texts(tokenizer, texts, max_length=tokenizer.model_max_length - max_new_tokens)
    left_batch, right_batch = (pad_tokenized_texts(tokenizer, tokenized, side) for side in ("left", "right"))
    pad_id = left_batch.pad_token_id
    alone = [
        _generate(model, np.array([ids]), np.ones((1, len(ids)), dtype=np.int64), pad_id, max_new_tokens)[0]
        for ids in tokenized.ids
    ]
    left, left_positions = _generate(model, left_batch.input_ids, left_batch.attention_mask, pad_id, max_new_tokens)
    right, right_positions = _generate(model, right_batch.input_ids, right_batch.attention_mask, pad_id, max_new_tokens)
    alone = np.concatenate(alone)
    return GenerationComparison(
        tokenized=tokenized,
        alone=alone,
        left=left,
        right=right,
        alone_tokens=as_tokens(tokenizer, alone),
        left_tokens=as_tokens(tokenizer, left),
        right_tokens=as_tokens(tokenizer, right),
        left_batch=left_batch,
        right_batch=right_batch,
        left_position_ids=left_positions,
        right_position_ids=right_positions,
        notes=batch_notes(tokenized),
    )
