"""Queue settings for a shared 2-core CPU Space: model work one request at a time, everything else beside it.

A base-sized model keeps both cores busy, so two running at once only slow each other down:
every event that runs a model joins one concurrency group with a single slot. The tokenizer-only
lessons (lengths, padding, the batching plans), the worked examples (served from memory) and
small lookups keep slots of their own and never wait behind a needle sweep. The queue holds at
most QUEUE_SIZE waiting events; beyond that Gradio turns new ones away at once, telling the
visitor "This application is currently busy. Please try again."
"""

from __future__ import annotations

import gradio as gr

MODEL_GROUP = "models"
# The public events that run a model's forward pass (their api_names are the app's stable API).
MODEL_EVENTS = frozenset(
    {
        "mask_proof",
        "attention_maps",
        "compare_strategies",
        "needle_sweep",
        "batching_throughput",
    }
)
QUEUE_SIZE = 32
OTHER_EVENTS_AT_ONCE = 2  # per event: a tokenizer-only request takes milliseconds


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """Put `demo`'s model events in MODEL_GROUP with one slot, and bound its queue; returns `demo`."""
    for event in demo.fns.values():
        if event.api_name in MODEL_EVENTS:
            event.concurrency_id = MODEL_GROUP
            event.concurrency_limit = 1
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=OTHER_EVENTS_AT_ONCE)
