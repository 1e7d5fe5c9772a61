"""The length problem, as data: how many words, characters and tokens each text becomes.

Texts of one batch become token sequences of different lengths, and a model needs one
rectangle, so the short ones are padded to the longest. The subtle part: a byte-level BPE
token is a run of *bytes*, so one emoji or CJK character can be split across tokens that
are not text on their own; `readable_token` shows those pieces as ⟨E6⟩.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from tokenizers import decoders
from transformers import PreTrainedTokenizerBase
from transformers.convert_slow_tokenizer import bytes_to_unicode

from seqdemo.errors import InputError
from seqdemo.token_kinds import token_kinds

SPACE_MARK = "␣"  # what a leading space looks like on a chip; byte-level BPE writes it as "Ġ"

_BYTE_OF_CHAR = {char: byte for byte, char in bytes_to_unicode().items()}


def is_byte_level(tokenizer: PreTrainedTokenizerBase) -> bool:
    """True for byte-level BPE (GPT-2, RoBERTa, Longformer): its tokens spell bytes, not characters."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and isinstance(backend.decoder, decoders.ByteLevel)


@lru_cache(maxsize=65_536)  # the same tokens recur in every text
def readable_token(token: str, byte_level: bool) -> tuple[str, bool]:
    """A token as a person reads it, and whether it holds only whole characters.

    Byte-level tokens are mapped back to their bytes and decoded as UTF-8: a space becomes
    "␣", and each byte that is only part of a character (the rest sits in a neighbouring
    token) becomes "⟨E6⟩". WordPiece tokens are already text and come back unchanged.
    """
    if not byte_level or any(char not in _BYTE_OF_CHAR for char in token):
        return token, True
    text = bytes(_BYTE_OF_CHAR[char] for char in token).decode("utf-8", errors="surrogateescape")
    pieces, whole = [], True
    for char in text:
        if "\udc80" <= char <= "\udcff":  # surrogateescape keeps an undecodable byte as U+DC80..U+DCFF
            pieces.append(f"⟨{ord(char) - 0xDC00:02X}⟩")
            whole = False
        elif char == " ":
            pieces.append(SPACE_MARK)
        elif not char.isprintable():
            pieces.append(f"⟨U+{ord(char):04X}⟩")
        else:
            pieces.append(char)
    return "".join(pieces), whole


@dataclass(frozen=True)
class TextTokens:
    """One text as one tokenizer splits it; every tuple has one entry per token.

    `tokens` are the tokenizer's own strings (`convert_ids_to_tokens`), `kinds` (`token_kinds`)
    one of REAL, SPECIAL, UNK or BYTES (a byte-level piece of a split character),
    `readable` what `readable_token` makes of each, and `offset_mapping` the (start, end)
    characters of the text each token came from ((0, 0) for special tokens).
    """

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    kinds: tuple[str, ...]
    readable: tuple[str, ...]
    offset_mapping: tuple[tuple[int, int], ...]

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class TokenizerLengths:
    """Every text through one tokenizer, and what padding the batch to the longest would cost.

    `texts[i]` is text i's tokens. `over_limit` lists the texts whose full encoding, special
    tokens included, is longer than `model_max_length` (the model would have to truncate).
    """

    name: str
    vocab_size: int
    model_max_length: int
    pad_token: str
    byte_level: bool
    texts: tuple[TextTokens, ...]
    over_limit: tuple[int, ...]

    @property
    def counts(self) -> np.ndarray:
        """Tokens per text, shape (texts,)."""
        return np.array([text.count for text in self.texts], dtype=np.int64)

    @property
    def min_tokens(self) -> int:
        return int(self.counts.min())

    @property
    def max_tokens(self) -> int:
        return int(self.counts.max())

    @property
    def mean_tokens(self) -> float:
        return float(self.counts.mean())

    @property
    def total_slots(self) -> int:
        """Texts × the longest text's tokens (the padded length): the size of the padded `input_ids` rectangle."""
        return len(self.texts) * self.max_tokens

    @property
    def pad_counts(self) -> np.ndarray:
        """Padding each text needs to reach the longest, shape (texts,)."""
        return self.max_tokens - self.counts

    @property
    def pad_slots(self) -> int:
        return int(self.pad_counts.sum())

    @property
    def padding_share(self) -> float:
        """Pad slots / total slots; 0.0 for a batch with no slots at all."""
        return self.pad_slots / self.total_slots if self.total_slots else 0.0


