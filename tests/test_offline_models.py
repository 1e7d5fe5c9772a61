"""The offline kit's models: real architectures, sized to their tokenizers, seeded or fetched, reproducible."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file

from seqdemo.offline.fetch import cached_parts
from seqdemo.offline.models import KIT_MODELS, build_model
from seqdemo.settings import Settings

ARCHITECTURES = {
    "bert": "BertModel",
    "roberta": "RobertaModel",
    "longformer": "LongformerModel",
    "decoder": "GPT2LMHeadModel",
}


@pytest.mark.parametrize("role", list(ARCHITECTURES))
def test_kit_model_is_the_real_architecture_with_its_tokenizers_vocabulary_and_pad_id(store, role):
    model, tokenizer = store.model(role), store.tokenizer(role)
    assert type(model).__name__ == ARCHITECTURES[role]
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.pad_token_id is not None
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert not model.training


@pytest.mark.parametrize("role", list(ARCHITECTURES))
def test_kit_model_accepts_the_longest_input_its_tokenizer_produces(store, role):
    tokenizer = store.tokenizer(role)
    encoded = tokenizer("word " * tokenizer.model_max_length, truncation=True, return_tensors="pt")
    assert encoded["input_ids"].shape[1] == tokenizer.model_max_length
    with torch.no_grad():
        output = store.model(role)(**encoded)
    assert output[0].shape[1] == tokenizer.model_max_length


def test_decoder_tokenizer_has_its_own_pad_token(store):
    tokenizer = store.tokenizer("decoder")
    assert tokenizer.pad_token not in (None, tokenizer.eos_token, tokenizer.unk_token)
    encoded = tokenizer(["a much longer prompt than the other", "short"], padding=True, padding_side="left")
    assert encoded["input_ids"][1][0] == tokenizer.pad_token_id
    assert encoded["attention_mask"][1][0] == 0


@pytest.mark.parametrize("name", list(KIT_MODELS))
def test_each_kit_model_is_its_seeded_build_or_the_fetched_checkpoint_byte_for_byte(store, tmp_path, name):
    kit_weights = store.kit_dir() / name / "model.safetensors"
    if name == "bert" and store.kit_description().real:
        fetched = cached_parts(Settings.from_env().parts_dir).minilm / "model.safetensors"
        assert kit_weights.read_bytes() == fetched.read_bytes()
        return
    built = []
    for attempt in ("first", "second"):
        folder = tmp_path / attempt / name
        shutil.copytree(store.kit_dir() / name, folder)
        (folder / "model.safetensors").unlink()
        build_model(folder)
        built.append(load_file(folder / "model.safetensors"))
    first, second = built
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    kit_weights = load_file(kit_weights)
    assert all(torch.equal(first[key], kit_weights[key]) for key in first)
