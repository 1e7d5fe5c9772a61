"""The offline showdown pair: loaded like any checkpoint, accurate where it can see, reproducible by its script."""

import concurrent.futures
import json

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from seqdemo.longdoc import LONG_ROLE, SHORT_ROLE, load_classifier, sequence_logits, softmax
from seqdemo.models import ModelSource, ModelStore, get_role
from seqdemo.offline.kit import PAIR_DIR
from seqdemo.offline.longdoc_task import LABEL_NAMES, NEGATIVE_WORDS, POSITIVE_WORDS, document_within
from seqdemo.offline.train_pair import PAIR, longformer_from_roberta, new_model, sample_batch
from seqdemo.settings import Settings, checkpoint_env_var, labels_env_var

HELD_OUT_SEED = 20_261_125  # not the training seed, nor the one its own evaluation used
DOCUMENTS = 120


def _held_out(classifier, label_of, count=DOCUMENTS):
    """(documents' ids without special tokens, labels) fitting the classifier's window, from an unseen seed."""
    rng = np.random.default_rng(HELD_OUT_SEED)
    tokenizer = classifier.tokenizer
    count_tokens = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    labels = [label_of(rng) for _ in range(count)]
    texts = [document_within(rng, count_tokens, classifier.budget, label).text for label in labels]
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    return ids, labels


@pytest.mark.parametrize("role", [SHORT_ROLE, LONG_ROLE])
def test_each_model_is_accurate_where_the_passage_is_in_its_window(store, role):
    classifier = load_classifier(store, role)
    ids, labels = _held_out(classifier, lambda rng: int(rng.integers(2)))
    assert max(len(sequence) for sequence in ids) <= classifier.budget
    logits, _ = sequence_logits(classifier, ids)
    accuracy = float((logits.argmax(axis=1) == np.array(labels)).mean())
    assert accuracy >= 0.95, f"{role}: {accuracy:.3f} on {len(labels)} held-out documents"


def test_without_a_passage_the_short_model_answers_chance(store):
    classifier = load_classifier(store, SHORT_ROLE)
    ids, _ = _held_out(classifier, lambda rng: None, count=40)
    positive = softmax(sequence_logits(classifier, ids)[0])[:, 1]
    assert np.abs(positive - 0.5).max() < 0.25  # never confident
    assert abs(positive.mean() - 0.5) < 0.05  # and leaning neither way


@pytest.mark.parametrize("role", [SHORT_ROLE, LONG_ROLE])
def test_the_pair_loads_from_the_kit_like_any_checkpoint(store, role):
    checkpoint = store.checkpoint(role)
    assert checkpoint.startswith(str(store.kit_dir()))
    model = store.model(role)
    assert type(model).__name__ == ("Roberta" if role == SHORT_ROLE else "Longformer") + "ForSequenceClassification"
    assert store.label_names(role) == LABEL_NAMES
    committed = json.loads((PAIR_DIR / role / "training.json").read_text())
    assert store.tokenizer(role).model_max_length == committed["limit"]


def test_the_pair_uses_the_real_kits_byte_level_bpe_and_carries_it_into_any_kit(store):
    for role in (SHORT_ROLE, LONG_ROLE):
        tokenizer = store.tokenizer(role)
        assert tokenizer.tokenize("Hello world") == ["Hello", "Ġworld"]  # GPT-2's tokens, as roberta-base's
        assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
        if store.kit_description().real:
            assert tokenizer.get_vocab() == store.tokenizer("roberta").get_vocab()