@dataclass(frozen=True)
class LengthReport:
    """Several texts measured in words, characters and tokens of each tokenizer.

    `words[i]` counts whitespace-separated words and `chars[i]` Unicode code points of
    `texts[i]`; `tokenizers` keeps the order the tokenizers were given in.
    """

    texts: tuple[str, ...]
    words: tuple[int, ...]
    chars: tuple[int, ...]
    add_special_tokens: bool
    tokenizers: tuple[TokenizerLengths, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(lengths.name for lengths in self.tokenizers)

    def by_name(self, name: str) -> TokenizerLengths:
        for lengths in self.tokenizers:
            if lengths.name == name:
                return lengths
        raise KeyError(name)

    @property
    def counts(self) -> np.ndarray:
        """Tokens per text and tokenizer, shape (texts, tokenizers)."""
        return np.stack([lengths.counts for lengths in self.tokenizers], axis=1)

    def same_tokens(self, first: str, second: str) -> bool:
        """True when two tokenizers turned every text into the same token ids."""
        pairs = zip(self.by_name(first).texts, self.by_name(second).texts, strict=True)
        return all(a.ids == b.ids for a, b in pairs)


def _measure_tokenizer(
    name: str, texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, add_special_tokens: bool
) -> TokenizerLengths:
    byte_level = is_byte_level(tokenizer)
    special = set(tokenizer.all_special_ids)
    # The model always sees the special tokens, so the limit is checked with them counted.
    extra = 0 if add_special_tokens else tokenizer.num_special_tokens_to_add(pair=False)
    batch = tokenizer(list(texts), add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    encoded = []
    for ids, offsets in zip(batch["input_ids"], batch["offset_mapping"], strict=True):
        tokens = tokenizer.convert_ids_to_tokens(ids)
        readable = [
            readable_token(token, byte_level and i not in special) for token, i in zip(tokens, ids, strict=True)
        ]
        kinds = token_kinds(
            [i in special for i in ids],
            unknown=[i == tokenizer.unk_token_id for i in ids],
            split_bytes=[not whole for _, whole in readable],
        )
        encoded.append(
            TextTokens(
                tokens=tuple(tokens),
                ids=tuple(ids),
                kinds=kinds,
                readable=tuple(text for text, _ in readable),
                offset_mapping=tuple((int(start), int(end)) for start, end in offsets),
            )
        )
    return TokenizerLengths(
        name=name,
        vocab_size=len(tokenizer),
        model_max_length=int(tokenizer.model_max_length),
        pad_token=str(tokenizer.pad_token),
        byte_level=byte_level,
        texts=tuple(encoded),
        over_limit=tuple(i for i, text in enumerate(encoded) if text.count + extra > tokenizer.model_max_length),
    )


def measure_lengths(
    texts: Sequence[str], tokenizers: Mapping[str, PreTrainedTokenizerBase], *, add_special_tokens: bool = True
) -> LengthReport:
    """Words, characters and tokens of every text under every tokenizer.

    `tokenizers` maps a name (a role such as "bert") to a tokenizer; the report keeps that
    order. With `add_special_tokens=False` the counts leave out [CLS]/[SEP] or <s>/</s>.
    Raises InputError for no texts or no tokenizers.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string.")
    if not texts:
        raise InputError("Enter at least one text (one per line).")
    if not tokenizers:
        raise InputError("Choose at least one tokenizer.")
    texts = tuple(texts)
    return LengthReport(
        texts=texts,
        words=tuple(len(text.split()) for text in texts),
        chars=tuple(len(text) for text in texts),
        add_special_tokens=add_special_tokens,
        tokenizers=tuple(
            _measure_tokenizer(name, texts, tokenizer, add_special_tokens) for name, tokenizer in tokenizers.items()
        ),
    )
