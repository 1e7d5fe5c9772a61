"""Model roles: hub/offline/auto decision, checkpoint resolution and load-once caching."""

import http.server
import socket
import sys
import threading
import time
from dataclasses import replace

import pytest
import torch

import seqdemo.models as models
from seqdemo.models import ROLES, ModelSource, ModelStore, decide_source, get_role, probe_hub
from seqdemo.settings import Settings, checkpoint_env_var


def never_called(endpoint: str) -> bool:
    raise AssertionError("the Hub must not be probed here")


def test_forced_offline_never_probes_the_hub():
    source = decide_source(Settings(models="offline"), probe=never_called)
    assert source.mode == "offline" and "SEQDEMO_MODELS" in source.reason


def test_hf_hub_offline_means_offline_without_probing():
    source = decide_source(Settings.from_env({"HF_HUB_OFFLINE": "1"}), probe=never_called)
    assert source.mode == "offline" and "HF_HUB_OFFLINE" in source.reason


def test_transformers_offline_also_means_offline_as_huggingface_hub_reads_it():
    assert Settings.from_env({"TRANSFORMERS_OFFLINE": "1"}).hub_offline
    assert not Settings.from_env({"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"}).hub_offline


def test_a_request_waits_10_s_for_the_hub_unless_told_otherwise():
    assert Settings.from_env({}).hub_timeout_s == 10.0
    assert Settings.from_env({"SEQDEMO_HUB_TIMEOUT": "2.5"}).hub_timeout_s == 2.5
    for bad in ("0", "-1", "soon", "inf"):
        with pytest.raises(ValueError, match="SEQDEMO_HUB_TIMEOUT"):
            Settings.from_env({"SEQDEMO_HUB_TIMEOUT": bad})


def test_forced_hub_trusts_the_user():
    assert decide_source(Settings(models="hub"), probe=never_called).mode == "hub"


def test_forced_hub_with_hf_hub_offline_is_a_contradiction():
    with pytest.raises(ValueError, match="contradicts"):
        decide_source(Settings(models="hub", hub_offline=True), probe=never_called)


@pytest.mark.parametrize(("reachable", "mode"), [(True, "hub"), (False, "offline")])
def test_auto_follows_the_probe(reachable, mode):
    probed = []
    source = decide_source(Settings(models="auto"), probe=lambda endpoint: probed.append(endpoint) or reachable)
    assert source.mode == mode and len(probed) == 1
    assert "not reachable" in source.label if not reachable else "reachable" in source.label


def test_unknown_mode_in_environment_is_rejected():
    with pytest.raises(ValueError, match="auto, hub, offline"):
        Settings.from_env({"SEQDEMO_MODELS": "cloud"})


class _Answering(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_probe_sees_a_server_that_answers():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert probe_hub(f"http://127.0.0.1:{server.server_port}", timeout_s=2.0)
    finally:
        server.shutdown()


def test_probe_gives_up_on_a_refused_connection():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not probe_hub(f"http://127.0.0.1:{port}", timeout_s=1.0)


def test_probe_returns_at_its_deadline_when_the_server_never_answers():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections into the backlog, never replies
    try:
        started = time.monotonic()
        assert not probe_hub(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.5)
        assert time.monotonic() - started < 5  # bounded by the deadline, not by urllib's retries
    finally:
        silent.close()


def test_every_role_has_a_hub_and_a_kit_checkpoint():
    for role in ROLES.values():
        assert role.hub_checkpoint and role.kit_checkpoint and role.family


def test_unknown_role_lists_the_known_ones():
    with pytest.raises(ValueError, match="bert"):
        get_role("gpt-5")


def test_hub_checkpoint_can_be_overridden_per_role(store):
    settings = Settings.from_env({checkpoint_env_var("roberta"): "someone/roberta-variant"})
    hub_store = ModelStore(ModelSource("hub", "test"), settings, device=store.device)
    assert hub_store.checkpoint("roberta") == "someone/roberta-variant"
    assert hub_store.checkpoint("bert") == get_role("bert").hub_checkpoint


def test_offline_checkpoints_are_kit_folders(store):
    for name in ROLES:
        assert store.checkpoint(name).startswith(str(store.kit_dir()))


def test_second_request_for_a_tokenizer_does_not_reload(store, monkeypatch):
    calls = []
    real = models.AutoTokenizer.from_pretrained

    def counting(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(models.AutoTokenizer, "from_pretrained", counting)
    fresh = ModelStore(store.source, replace(store.settings), device=store.device)
    first = fresh.tokenizer("roberta")
    second = fresh.tokenizer("roberta")
    assert first is second
    assert calls == [fresh.checkpoint("roberta")]


def test_threads_encoding_with_different_settings_do_not_disturb_each_other(store):
    texts = ["a short one", "a longer text to pad the batch with " * 20] * 8
    settings = [
        {"padding": "max_length", "max_length": 300, "truncation": True},
        {"padding": "longest"},
        {"padding": False},
    ]
    expected = [store.tokenizer("bert")(texts, **kwargs)["input_ids"] for kwargs in settings]
    failures = []

    def encode(index: int) -> None:
        tokenizer = store.tokenizer("bert")
        for _ in range(150):
            try:
                if tokenizer(texts, **settings[index])["input_ids"] != expected[index]:
                    failures.append(f"wrong encoding for {settings[index]}")
            except Exception as err:  # "Already borrowed" from a shared Rust tokenizer
                failures.append(repr(err))

    threads = [threading.Thread(target=encode, args=(i,)) for i in range(len(settings))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a busy server does, so a race shows
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


def test_default_store_is_one_per_process(store):
    assert models.default_store() is store
    assert store.source.mode == "offline"


def test_models_are_built_one_at_a_time_whichever_threads_load_them(store, monkeypatch):
    """from_pretrained switches process-wide state (weight tying, torch's default dtype) while it builds."""
    building, overlaps = [], []

    def from_pretrained(checkpoint, **kwargs):
        building.append(checkpoint)
        overlaps.append(len(building))
        time.sleep(0.2)
        building.remove(checkpoint)
        return torch.nn.Linear(1, 1)

    fresh = ModelStore(store.source, store.settings, device=store.device)
    for role in ("bert", "roberta", "longformer"):
        monkeypatch.setattr(get_role(role).model_class, "from_pretrained", from_pretrained)
    loads = [threading.Thread(target=fresh.model, args=(role,)) for role in ("bert", "roberta", "longformer")]
    for load in loads:
        load.start()
    for load in loads:
        load.join(10)
    assert len(overlaps) == 3 and max(overlaps) == 1
