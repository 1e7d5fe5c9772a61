"""The offline kit, built once per test session into a temporary folder.

The environment is set before any seqdemo import, so the app's own `default_store()`
uses the same offline kit as the fixtures and never asks the Hub.
"""

from __future__ import annotations

import os
import tempfile

os.environ["SEQDEMO_MODELS"] = "offline"
os.environ["SEQDEMO_KIT_DIR"] = tempfile.mkdtemp(prefix="seqdemo-kit-")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

from seqdemo.models import ModelStore, default_store  # noqa: E402


@pytest.fixture(scope="session")
def store() -> ModelStore:
    """The process-wide store on the offline kit (built on first use)."""
    store = default_store()
    store.kit_dir()
    return store


@pytest.fixture(scope="session")
def bert_tokenizer(store):
    return store.tokenizer("bert")


@pytest.fixture(scope="session")
def roberta_tokenizer(store):
    return store.tokenizer("roberta")


@pytest.fixture(scope="session")
def longformer_tokenizer(store):
    return store.tokenizer("longformer")