@pytest.mark.parametrize("label", [0, 1, None])
def test_synthetic_documents_fit_their_window_and_hold_at_most_one_passage(roberta_tokenizer, label):
    count = lambda text: len(roberta_tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    rng = np.random.default_rng(HELD_OUT_SEED)
    for _ in range(20):
        document = document_within(rng, count, 254, label)
        assert document.text and count(document.text) <= 254 and document.label == label
        if label is None:
            assert document.passage_span is None and " the film is " not in document.text
        else:
            start, end = document.passage_span
            passage = document.text[start:end]
            assert passage.count(" the film is ") == document.text.count(" the film is ") == 1
            assert any(word in passage for word in (POSITIVE_WORDS if label else NEGATIVE_WORDS))


def test_training_batches_are_seeded(store):
    tokenizer = store.tokenizer(SHORT_ROLE)
    first, targets = sample_batch(np.random.default_rng(7), tokenizer, 256, 4)
    again, targets_again = sample_batch(np.random.default_rng(7), tokenizer, 256, 4)
    assert torch.equal(first["input_ids"], again["input_ids"]) and torch.equal(targets, targets_again)
    assert first["input_ids"].shape[1] <= 256
    assert torch.allclose(targets.sum(dim=1), torch.ones(4))


def test_the_long_model_starts_as_the_short_one_stretched(store):
    short_member, long_member = PAIR
    short_tokenizer = AutoTokenizer.from_pretrained(store.checkpoint(SHORT_ROLE))
    long_tokenizer = AutoTokenizer.from_pretrained(store.checkpoint(LONG_ROLE))
    torch.manual_seed(1)
    roberta = new_model(short_member, short_tokenizer)
    longformer = new_model(long_member, long_tokenizer)
    longformer_from_roberta(roberta, longformer)
    short_positions = roberta.roberta.embeddings.position_embeddings.weight
    long_positions = longformer.longformer.embeddings.position_embeddings.weight
    offset, learned = 2, short_positions.shape[0] - 2
    for position in (0, 1, 2, learned + 1, learned + 2, long_positions.shape[0] - 1):
        source = position if position < offset else offset + (position - offset) % learned
        assert torch.equal(long_positions[position], short_positions[source])
    layer = longformer.longformer.encoder.layer[1].attention.self
    assert torch.equal(layer.query_global.weight, layer.query.weight)
    assert torch.equal(layer.query.weight, roberta.roberta.encoder.layer[1].attention.self.query.weight)
    assert torch.equal(longformer.classifier.out_proj.weight, roberta.classifier.out_proj.weight)


def _hub_store(store, role, environ):
    """A Hub-mode store whose model for `role` is the offline one already loaded (nothing is downloaded)."""
    hub = ModelStore(ModelSource("hub", "test"), Settings.from_env(environ), device=store.device)
    hub._loads[("model", role, None)] = loaded = concurrent.futures.Future()
    loaded.set_result(store.model(role))
    return hub


def test_label_names_come_from_the_registry_on_the_hub(store):
    assert _hub_store(store, SHORT_ROLE, {}).label_names(SHORT_ROLE) == get_role(SHORT_ROLE).label_names


def test_label_names_follow_their_environment_variable(store):
    hub = _hub_store(store, LONG_ROLE, {labels_env_var(LONG_ROLE): "bad, good"})
    assert hub.label_names(LONG_ROLE) == ("bad", "good")


def test_a_swapped_checkpoint_without_label_names_uses_its_own(store):
    hub = _hub_store(store, SHORT_ROLE, {checkpoint_env_var(SHORT_ROLE): "someone/other-imdb"})
    config = store.model(SHORT_ROLE).config
    assert hub.checkpoint(SHORT_ROLE) == "someone/other-imdb"
    assert hub.label_names(SHORT_ROLE) == tuple(config.id2label[i] for i in range(config.num_labels))


def test_the_wrong_number_of_label_names_is_explained(store):
    hub = _hub_store(store, SHORT_ROLE, {labels_env_var(SHORT_ROLE): "neg,neutral,pos"})
    with pytest.raises(ValueError, match="names 3 labels"):
        hub.label_names(SHORT_ROLE)


def test_the_short_model_trains_first_so_the_long_one_can_start_from_it():
    assert PAIR[0].role == SHORT_ROLE
