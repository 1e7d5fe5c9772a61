"""Seconds per model token on this machine, base-sized encoders: the measurement behind `seqdemo.request_budget`.

What one request may cost is a time budget; what a token costs is measured here, on the models the
Space runs at their real size (random weights: cost depends on shapes, not on what was learnt):
RoBERTa-base on 8 x 512 tokens (a batch of sliding windows; BERT-base is the same shape of work)
and Longformer-base-4096 on 1 x 4096 with global attention on `<s>`, fp32 on the CPU under
`torch.inference_mode()`, each the fastest of `--runs` after a warm-up; a token's cost is the
process's CPU seconds over the Space's 2 cores, as wall time on a shared machine says more about
the other jobs than about the model.

    python -m benchmarks.request_budget --out benchmarks/results/request_budget.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from transformers import LongformerConfig, LongformerModel, RobertaConfig, RobertaModel

from benchmarks.machine import describe_machine

RESULTS = Path(__file__).parent / "results" / "request_budget.json"
SPACE_CORES = 2


def fastest_seconds(run, runs: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `runs` timed calls of `run`, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(times)


def seconds_per_token(model: torch.nn.Module, rows: int, length: int, runs: int, **inputs: torch.Tensor) -> dict:
    """One shape's forward: wall and CPU seconds, and per token the time on 2 cores of its own (CPU seconds / 2).

    Other jobs on a shared machine stretch wall time, far less the process's own CPU time; the
    Space has its 2 cores to itself, so it is CPU time spread over both that a request costs there.
    """
    torch.manual_seed(0)
    ids = torch.randint(5, 1000, (rows, length))
    with torch.inference_mode():
        wall, cpu = fastest_seconds(lambda: model(input_ids=ids, **inputs), runs)
    return {
        "shape": [rows, length],
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "seconds_per_token": cpu / SPACE_CORES / (rows * length),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before, started = os.getloadavg()[0], time.perf_counter()
    torch.manual_seed(0)
    encoder = RobertaModel(RobertaConfig(max_position_embeddings=514), add_pooling_layer=False).eval()
    longformer = LongformerModel(LongformerConfig(max_position_embeddings=4098, attention_window=512)).eval()
    global_mask = torch.zeros(1, 4096, dtype=torch.long)
    global_mask[:, 0] = 1
    results = {
        "encoder": seconds_per_token(encoder, 8, 512, args.runs),
        "longformer": seconds_per_token(longformer, 1, 4096, args.runs, global_attention_mask=global_mask),
    }
    report = {
        "what": "seconds per model token on 2 cores of its own (CPU seconds / 2), base-sized encoders, fp32",
        "runs": args.runs,
        "results": results,
        "machine": describe_machine(load_before),
        "duration_s": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
