"""The Hub path over real HTTP: a local stand-in Hub serves the offline kit's checkpoints under the roles' Hub ids.

Each test starts from an empty HF cache, so every file is fetched by huggingface_hub and transformers
themselves (model info, HEAD, redirects to the "CDN", retries); only the Hub is local, and it fails on
demand: a 500 or a stalled file in the middle of a session, a probe answered too late.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hub_standin import StandInHub, use_hub

from seqdemo.device import pick_device
from seqdemo.errors import ModelLoadError
from seqdemo.models import ROLES, ModelStore, decide_source
from seqdemo.settings import Settings, checkpoint_env_var
from seqdemo.ui import build_app, header_markdown, launch

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["A short text.", "A somewhat longer text, with more words in it, to pad the first one."]
# A hang must fail the test; the bound is loose because the machine is shared (speed lives in benchmarks/).
PROMPTLY_S = 20


@pytest.fixture
def hf_home():
    """A fresh, empty HF cache, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="seqdemo-hf-home-") as home:
        yield Path(home)


@pytest.fixture
def kit_hub(store, hf_home):
    """The stand-in Hub serving each role's kit checkpoint under the role's Hub id (stopped before the cache goes)."""
    repos = {role.hub_checkpoint: store.kit_dir() / role.kit_checkpoint for role in ROLES.values()}
    with StandInHub(repos) as hub:
        yield hub


def hub_settings(hub: StandInHub, monkeypatch, hf_home: Path, **environ: str) -> Settings:
    """Settings read from an environment that points at `hub` in `auto` mode; huggingface_hub points there too."""
    use_hub(monkeypatch, hub.url, hf_home)
    return Settings.from_env({"HF_ENDPOINT": hub.url, "SEQDEMO_MODELS": "auto", **environ})


def hub_store(settings: Settings) -> ModelStore:
    source = decide_source(settings)
    assert source.mode == "hub", source.label
    return ModelStore(source, settings, device=pick_device("cpu"))


