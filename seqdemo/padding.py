"""Padding and truncation as data: what one tokenizer configuration makes of a batch.

The real tokenizer pads, truncates and cuts overflow windows; this module checks the knobs first
and reads the result row by row, and `pad_encodings` is the one way every lesson pads. Subtle:
position ids are not in the tokenizer's output. BERT numbers slots 0..L-1 (left padding shifts
the text); RoBERTa counts real tokens from pad_token_id + 1.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizerBase
from transformers.tokenization_utils_base import LARGE_INTEGER

from seqdemo.errors import InputError
from seqdemo.inputs import MAX_CHARS_PER_TEXT, MAX_TEXTS, split_texts
from seqdemo.plural import plural
from seqdemo.token_kinds import token_kinds

PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("do_not_truncate", "longest_first", "only_first", "only_second")
SIDES = ("right", "left")  # the ends of a sequence: where padding_side pads and truncation_side cuts


@contextlib.contextmanager
def _padding_with(tokenizer: PreTrainedTokenizerBase, pad_token: str | None) -> Iterator[PreTrainedTokenizerBase]:
    """`tokenizer` with `pad_token` standing in for a missing pad token during the block, then restored."""
    if tokenizer.pad_token is not None or pad_token is None:
        yield tokenizer
        return
    tokenizer.pad_token = pad_token
    try:
        yield tokenizer
    finally:
        tokenizer.pad_token = None


def pad_encodings(
    tokenizer: PreTrainedTokenizerBase,
    encodings: Mapping[str, Sequence[Sequence[int]]],
    *,
    padding_side: str = "right",
    max_length: int | None = None,
    pad_to_multiple_of: int | None = None,
    pad_token: str | None = None,
) -> dict[str, np.ndarray]:
    """Pad unpadded rows to one length with `tokenizer.pad`; numpy arrays (rows, seq) by key.

    `encodings` holds `input_ids` (a list of rows of ids) and, optionally, rows of the
    tokenizer's other per-token outputs (`special_tokens_mask`, `token_type_ids`), padded
    alongside; `attention_mask` (1 real, 0 pad) comes back in any case. Rows are padded to the
    longest, or to `max_length` when given (never truncated), then up to a multiple of
    `pad_to_multiple_of`. `pad_token` stands in where the tokenizer has none (GPT-2 pads with
    its end-of-text token); without one such a tokenizer raises InputError.
    """
    if padding_side not in SIDES:
        raise InputError(f"padding_side must be one of {', '.join(SIDES)}, not {padding_side!r}.")
    if tokenizer.pad_token is None and pad_token is None:
        raise InputError("This tokenizer has no pad token, so its texts cannot be padded into batches.")
    with _padding_with(tokenizer, pad_token):
        padded = tokenizer.pad(
            {name: [list(row) for row in rows] for name, rows in encodings.items()},
            padding="longest" if max_length is None else "max_length",
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors="np",  # numpy, then torch.from_numpy: ten times faster than torch's from nested lists
        )
    return {name: np.asarray(values, dtype=np.int64) for name, values in padded.items()}


@dataclass(frozen=True)
class PaddingConfig:
    """The tokenizer knobs that decide a batch's shape, named as in `tokenizer(...)`.

    `max_length=None` means "not given": truncation then falls back to the tokenizer's
    `model_max_length`, as transformers does. `truncation_side` is a tokenizer attribute,
    not a call argument; `encode_batch` sets it on the tokenizer for the call and restores it.
    """

    padding: str = "longest"
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    padding_side: str = "right"
    truncation: str = "do_not_truncate"
    truncation_side: str = "right"
    stride: int = 0
    return_overflowing_tokens: bool = False

    @property
    def truncates(self) -> bool:
        return self.truncation != "do_not_truncate"

    def tokenizer_kwargs(self) -> dict[str, object]:
        """Keyword arguments for `tokenizer(texts, text_pairs, **kwargs)`."""
        return {
            "padding": self.padding,
            "max_length": self.max_length,
            "pad_to_multiple_of": self.pad_to_multiple_of,
            "padding_side": self.padding_side,
            "truncation": self.truncation,
            "stride": self.stride,
            "return_overflowing_tokens": self.return_overflowing_tokens,
        }

    def describe(self, model_max_length: int | None = None) -> str:
        """One plain sentence saying what this configuration does to a batch.

        `model_max_length`, when known, is named where an empty max_length falls back to it.
        """
        fallback = f" ({model_max_length} tokens, as max_length is empty)" if model_max_length else ""
        length = f"{self.max_length} tokens" if self.max_length else f"model_max_length{fallback}"
        multiple = f", rounded up to a multiple of {self.pad_to_multiple_of}" if self.pad_to_multiple_of else ""
        if self.padding == "longest":
            padding = f"pads every sequence on the {self.padding_side} to the longest in the batch{multiple}"
        elif self.padding == "max_length":
            padding = f"pads every sequence on the {self.padding_side} to {length}{multiple}"
        else:
            padding = "does not pad: rows keep their own lengths"
        if self.padding == "do_not_pad" and self.pad_to_multiple_of:
            padding += " (pad_to_multiple_of unused)"
        if not self.truncates:
            if self.padding == "max_length":
                return f"{padding} (longer texts stay longer); never truncates"
            unused = " (max_length unused)" if self.max_length else ""
            return f"{padding}; never truncates{unused}"
        cut_from = "start" if self.truncation_side == "left" else "end"
        truncation = {
            "longest_first": f"truncates to {length} from the {cut_from} (the longer text of a pair first)",
            "only_first": f"truncates to {length} by cutting only the first text of each pair, from its {cut_from}",
            "only_second": f"truncates to {length} by cutting only the second text of each pair, from its {cut_from}",
        }[self.truncation]
        if self.return_overflowing_tokens:
            truncation += f", and keeps the cut tokens as extra windows overlapping by {plural(self.stride, 'token')}"
        return f"{padding}; {truncation}"


def effective_max_length(config: PaddingConfig, tokenizer: PreTrainedTokenizerBase) -> int:
    """The length the tokenizer pads or truncates to: `max_length`, else `model_max_length`."""
    if config.max_length is not None:
        return config.max_length
    if tokenizer.model_max_length > LARGE_INTEGER:  # transformers' sign for "not set"
        raise InputError("This tokenizer has no model_max_length, so truncation needs an explicit max_length.")
    return tokenizer.model_max_length


def validate_config(config: PaddingConfig, tokenizer: PreTrainedTokenizerBase, has_pairs: bool) -> None:
    """Raise InputError with one sentence when the tokenizer would refuse or misread `config`.

    Checks that need the texts themselves (does `only_second` leave room?) are in `encode_batch`.
    """
    for name, value, allowed in (
        ("padding", config.padding, PADDING_STRATEGIES),
        ("truncation", config.truncation, TRUNCATION_STRATEGIES),
        ("padding_side", config.padding_side, SIDES),
        ("truncation_side", config.truncation_side, SIDES),
    ):
        if value not in allowed:
            raise InputError(f"{name}={value!r} is not one of {', '.join(allowed)}.")
    model_max = tokenizer.model_max_length
    if config.max_length is not None and config.max_length < 1:
        raise InputError(f"max_length={config.max_length} is not a length: give a positive number of tokens.")
    if config.max_length is not None and config.max_length > model_max:
        raise InputError(
            f"max_length={config.max_length} is above this tokenizer's model_max_length ({model_max}): "
            "the model has no position embeddings past it."
        )
    if config.padding == "max_length" and config.max_length is None:
        raise InputError(
            f"padding='max_length' needs a max_length; without one every row would be padded to {model_max}."
        )
    if config.pad_to_multiple_of is not None and config.pad_to_multiple_of < 1:
        raise InputError(f"pad_to_multiple_of={config.pad_to_multiple_of} must be 1 or more (or left empty).")
    if config.truncation in ("only_first", "only_second") and not has_pairs:
        raise InputError(
            f"truncation='{config.truncation}' cuts one text of a pair, but no second texts were given: "
            "add them or use longest_first."
        )
    if config.stride < 0:
        raise InputError(f"stride={config.stride} must be 0 or more.")
    if config.stride and not config.return_overflowing_tokens:
        raise InputError(
            f"stride={config.stride} only shapes overflow windows: tick return_overflowing_tokens or set stride to 0."
        )
    if config.return_overflowing_tokens and not config.truncates:
        raise InputError("return_overflowing_tokens needs truncation: without it nothing overflows.")
    if config.return_overflowing_tokens and config.truncation == "longest_first" and has_pairs:
        raise InputError(
            "return_overflowing_tokens with truncation='longest_first' on pairs is refused: both texts get cut, "
            "so the overflow belongs to neither; use only_first or only_second."
        )
    if not config.truncates:
        return
    max_length = effective_max_length(config, tokenizer)
    specials = tokenizer.num_special_tokens_to_add(pair=has_pairs)
    room = max_length - specials
    if room < 1:
        raise InputError(
            f"max_length={max_length} leaves no room for text after the {specials} special tokens this tokenizer adds."
        )
    if config.stride >= room:
        raise InputError(
            f"stride={config.stride} must be smaller than max_length ({max_length}) minus the {specials} special "
            f"tokens, i.e. at most {room - 1}: each window must move forward."
        )
    multiple = config.pad_to_multiple_of
    if multiple and config.padding != "do_not_pad" and max_length % multiple:
        raise InputError(
            f"Truncating to {max_length} tokens while padding to a multiple of {multiple} is refused: "
            "a truncated row could not be padded; make max_length a multiple of pad_to_multiple_of."
        )


def split_text_pairs(
    raw_texts: str | None, raw_pairs: str | None, *, max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS_PER_TEXT
) -> tuple[list[str], list[str] | None]:
    """Texts one per line, and optional second texts paired with them line by line.

    Raises InputError for no text, too much text, or a second box whose line count differs.
    """
    texts = split_texts(raw_texts, max_texts=max_texts, max_chars=max_chars)
    if not (raw_pairs or "").strip():
        return texts, None
    pairs = split_texts(raw_pairs, max_texts=max_texts, max_chars=max_chars, field="Second texts")
    if len(pairs) != len(texts):
        raise InputError(
            f"{plural(len(texts), 'text')} but {plural(len(pairs), 'second text')}: give one second text per line, "
            "or leave the box empty."
        )
    return texts, pairs


def position_ids_for(family: str, input_ids: np.ndarray, pad_token_id: int) -> np.ndarray:
    """Position ids the model builds for `input_ids` (batch, seq) when none are passed.

    BERT: 0..seq-1 in every row, pads included. RoBERTa / Longformer: real tokens count up
    from pad_token_id + 1 and pads sit at pad_token_id, so padding never shifts a real token.
    """
    if family == "bert":
        return np.broadcast_to(np.arange(input_ids.shape[1]), input_ids.shape).copy()
    if family in ("roberta", "longformer"):
        real = (input_ids != pad_token_id).astype(np.int64)
        return np.cumsum(real, axis=1) * real + pad_token_id
    raise ValueError(f"No position-id rule for model family {family!r}.")


@dataclass(frozen=True)
class EncodedRow:
    """One sequence as the model receives it: a text (pair), or one overflow window of it.

    Every array has this row's length. `overlap` marks tokens the previous window of the same
    text also holds (the `stride`); `sample` is the row's `overflow_to_sample_mapping` entry.
    """

    sample: int
    window: int
    tokens: tuple[str, ...]
    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray | None
    position_ids: np.ndarray
    special_tokens_mask: np.ndarray
    overlap: np.ndarray

    def kinds(self) -> tuple[str, ...]:
        """Per position: PAD, SPECIAL, OVERLAP or REAL (`token_kinds`; the cell colours of grids and plots)."""
        return token_kinds(self.special_tokens_mask, attention_mask=self.attention_mask, overlap=self.overlap)


@dataclass(frozen=True)
class TokenCoverage:
    """One text's content tokens (no special tokens) and which of them reached any row."""

    tokens: tuple[str, ...]
    kept: np.ndarray

    @property
    def truncated(self) -> tuple[str, ...]:
        """The tokens no row holds, in text order."""
        return tuple(token for token, kept in zip(self.tokens, self.kept, strict=True) if not kept)


