"""The queue on a shared CPU: a long sweep holds up other model work, never the lengths tab; the queue is bounded."""

import threading
import time

import pytest

import seqdemo.ui.longdoc as longdoc_tab
from seqdemo.ui.queueing import MODEL_GROUP, QUEUE_SIZE

pytestmark = pytest.mark.e2e

gradio_client = pytest.importorskip("gradio_client")
from gradio_client.utils import Status  # noqa: E402

# The public events whose handlers run a model's forward pass.
MODEL_EVENTS = (
    "mask_proof_charts",
    "mask_generation",
    "mask_proof_encoder",
    "mask_proof",
    "attention_maps",
    "compare_strategies_charts",
    "compare_strategies",
    "needle_sweep_charts",
    "needle_sweep",
    "batching_throughput",
)
PRIVATE_MODEL_EVENTS = 1  # GPT-2's generation after the mask proof succeeds


def test_model_events_share_one_slot_on_every_page_and_the_queue_is_bounded(demo, endpoint):
    for api_name in MODEL_EVENTS:
        assert (endpoint(api_name).concurrency_id, endpoint(api_name).concurrency_limit) == (MODEL_GROUP, 1)
    grouped = [event for event in demo.fns.values() if event.concurrency_id == MODEL_GROUP]
    assert len(grouped) == (len(MODEL_EVENTS) + PRIVATE_MODEL_EVENTS) * 2  # the tabbed app's and the lesson pages'
    assert endpoint("measure_lengths").concurrency_id != MODEL_GROUP
    assert endpoint("measure_lengths_example").concurrency_limit is None  # served from memory, never waits
    assert demo._queue.max_size == QUEUE_SIZE == 32


def _wait_for(condition, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_sweep_in_flight_holds_up_other_model_work_but_not_the_lengths_tab(app_url, monkeypatch):
    events, release = [], threading.Event()
    real_sweep, real_compare = longdoc_tab.sweep_needle, longdoc_tab.compare_long_document_strategies

    def held_sweep(*args, **kwargs):
        events.append("sweep started")
        release.wait(120)
        yield from real_sweep(*args, **kwargs)
        events.append("sweep finished")

    def compare(*args, **kwargs):
        events.append("compare started")
        yield from real_compare(*args, **kwargs)

    monkeypatch.setattr(longdoc_tab, "sweep_needle", held_sweep)
    monkeypatch.setattr(longdoc_tab, "compare_long_document_strategies", compare)
    client = gradio_client.Client(app_url, verbose=False)
    # inputs no earlier request used, so neither call is a replay from the cache
    sweep = client.submit(
        "A passage only this test sweeps: wonderful.", "shipped filler", None, 2, ["head"], 10, 10, "max",
        api_name="/needle_sweep",
    )  # fmt: skip
    _wait_for(lambda: events == ["sweep started"])
    compare_job = client.submit(
        "A document only this test compares.", ["head"], 11, 11, "max", api_name="/compare_strategies"
    )
    _wait_for(lambda: compare_job.status().code == Status.IN_QUEUE)  # waiting behind the sweep
    client.predict("One text.\nAnother, longer text.", ["bert"], True, api_name="/measure_lengths")
    events.append("lengths answered")
    release.set()
    compare_job.result(timeout=120)
    sweep.result(timeout=120)
    assert events == ["sweep started", "lengths answered", "sweep finished", "compare started"]