def on_new_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Start `fn()` on a thread that has asked the store nothing yet, as a fresh Gradio worker would.

    The returned call waits for it and gives what it returned or raised; it fails the test on a hang.
    """
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except Exception as err:
            outcome.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()

    def result() -> Any:
        worker.join(PROMPTLY_S)
        assert outcome, "the call did not return in time"
        return outcome[0]

    return result


def elapsed_s(started: float) -> float:
    return time.monotonic() - started


def test_auto_finds_the_hub_and_the_header_says_so(kit_hub, monkeypatch, hf_home):
    source = decide_source(hub_settings(kit_hub, monkeypatch, hf_home))
    assert source.mode == "hub"
    header = header_markdown(source, pick_device("cpu"))
    assert f"Hugging Face Hub checkpoints: {kit_hub.url} reachable" in header and "offline" not in header
    assert [(method, path) for method, path, _, _ in kit_hub.requests] == [("HEAD", "/api/models?limit=1")]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_downloads_and_loads_as_the_kit_checkpoint_it_serves(role, kit_hub, monkeypatch, hf_home, store):
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home))
    checkpoint = ROLES[role].hub_checkpoint
    tokenizer, model = hub.tokenizer(role), hub.model(role)
    assert hub.checkpoint(role) == checkpoint
    assert {"config.json", "tokenizer.json"} <= set(kit_hub.downloads(checkpoint))
    assert any(method == "GET" and path.startswith("/cdn/") for method, path, _, _ in kit_hub.requests)
    snapshot = hf_home / "hub" / f"models--{checkpoint.replace('/', '--')}" / "snapshots"
    assert [path.name for path in snapshot.glob("*/model.safetensors")] == ["model.safetensors"]

    kit_tokenizer, kit_model = store.tokenizer(role), store.model(role)
    assert tokenizer(TEXTS)["input_ids"] == kit_tokenizer(TEXTS)["input_ids"]
    batch = kit_tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(model(**batch)[0], kit_model(**batch)[0])


def test_a_file_answering_500_mid_session_is_a_clear_error_within_seconds(kit_hub, monkeypatch, hf_home):
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home))  # the default wait for the Hub
    hub.tokenizer("bert")  # the session is under way
    kit_hub.errors["model.safetensors"] = 500
    started = time.monotonic()
    with pytest.raises(ModelLoadError) as failure:
        hub.model("bert")
    assert elapsed_s(started) < PROMPTLY_S
    message = str(failure.value)
    assert message.startswith("The bert model (bert-base-uncased) could not be loaded") and kit_hub.url in message
    assert "Try again in a minute" in message and "SEQDEMO_MODELS=offline" in message

    # What does not need the failing file is still served: a loaded tokenizer, another role's tokenizer.
    expected = hub.tokenizer("bert")(TEXTS)["input_ids"]
    assert on_new_thread(lambda: hub.tokenizer("bert")(TEXTS)["input_ids"])() == expected
    assert on_new_thread(lambda: hub.tokenizer("roberta").name_or_path)() == "roberta-base"
    del kit_hub.errors["model.safetensors"]
    assert hub.model("bert").config.model_type == "bert"  # huggingface_hub, still retrying, now gets the file


def test_a_load_that_failed_is_tried_again_by_the_next_request(kit_hub, monkeypatch, hf_home):
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home))
    kit_hub.errors["gpt2/model.safetensors"] = 403  # refused at once: huggingface_hub does not retry a 403
    with pytest.raises(ModelLoadError, match=r"^The decoder model \(gpt2\) could not .* the download failed: "):
        hub.model("decoder")
    del kit_hub.errors["gpt2/model.safetensors"]
    assert hub.model("decoder").config.model_type == "gpt2"


def test_a_stalled_file_is_a_clear_error_and_holds_up_nothing_else(kit_hub, monkeypatch, hf_home):
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home, SEQDEMO_HUB_TIMEOUT="3"))
    kit_hub.stalled.add("allenai/longformer-base-4096/model.safetensors")
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match=r"^The longformer model \(allenai/longformer-base-4096\) .* within 3 s"):
        hub.model("longformer")
    assert elapsed_s(started) < PROMPTLY_S

    # While the download hangs, a second request for it is told the same, and other loads go ahead.
    second = on_new_thread(lambda: hub.model("longformer"))
    started = time.monotonic()
    assert on_new_thread(lambda: hub.tokenizer("longformer").name_or_path)() == "allenai/longformer-base-4096"
    assert on_new_thread(lambda: hub.model("bert").config.model_type)() == "bert"
    assert elapsed_s(started) < PROMPTLY_S
    assert isinstance(second(), ModelLoadError)

    kit_hub.release_stalled()  # the connection drops; huggingface_hub resumes the download
    assert hub.model("longformer").config.model_type == "longformer"


@pytest.mark.parametrize(("delay_s", "mode"), [(1.0, "hub"), (4.0, "offline")])
def test_a_hub_answering_the_probe_after_3_s_means_the_offline_kit(delay_s, mode, kit_hub, monkeypatch, hf_home):
    kit_hub.probe_delay_s = delay_s
    source = decide_source(hub_settings(kit_hub, monkeypatch, hf_home))
    assert source.mode == mode
    assert ("Hub not reachable" in source.label) == (mode == "offline")


def test_a_checkpoint_override_is_fetched_from_the_hub_and_named_when_missing(kit_hub, monkeypatch, hf_home, store):
    kit_hub.add_repo("someone/roberta-variant", store.kit_dir() / "roberta")
    variable = checkpoint_env_var("roberta")
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home, **{variable: "someone/roberta-variant"}))
    assert hub.tokenizer("roberta")(TEXTS)["input_ids"] == store.tokenizer("roberta")(TEXTS)["input_ids"]
    assert "tokenizer.json" in kit_hub.downloads("someone/roberta-variant")
    assert kit_hub.downloads("roberta-base") == []

    missing = hub_store(hub_settings(kit_hub, monkeypatch, hf_home, **{variable: "someone/no-such-model"}))
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match=rf"^The roberta tokenizer \(someone/no-such-model, set by {variable}\)"):
        missing.tokenizer("roberta")
    assert elapsed_s(started) < PROMPTLY_S


@pytest.mark.parametrize("fault", ["500", "stall"])
def test_the_app_keeps_serving_other_tabs_when_the_hub_fails(fault, kit_hub, monkeypatch, hf_home):
    gradio_client = pytest.importorskip("gradio_client")
    app_error = pytest.importorskip("gradio_client.exceptions").AppError
    hub = hub_store(hub_settings(kit_hub, monkeypatch, hf_home, SEQDEMO_HUB_TIMEOUT="3"))
    demo = build_app(hub)
    launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(demo.local_url, verbose=False)
        lengths = ("\n".join(TEXTS), ["bert", "roberta"], True)
        client.predict(*lengths, api_name="/measure_lengths")  # the tokenizers arrive over HTTP
        if fault == "500":
            kit_hub.errors["model.safetensors"] = 500
        else:
            kit_hub.stalled.add("model.safetensors")

        started = time.monotonic()
        with pytest.raises(app_error, match=r"The bert model \(bert-base-uncased\) could"):
            client.predict("\n".join(TEXTS), "bert", 0, api_name="/key_mask")
        assert elapsed_s(started) < PROMPTLY_S

        started = time.monotonic()
        stats, *_ = client.predict(*lengths, api_name="/measure_lengths")
        padding, *_ = client.predict(api_name="/padding_compare")
        assert "bert" in stats and "roberta" in stats and padding
        assert elapsed_s(started) < PROMPTLY_S

        # Once the Hub is well again the masks tab answers: its download, still being retried, completes.
        kit_hub.errors.clear()
        kit_hub.release_stalled()
        started = time.monotonic()
        while elapsed_s(started) < PROMPTLY_S:
            try:
                figure, files = client.predict("\n".join(TEXTS), "bert", 0, api_name="/key_mask")
                break
            except Exception:  # still "did not arrive within 3 s"
                time.sleep(0.5)
        else:
            pytest.fail("the masks tab never recovered")
        assert files
    finally:
        demo.close()


def test_a_fresh_process_reads_hf_endpoint_and_fetches_from_it(kit_hub, hf_home):
    """`HF_ENDPOINT` in a new process's environment: the probe and the downloads both go there."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SEQDEMO_", "TRANSFORMERS_"))}
    environ |= {"HF_ENDPOINT": kit_hub.url, "HF_HOME": str(hf_home), "SEQDEMO_MODELS": "auto"}
    environ["SEQDEMO_KIT_DIR"] = os.environ["SEQDEMO_KIT_DIR"]
    script = "from seqdemo.models import default_store; s = default_store(); s.tokenizer('bert'); print(s.source.label)"
    run = subprocess.run(
        [sys.executable, "-c", script], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Hugging Face Hub checkpoints: {kit_hub.url} reachable"
    assert "tokenizer.json" in kit_hub.downloads("bert-base-uncased")