@dataclass(frozen=True)
class EncodedBatch:
    """One configuration's encoding of a batch, row by row.

    `rows` follow the tokenizer's order; with `return_overflowing_tokens` a text may span
    several rows and `overflow_to_sample_mapping` (rows,) says which text each came from.
    `coverage[i]` / `pair_coverage[i]` report text i's (and its second text's) truncated tokens.
    """

    config: PaddingConfig
    family: str
    pad_token_id: int
    model_max_length: int
    rows: tuple[EncodedRow, ...]
    overflow_to_sample_mapping: np.ndarray | None
    coverage: tuple[TokenCoverage, ...]
    pair_coverage: tuple[TokenCoverage, ...] | None

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(row.tokens) for row in self.rows)

    @property
    def shape(self) -> tuple[int, int] | None:
        """(rows, seq) of the stacked tensors, or None for a ragged batch that cannot be stacked."""
        lengths = set(self.lengths)
        return (len(self.rows), lengths.pop()) if len(lengths) == 1 else None

    def row_label(self, index: int) -> str:
        """'text 2', or 'text 2 · window 3' when the batch has overflow windows."""
        row = self.rows[index]
        label = f"text {row.sample + 1}"
        return label if self.overflow_to_sample_mapping is None else f"{label} · window {row.window + 1}"

    @property
    def pad_count(self) -> int:
        return sum(int((row.attention_mask == 0).sum()) for row in self.rows)


