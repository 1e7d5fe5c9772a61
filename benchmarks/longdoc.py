"""Latency and peak memory of each long-document strategy at 512, 1024, 2048 and 4096 tokens, as JSON.

The models have base sizes and real architectures with random weights (RoBERTa-base for the
512-token strategies, Longformer-base-4096 with its 512-token attention window), fed random
token ids: cost depends on shapes, not on what the weights learnt, so nothing is downloaded.
Both models are warmed up first; each latency is the faster of two runs after a traced pass
that measures peak memory (`seqdemo.longdoc.run_strategy`).

    python -m benchmarks.longdoc --out benchmarks/results/longdoc.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoTokenizer,
    LongformerConfig,
    LongformerForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from benchmarks.machine import describe_machine
from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    SHORT_ROLE,
    WINDOW_BATCH_SIZE,
    Classifier,
    DocumentTokens,
    StrategySettings,
    run_strategy,
    sequence_limit,
    warm_up,
)
from seqdemo.offline import ensure_kit
from seqdemo.settings import Settings

VOCAB_SIZE = 50_265  # roberta-base's vocabulary, so the embedding matrices have their real size
LENGTHS = (512, 1024, 2048, 4096)
SPECIAL_IDS = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}  # RoBERTa's <pad>, <s>, </s>


def base_classifiers(seed: int) -> dict[str, Classifier]:
    """RoBERTa-base (514 positions) and Longformer-base-4096 (4098 positions, window 512) with random weights.

    The kit's byte-level BPE tokenizers supply `<s>`, `</s>` and padding; their ids are RoBERTa's.
    """
    settings = Settings.from_env()
    kit = ensure_kit(settings.kit_dir, settings.parts_dir)
    torch.manual_seed(seed)
    shared = {"vocab_size": VOCAB_SIZE, "type_vocab_size": 1, "num_labels": 2, **SPECIAL_IDS}
    roberta = RobertaForSequenceClassification(RobertaConfig(max_position_embeddings=514, **shared)).eval()
    longformer = LongformerForSequenceClassification(
        LongformerConfig(max_position_embeddings=4098, attention_window=512, **shared)
    ).eval()
    classifiers = {}
    for role, folder, model in ((SHORT_ROLE, "roberta", roberta), (LONG_ROLE, "longformer", longformer)):
        tokenizer = AutoTokenizer.from_pretrained(kit / folder)
        labels = tuple(model.config.id2label[i] for i in range(2))
        classifiers[role] = Classifier(role, tokenizer, model, labels, sequence_limit(tokenizer, model.config))
    return classifiers


def random_document(length: int, seed: int) -> DocumentTokens:
    """`length` random token ids above the special ones, standing in for a tokenized document."""
    ids = np.random.default_rng(seed).integers(3, 8000, size=length)
    return DocumentTokens("", ids, np.zeros((length, 2), dtype=np.int64))


def run(seed: int = 0) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    classifiers = base_classifiers(seed)
    for classifier in classifiers.values():
        warm_up(classifier)
    settings = StrategySettings().resolved(classifiers[SHORT_ROLE].budget)  # the tab's defaults
    rows, method = [], ""
    for length in LENGTHS:
        document = random_document(length, seed)
        for key, strategy in LONG_DOCUMENT_STRATEGIES.items():
            result = run_strategy(key, document, classifiers[strategy.role], settings)
            rows.append(
                {
                    "document_tokens": length,
                    "strategy": key,
                    "model": "longformer-base-4096" if strategy.role == LONG_ROLE else "roberta-base",
                    "tokens_read": result.tokens_seen,
                    "sequences": len(result.sequence_logits),
                    "tokens_processed": result.tokens_processed,
                    "latency_s": round(result.latency_s, 3),
                    "peak_memory_mib": round(result.peak_memory_bytes / 2**20, 1),
                }
            )
            method = result.memory_method
            print(json.dumps(rows[-1]), flush=True)
    return {
        "what": "latency and peak tensor memory per long-document strategy, base-sized models, random weights",
        "memory": method,
        "settings": {
            "head_tokens": settings.head_tokens,
            "stride": settings.stride,
            "aggregation": settings.aggregation,
            "window_batch_size": WINDOW_BATCH_SIZE,
        },
        "machine": describe_machine(load_before),
        "results": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/longdoc.json"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args.seed)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} in {report['total_seconds']} s")


if __name__ == "__main__":
    main()
