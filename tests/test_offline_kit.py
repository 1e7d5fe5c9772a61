"""The offline kit's tokenizers: deterministic, cached, and true to their families."""

import json

import pytest
from transformers import AutoTokenizer

import seqdemo.offline.kit as kit_module
from seqdemo.offline import ensure_kit
from seqdemo.offline.corpus import corpus_lines
from seqdemo.offline.kit import build_kit

SAMPLES = [
    "The movie was wonderful, unbelievably so!",
    "Tokenizers split rare words: antidisestablishmentarianism.",
    "Emoji 😀 and scripts: Москва, 東京, مرحبا.",
]


def test_two_builds_give_identical_vocabularies_and_encodings(tmp_path):
    build_kit(tmp_path / "a")
    build_kit(tmp_path / "b")
    for name in ("bert", "roberta", "longformer"):
        assert (tmp_path / "a" / name / "tokenizer.json").read_bytes() == (
            tmp_path / "b" / name / "tokenizer.json"
        ).read_bytes()
        first = AutoTokenizer.from_pretrained(tmp_path / "a" / name)
        second = AutoTokenizer.from_pretrained(tmp_path / "b" / name)
        assert first(SAMPLES)["input_ids"] == second(SAMPLES)["input_ids"]


def test_kit_is_built_once_and_reused(tmp_path, monkeypatch):
    builds = []
    real_build = kit_module.build_kit
    monkeypatch.setattr(kit_module, "build_kit", lambda out: builds.append(out) or real_build(out))
    first = ensure_kit(tmp_path)
    second = ensure_kit(tmp_path)
    assert first == second and len(builds) == 1


def test_stale_kit_is_rebuilt_when_the_version_changes(tmp_path, monkeypatch):
    kit = ensure_kit(tmp_path)
    manifest = json.loads((kit / "manifest.json").read_text())
    (kit / "manifest.json").write_text(json.dumps({**manifest, "version": manifest["version"] - 1}))
    builds = []
    real_build = kit_module.build_kit
    monkeypatch.setattr(kit_module, "build_kit", lambda out: builds.append(out) or real_build(out))
    rebuilt = ensure_kit(tmp_path)
    assert len(builds) == 1
    assert json.loads((rebuilt / "manifest.json").read_text()) == manifest


def test_bert_kit_follows_bert_conventions(bert_tokenizer):
    tok = bert_tokenizer
    assert tok.pad_token == "[PAD]" and tok.pad_token_id == 0
    assert {"[CLS]", "[SEP]", "[UNK]", "[MASK]"} <= set(tok.all_special_tokens)
    assert tok.model_max_length == 512
    encoded = tok("first part", "second part here")
    tokens = tok.convert_ids_to_tokens(encoded["input_ids"])
    first_sep = tokens.index("[SEP]")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert encoded["token_type_ids"] == [0] * (first_sep + 1) + [1] * (len(tokens) - first_sep - 1)
    assert tok("Hello World")["input_ids"] == tok("hello world")["input_ids"]  # uncased


@pytest.mark.parametrize(("fixture", "max_length"), [("roberta_tokenizer", 512), ("longformer_tokenizer", 4096)])
def test_byte_level_kits_follow_roberta_conventions(request, fixture, max_length):
    tok = request.getfixturevalue(fixture)
    ids = {token: tok.convert_tokens_to_ids(token) for token in ("<s>", "<pad>", "</s>")}
    assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2}
    assert tok.pad_token_id == 1 and tok.model_max_length == max_length
    assert {"<unk>", "<mask>"} <= set(tok.all_special_tokens)
    a, b = "first part", "second part"
    encoded = tok(a, b)
    assert "token_type_ids" not in encoded
    plain_a = tok(a, add_special_tokens=False)["input_ids"]
    plain_b = tok(b, add_special_tokens=False)["input_ids"]
    assert encoded["input_ids"] == [0, *plain_a, 2, 2, *plain_b, 2]  # <s> A </s></s> B </s>


def test_longformer_shares_robertas_vocabulary(roberta_tokenizer, longformer_tokenizer):
    assert roberta_tokenizer.get_vocab() == longformer_tokenizer.get_vocab()
    assert roberta_tokenizer(SAMPLES)["input_ids"] == longformer_tokenizer(SAMPLES)["input_ids"]


def test_words_outside_the_corpus_split_into_subwords(bert_tokenizer, roberta_tokenizer):
    corpus = " ".join(corpus_lines()).lower()
    unseen = "antidisestablishmentarianism"
    assert unseen not in corpus
    assert len(bert_tokenizer.tokenize(unseen)) > 1
    assert len(roberta_tokenizer.tokenize(" " + unseen)) > 1
    common = max(("the", "model", "text"), key=corpus.count)
    assert bert_tokenizer.tokenize(common) == [common]


def test_byte_level_bpe_never_needs_unk(roberta_tokenizer):
    ids = roberta_tokenizer(SAMPLES[2], add_special_tokens=False)["input_ids"]
    assert roberta_tokenizer.unk_token_id not in ids
    assert roberta_tokenizer.decode(ids) == SAMPLES[2]