@contextlib.contextmanager
def _truncating_from(tokenizer: PreTrainedTokenizerBase, side: str) -> Iterator[PreTrainedTokenizerBase]:
    """`tokenizer` with `truncation_side` set to `side` for the block, then restored."""
    previous = tokenizer.truncation_side
    tokenizer.truncation_side = side
    try:
        yield tokenizer
    finally:
        tokenizer.truncation_side = previous


def _check_room(
    config: PaddingConfig, tokenizer: PreTrainedTokenizerBase, lengths: list[int], pair_lengths: list[int]
) -> None:
    """For only_first / only_second: the kept text must leave room for the cut one (and its stride)."""
    cut, kept_name = (0, "second") if config.truncation == "only_first" else (1, "first")
    max_length = effective_max_length(config, tokenizer)
    specials = tokenizer.num_special_tokens_to_add(pair=True)
    for number, lengths_ab in enumerate(zip(lengths, pair_lengths, strict=True), start=1):
        if sum(lengths_ab) + specials <= max_length:
            continue
        room = max_length - specials - lengths_ab[1 - cut]
        if room < 1:
            raise InputError(
                f"Text {number}: its {kept_name} text alone takes {lengths_ab[1 - cut] + specials} tokens with "
                f"special tokens, filling max_length={max_length}, so truncation='{config.truncation}' cannot fit; "
                "raise max_length or use longest_first."
            )
        if config.stride >= room:
            raise InputError(
                f"Text {number}: only {plural(room, 'token')} {'is' if room == 1 else 'are'} left for the text being "
                f"cut, so stride={config.stride} does not fit; use a stride below {room} or raise max_length."
            )


