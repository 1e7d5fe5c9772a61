"""Queue settings for a shared 2-core CPU Space: model work one request at a time, everything else beside it.

A base-sized model keeps both cores busy, so two running at once only slow each other down:
every event that runs a model's forward pass joins one concurrency group with a single slot,
on the tabbed app and on the lesson pages alike. The tokenizer-only lessons (lengths, padding,
the batching plans), the worked examples (served from memory) and small lookups keep slots of
their own and never wait behind a needle sweep. The queue holds at most QUEUE_SIZE waiting
events; beyond that Gradio turns new ones away at once, telling the visitor "This application
is currently busy. Please try again."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.blocks import BlockFunction

from seqdemo.ui import attention, batching, longdoc, masks

MODEL_GROUP = "models"
# The handlers that run a model's forward pass.
MODEL_HANDLERS = frozenset(
    {
        masks.show_proof,
        masks.run_proof,
        masks.run_generation,
        masks.run_lesson,
        attention.show_attention,
        longdoc.compare_document,
        longdoc.show_comparison,
        longdoc.run_sweep,
        longdoc.show_sweep,
        batching.throughput,
    }
)
QUEUE_SIZE = 32
OTHER_EVENTS_AT_ONCE = 2  # per event: a tokenizer-only request takes milliseconds


def event_handler(event: BlockFunction) -> Callable[..., Any] | None:
    """The module-level handler an event runs: through `gr.cache`'s wrapper and `bind`'s partial."""
    fn = inspect.unwrap(event.fn) if event.fn else None
    return getattr(fn, "func", fn)


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """Put `demo`'s model events in MODEL_GROUP with one slot, and bound its queue; returns `demo`."""
    for event in demo.fns.values():
        if event_handler(event) in MODEL_HANDLERS:
            event.concurrency_id = MODEL_GROUP
            event.concurrency_limit = 1
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=OTHER_EVENTS_AT_ONCE)
