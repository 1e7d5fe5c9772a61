"""Tools for agents: what three lessons compute, as plain data, published as API endpoints and MCP tools.

With `launch(mcp_server=True)` Gradio makes every public endpoint an MCP tool, but the lessons' endpoints
answer in HTML and figures. These answer in numbers, with `Args:` docstrings an agent reads, and
`keep_only_agent_tools` leaves the MCP server these alone; every endpoint stays in the API as it was.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from seqdemo.batching import compare_batching_strategies
from seqdemo.errors import InputError
from seqdemo.inputs import split_texts
from seqdemo.lengths import measure_lengths
from seqdemo.models import ENCODER_ROLES, ModelStore, get_role
from seqdemo.padding import PaddingConfig, encode_batch
from seqdemo.ui.components import user_errors
from seqdemo.uploads import MAX_ROWS

MAX_TOOL_TEXTS = MAX_ROWS


def _role(name: str) -> str:
    if name not in ENCODER_ROLES:
        raise InputError(f"tokenizer must be one of {', '.join(ENCODER_ROLES)}, not {name!r}.")
    return name


def _roles(names: str) -> list[str]:
    roles = [role.strip() for role in (names or "").split(",") if role.strip()]
    if not roles or any(role not in ENCODER_ROLES for role in roles):
        raise InputError(f"tokenizers must name some of {', '.join(ENCODER_ROLES)}, comma-separated, not {names!r}.")
    return roles


@user_errors("counting tokens")
def count_tokens(
    texts: str, tokenizers: str = ",".join(ENCODER_ROLES), add_special_tokens: bool = True, *, store: ModelStore
) -> dict[str, Any]:
    """Count the tokens of each text with each tokenizer (BERT WordPiece, RoBERTa byte-level BPE, Longformer).

    Args:
        texts: The texts, one per line.
        tokenizers: Comma-separated tokenizer roles: bert, roberta, longformer.
        add_special_tokens: Whether to count the special tokens ([CLS] [SEP], <s> </s>) the tokenizer adds.

    Returns:
        Per text its words, characters and tokens per tokenizer; per tokenizer the longest and the padding share.
    """
    report = measure_lengths(
        split_texts(texts, max_texts=MAX_TOOL_TEXTS),
        {role: store.tokenizer(role) for role in _roles(tokenizers)},
        add_special_tokens=add_special_tokens,
    )
    per_text = [
        {
            "text": text,
            "words": words,
            "characters": chars,
            "tokens": {lengths.name: lengths.texts[i].count for lengths in report.tokenizers},
        }
        for i, (text, words, chars) in enumerate(zip(report.texts, report.words, report.chars, strict=True))
    ]
    summary = {
        lengths.name: {
            "vocab_size": lengths.vocab_size,
            "model_max_length": lengths.model_max_length,
            "longest": lengths.max_tokens,
            "padding_share": round(lengths.padding_share, 4),
        }
        for lengths in report.tokenizers
    }
    return {"texts": per_text, "tokenizers": summary}


@user_errors("padding the batch")
def pad_batch(
    texts: str,
    tokenizer: str = "bert",
    padding: str = "longest",
    max_length: int | None = None,
    padding_side: str = "right",
    truncation: str = "do_not_truncate",
    *,
    store: ModelStore,
) -> dict[str, Any]:
    """Pad and truncate a batch of texts as a tokenizer does, and report its shape and padding.

    Args:
        texts: The texts, one per line.
        tokenizer: The tokenizer role: bert, roberta or longformer.
        padding: longest, max_length or do_not_pad.
        max_length: Tokens per row for padding="max_length" or for truncation; empty for none.
        padding_side: right or left.
        truncation: do_not_truncate, longest_first, only_first or only_second.

    Returns:
        The batch's shape (null when rows differ), pad tokens and cells, and each row's tokens, ids and mask.
    """
    config = PaddingConfig(padding=padding, max_length=max_length, padding_side=padding_side, truncation=truncation)
    role = _role(tokenizer)
    rows_text = split_texts(texts, max_texts=MAX_TOOL_TEXTS)
    batch = encode_batch(store.tokenizer(role), get_role(role).family, rows_text, None, config)
    rows = [
        {
            "text": row.sample + 1,
            "tokens": list(row.tokens),
            "input_ids": [int(i) for i in row.input_ids],
            "attention_mask": [int(m) for m in row.attention_mask],
            "truncated": len(batch.coverage[row.sample].truncated),
        }
        for row in batch.rows
    ]
    return {
        "shape": list(batch.shape) if batch.shape else None,
        "pad_tokens": batch.pad_count,
        "cells": sum(batch.lengths),
        "rows": rows,
    }


@user_errors("planning the batches")
def plan_batching(
    texts: str,
    tokenizer: str = "roberta",
    batch_size: int = 16,
    max_tokens: int = 2048,
    max_length: int = 512,
    *,
    store: ModelStore,
) -> dict[str, Any]:
    """Recommend a max_length for a set of texts and compare the padding waste of five batching strategies.

    Args:
        texts: The texts, one per line.
        tokenizer: The tokenizer role: bert, roberta or longformer.
        batch_size: Texts per batch (rows) for the fixed, dynamic, grouped and sorted strategies.
        max_tokens: Padded tokens per batch for the token-budget strategy.
        max_length: Texts are truncated to this many tokens before batching.

    Returns:
        The recommended max_length, the share of texts it cuts, length percentiles, and each strategy's waste.
    """
    role = _role(tokenizer)
    rows = split_texts(texts, max_texts=MAX_TOOL_TEXTS)
    report = compare_batching_strategies(
        store.tokenizer(role), rows, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length
    )
    return {
        "recommended_max_length": report.advice.max_length,
        "truncated_share": round(report.advice.truncated_share, 4),
        "percentiles": {str(p): value for p, value in report.advice.percentiles.items()},
        "strategies": {
            plan.strategy: {
                "batches": plan.batch_count,
                "real_tokens": plan.real_tokens,
                "padded_tokens": plan.padded_tokens,
                "padding_waste": round(plan.padding_waste, 4),
            }
            for plan in report.plans
        },
    }


AGENT_TOOLS: tuple[Callable[..., Any], ...] = (count_tokens, pad_batch, plan_batching)


def _for_store(tool: Callable[..., Any], store: ModelStore) -> Callable[..., Any]:
    """`tool` with `store` given: same name, docstring and signature less `store`, which is what Gradio reads."""

    @functools.wraps(tool)
    def call(*args: Any, **kwargs: Any) -> Any:
        return tool(*args, store=store, **kwargs)

    signature = inspect.signature(tool)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != "store"]
    )
    call.__annotations__ = {name: hint for name, hint in tool.__annotations__.items() if name != "store"}
    return call


def publish_agent_tools(store: ModelStore) -> None:
    """Each agent tool as a public endpoint named after it, in the current Blocks."""
    for tool in AGENT_TOOLS:
        gr.api(_for_store(tool, store), api_name=tool.__name__)


def keep_only_agent_tools(demo: gr.Blocks) -> None:
    """Leave the launched app's MCP server the agent tools alone (a no-op without one)."""
    server = demo.mcp_server_obj
    if server is None:
        return
    names = {f"/{tool.__name__}" for tool in AGENT_TOOLS}
    server.tool_to_endpoint = {name: end for name, end in server.tool_to_endpoint.items() if end in names}