class _TextIndex:
    """Finds where a row's content tokens sit inside one text's full (untruncated) encoding."""

    def __init__(self, ids: list[int], offsets: list[tuple[int, int]]) -> None:
        self.ids = ids
        self.offsets = [tuple(offset) for offset in offsets]
        self.starts = [start for start, _ in self.offsets]  # non-decreasing: tokens follow the text

    def locate(self, window: list[int], first_offset: tuple[int, int]) -> int:
        """Index in the full encoding where `window` starts.

        Offsets find the candidates; the ids decide, because several byte-level tokens of one
        character share its offsets.
        """
        first = bisect.bisect_left(self.starts, first_offset[0])
        candidates = range(first, bisect.bisect_right(self.starts, first_offset[0]))
        return next(
            i for i in candidates if self.offsets[i] == tuple(first_offset) and self.ids[i : i + len(window)] == window
        )


def _read_rows(
    encoded: BatchEncoding, sources: list[BatchEncoding], family: str, tokenizer: PreTrainedTokenizerBase, cut: int
) -> tuple[list[EncodedRow], list[list[np.ndarray]]]:
    """Rows of `encoded`, and per source (texts, second texts) and text which content tokens a row holds.

    `sources` are the full encodings without special tokens; `cut` is the sequence (0 or 1)
    that overflow windows slide over, whose tokens shared with the previous window are marked.
    """
    mapping = encoded.get("overflow_to_sample_mapping")
    samples = list(mapping) if mapping is not None else list(range(len(encoded["input_ids"])))
    indexes = [
        [_TextIndex(ids, offsets) for ids, offsets in zip(s["input_ids"], s["offset_mapping"], strict=True)]
        for s in sources
    ]
    kept = [[np.zeros(len(ids), dtype=bool) for ids in source["input_ids"]] for source in sources]
    previous_window: dict[int, range] = {}
    windows_seen: dict[int, int] = {}
    rows = []
    for index, sample in enumerate(samples):
        ids = encoded["input_ids"][index]
        sequence_ids = encoded.sequence_ids(index)
        overlap = np.zeros(len(ids), dtype=bool)
        for sequence, text_indexes in enumerate(indexes):
            positions = [p for p, s in enumerate(sequence_ids) if s == sequence]
            if not positions:
                continue
            window = [ids[p] for p in positions]
            start = text_indexes[sample].locate(window, encoded["offset_mapping"][index][positions[0]])
            held = range(start, start + len(window))
            kept[sequence][sample][held.start : held.stop] = True
            if sequence == cut:
                shared = previous_window.get(sample, range(0))
                overlap[positions] = [i in shared for i in held]
                previous_window[sample] = held
        windows_seen[sample] = windows_seen.get(sample, -1) + 1
        input_ids = np.asarray(ids, dtype=np.int64)
        token_type_ids = encoded.get("token_type_ids")
        rows.append(
            EncodedRow(
                sample=int(sample),
                window=windows_seen[sample],
                tokens=tuple(tokenizer.convert_ids_to_tokens(ids)),
                input_ids=input_ids,
                attention_mask=np.asarray(encoded["attention_mask"][index], dtype=np.int64),
                token_type_ids=None if token_type_ids is None else np.asarray(token_type_ids[index], dtype=np.int64),
                position_ids=position_ids_for(family, input_ids[None, :], tokenizer.pad_token_id)[0],
                special_tokens_mask=np.asarray(encoded["special_tokens_mask"][index], dtype=bool),
                overlap=overlap,
            )
        )
    return rows, kept


