"""The real offline kit against published facts: bert-base-uncased's and GPT-2's ids, RoBERTa's tokens, a trained BERT.

These need the kit's fetched parts (the `real_kit` fixture): where the package index could not
be reached the kit is the fallback one and they are skipped, except in CI (`CI=true`), where the
real kit is a promise and its absence fails them.
"""

from __future__ import annotations

import numpy as np
import pytest
import tiktoken
import torch
from transformers import BertConfig, BertModel
from transformers.convert_slow_tokenizer import bytes_to_unicode

from seqdemo.offline.bpe_ranks import read_ranks
from seqdemo.offline.corpus import corpus_lines
from seqdemo.offline.fetch import cached_parts
from seqdemo.settings import Settings

# tiktoken's own pattern for its "gpt2" encoding (tiktoken_ext/openai_public.py)
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
RARE_WORD_SENTENCE = "Hello world, antidisestablishmentarianism is a rare word. Emoji 🙂 and Москва too."


@pytest.fixture(scope="module")
def tiktoken_gpt2(real_kit):
    """tiktoken's BPE over the fetched ranks file: an implementation independent of the kit's `tokenizers` one."""
    parts = cached_parts(Settings.from_env().parts_dir)
    assert parts is not None, "the real kit was built, so its parts are in the parts cache"
    ranks = read_ranks(parts.gpt2_bpe / "gpt2.tiktoken")
    return tiktoken.Encoding(
        "gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("hello world", [101, 7592, 2088, 102]),
        ("Hello, my dog is cute", [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]),  # transformers' BertModel example
    ],
)
def test_bert_gives_bert_base_uncased_ids(real_kit, bert_tokenizer, text, ids):
    assert bert_tokenizer(text)["input_ids"] == ids


def test_bert_keeps_common_words_whole_and_splits_rare_ones_as_bert_base_uncased(real_kit, bert_tokenizer):
    assert bert_tokenizer.tokenize("cat") == ["cat"]
    assert bert_tokenizer.tokenize("paid") == ["paid"]
    # transformers' tokenizer summary: "I have a new GPU!" with bert-base-uncased
    assert bert_tokenizer.tokenize("I have a new GPU!") == ["i", "have", "a", "new", "gp", "##u", "!"]
    assert (len(bert_tokenizer), bert_tokenizer.pad_token_id, bert_tokenizer.mask_token_id) == (30522, 0, 103)


def test_decoder_gives_gpt2_ids(real_kit, store):
    decoder = store.tokenizer("decoder")
    assert decoder("Hello world")["input_ids"] == [15496, 995]
    assert decoder("hello world")["input_ids"] == [31373, 995]  # tiktoken's own test of its gpt2 encoding
    assert decoder.eos_token == "<|endoftext|>" and decoder.eos_token_id == 50256


def test_decoder_splits_like_tiktoken_on_the_corpus(real_kit, store, tiktoken_gpt2):
    decoder = store.tokenizer("decoder")
    lines = [*corpus_lines()[::7], RARE_WORD_SENTENCE, "  two  spaces,\ttabs\n\nand newlines  "]
    encoded = decoder(lines, add_special_tokens=False)["input_ids"]
    assert encoded == [tiktoken_gpt2.encode_ordinary(line) for line in lines]


@pytest.mark.parametrize("role", ["roberta", "longformer"])
def test_roberta_family_speaks_gpt2_tokens_with_ids_shifted_past_its_specials(real_kit, store, tiktoken_gpt2, role):
    tokenizer = store.tokenizer(role)
    assert tokenizer.tokenize("Hello world") == ["Hello", "Ġworld"]  # roberta-base's (ids 31414, 232)
    gpt2_ids = tiktoken_gpt2.encode_ordinary(RARE_WORD_SENTENCE)
    spell = bytes_to_unicode()  # GPT-2's byte-to-character table, as roberta-base's vocabulary writes tokens
    tokens = ["".join(spell[byte] for byte in tiktoken_gpt2.decode_single_token_bytes(i)) for i in gpt2_ids]
    assert tokenizer.tokenize(RARE_WORD_SENTENCE) == tokens
    assert tokenizer(RARE_WORD_SENTENCE)["input_ids"] == [0, *(i + 4 for i in gpt2_ids), 2]
    assert (tokenizer.unk_token_id, tokenizer.mask_token_id, len(tokenizer)) == (3, 50260, 50261)


def _mean_pooled(model: torch.nn.Module, tokenizer, texts: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2's sentence embedding: the masked mean of the last hidden states, L2-normalised."""
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


PARAPHRASE_TRIPLES = [
    ("A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply this morning."),
    ("The cat sleeps on the sofa.", "A kitten is napping on the couch.", "Interest rates will rise next year."),
    ("How do I reset my password?", "I forgot my password and need a new one.", "The train leaves at noon."),
]


def _paraphrase_margins(model, tokenizer) -> list[float]:
    margins = []
    for anchor, paraphrase, unrelated in PARAPHRASE_TRIPLES:
        a, p, u = _mean_pooled(model, tokenizer, [anchor, paraphrase, unrelated])
        margins.append(float(a @ p - a @ u))
    return margins


def test_the_kit_bert_is_a_trained_sentence_encoder(real_kit, store, bert_tokenizer):
    model = store.model("bert")
    assert type(model).__name__ == "BertModel"
    assert (model.config.num_hidden_layers, model.config.num_attention_heads, model.config.hidden_size) == (6, 12, 384)
    assert min(_paraphrase_margins(model, bert_tokenizer)) > 0.3
    # the same architecture untrained cannot tell a paraphrase from an unrelated sentence
    torch.manual_seed(0)
    untrained = BertModel(BertConfig(**{**model.config.to_dict(), "architectures": None})).eval()
    assert max(abs(margin) for margin in _paraphrase_margins(untrained, bert_tokenizer)) < 0.1