def encode_batch(
    tokenizer: PreTrainedTokenizerBase,
    family: str,
    texts: Sequence[str],
    text_pairs: Sequence[str] | None,
    config: PaddingConfig,
    max_rows: int | None = None,
) -> EncodedBatch:
    """Validate `config`, run the tokenizer on the batch, and read its output row by row.

    `text_pairs`, when given, pairs with `texts` one to one. Raises InputError with one
    sentence for an invalid configuration, anything the tokenizer refuses, or more than
    `max_rows` rows (overflow windows can multiply them). As with any call of a fast tokenizer,
    no other thread may use `tokenizer` meanwhile (`ModelStore.tokenizer` gives each its own).
    """
    has_pairs = text_pairs is not None
    if has_pairs and len(text_pairs) != len(texts):
        raise InputError(
            f"{plural(len(texts), 'text')} but {plural(len(text_pairs), 'second text')}: they pair up line by line."
        )
    validate_config(config, tokenizer, has_pairs)
    batches = [list(texts)] + ([list(text_pairs)] if has_pairs else [])
    sources = [tokenizer(batch, add_special_tokens=False, return_offsets_mapping=True) for batch in batches]
    if config.truncation in ("only_first", "only_second"):
        _check_room(config, tokenizer, *[[len(ids) for ids in source["input_ids"]] for source in sources])
    try:
        with _truncating_from(tokenizer, config.truncation_side):
            encoded = tokenizer(
                *batches, return_special_tokens_mask=True, return_offsets_mapping=True, **config.tokenizer_kwargs()
            )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # tokenizers' Rust panics derive from BaseException
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f"The tokenizer refused this configuration: {first_line}") from None
    if max_rows is not None and len(encoded["input_ids"]) > max_rows:
        raise InputError(
            f"This configuration makes {len(encoded['input_ids']):,} rows, more than the {max_rows:,} shown here: "
            "raise max_length, lower the stride or shorten the texts."
        )
    cut = 1 if config.truncation == "only_second" else 0
    rows, kept = _read_rows(encoded, sources, family, tokenizer, cut)
    coverage = [
        tuple(
            TokenCoverage(tuple(tokenizer.convert_ids_to_tokens(ids)), mask)
            for ids, mask in zip(source["input_ids"], kept_masks, strict=True)
        )
        for source, kept_masks in zip(sources, kept, strict=True)
    ]
    mapping = encoded.get("overflow_to_sample_mapping")
    return EncodedBatch(
        config=config,
        family=family,
        pad_token_id=tokenizer.pad_token_id,
        model_max_length=tokenizer.model_max_length,
        rows=tuple(rows),
        overflow_to_sample_mapping=None if mapping is None else np.asarray(mapping, dtype=np.int64),
        coverage=coverage[0],
        pair_coverage=coverage[1] if has_pairs else None,
    )
