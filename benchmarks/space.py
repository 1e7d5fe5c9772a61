"""Every tab as a visitor to the CPU Space meets it: `python app.py` on base-sized models, timed over HTTP.

The app runs in hub mode on the base-sized stand-ins of `benchmarks.standins` (the Hub
checkpoints' architectures and sizes, random weights, the kit's tokenizers) and is called
through `gradio_client` by its public `api_name`s, as the Space's users and embeds call it.
Times are seconds and multiples of R, one roberta-base forward on 1 × 512 tokens in fp32,
measured in this run next to every call (while the app idles), as the machine's load drifts.
Streaming calls report the time to their first result and to their last.

The worked examples are timed as a visitor meets them after start-up: the run waits until the
app says they are ready (`/worked_examples_status`) and records how long that took. The app runs
with SEQDEMO_RESULT_CACHE=0, so the other calls measure the work itself, never a replay.

    python -m benchmarks.space --out benchmarks/results/space.json
    python -m benchmarks.space --readme   # rewrite README's table from the JSON
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from gradio_client import Client
from transformers import AutoModel

from benchmarks.machine import describe_machine
from benchmarks.standins import build_standins, checkpoint_environment, default_root

ROOT = Path(__file__).resolve().parents[1]
FIVE_TEXTS = [
    "The cat sat on the mat.",
    "Padding makes a batch of texts one rectangle of token ids.",
    "Short.",
    "An attention mask tells the model which positions are real tokens and which are padding it must ignore.",
    "Transformers read tokens, not words.",
]
TWO_TEXTS = FIVE_TEXTS[:2]
SERVE_TIMEOUT_S = 600
READY_TIMEOUT_S = 1200
CALL_TIMEOUT_S = 900
STARTUP_BUDGET_S = 15
README = ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- space benchmark table: python -m benchmarks.space --readme -->", "<!-- end of table -->"


class ReferenceUnit:
    """R: seconds for one roberta-base forward on 1 x 512 tokens in fp32, measured whenever asked.

    The machine is shared and its load drifts, so R is measured next to every call (the app
    idles meanwhile) and each call is expressed in the R around it.
    """

    def __init__(self, folder: Path) -> None:
        self.model = AutoModel.from_pretrained(folder).eval()
        self.ids = torch.randint(4, 8_000, (1, 512), generator=torch.Generator().manual_seed(0))
        self.ids[0, 0], self.ids[0, -1] = 0, 2  # <s> ... </s>
        self.measure(runs=2)  # warm-up: the first passes in a process are slower

    @torch.inference_mode()
    def measure(self, runs: int = 3) -> float:
        """The median of `runs` forward passes, in seconds."""
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            self.model(input_ids=self.ids)
            times.append(time.perf_counter() - started)
        return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class Call:
    """One timed request: an api_name, its arguments, and which update counts as the first result."""

    name: str
    api_name: str
    args: Sequence[Any] = ()
    budget_r: float | None = None
    first_budget_r: float | None = None
    is_result: Callable[[Any], bool] = field(default=lambda outputs: True)


def _figure_present(index: int) -> Callable[[Any], bool]:
    return lambda outputs: isinstance(outputs, list | tuple) and len(outputs) > index and bool(outputs[index])


def time_call(client: Client, call: Call) -> dict[str, Any]:
    """Submit `call` and time its first result and its end; a failing call records its error."""
    started = time.perf_counter()
    job = client.submit(*call.args, api_name=call.api_name)
    first = None
    seen = 0
    while not job.done():
        outputs = job.outputs()
        for update in outputs[seen:]:
            if first is None and call.is_result(update):
                first = time.perf_counter() - started
        seen = len(outputs)
        if time.perf_counter() - started > CALL_TIMEOUT_S:
            job.cancel()
            return {"name": call.name, "api_name": call.api_name, "error": f"over {CALL_TIMEOUT_S} s"}
        time.sleep(0.01)
    try:
        job.result()
    except Exception as err:  # noqa: BLE001 (a failed call is recorded, not fatal)
        return {"name": call.name, "api_name": call.api_name, "error": str(err)}
    total = time.perf_counter() - started
    outputs = job.outputs()
    updates = len(outputs)
    if first is None and any(call.is_result(update) for update in outputs):
        first = total
    return {
        "name": call.name,
        "api_name": call.api_name,
        "seconds": round(total, 3),
        "first_result_seconds": None if first is None else round(first, 3),
        "updates": updates,
        "budget_r": call.budget_r,
        "first_budget_r": call.first_budget_r,
    }


def _defaults(client: Client, api_name: str) -> list[Any]:
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]
    return [parameter.get("parameter_default") for parameter in endpoint["parameters"]]


def _with(defaults: list[Any], **replacements: Any) -> list[Any]:
    values = list(defaults)
    for index, value in replacements.items():
        values[int(index.removeprefix("p"))] = value
    return values


# (tab, api_name, index of the output that holds the first result: a figure)
WORKED_EXAMPLES = (
    ("lengths", "/measure_lengths_charts_example", 1),
    ("padding", "/padding_compare_charts_example", 4),
    ("masks", "/mask_proof_charts_example", 3),
    ("masks, generation", "/mask_generation_example", 0),
    ("long documents", "/compare_strategies_charts_example", 6),
    ("needle sweep", "/needle_sweep_charts_example", 1),
    ("attention", "/attention_maps_example", 0),
    ("batching", "/batching_compare_example", 2),
)


def plan_calls(client: Client) -> list[Call]:
    """The calls of the issue's table, with arguments built from each endpoint's own defaults.

    The long-document knobs are the ones a visitor's page holds once the worked example has set
    the sliders (a quarter of the short window), not the sliders' placeholder starting values.
    """
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    calls = [
        Call(f"worked example: {tab}", api, budget_r=0.5, is_result=_figure_present(figure))
        for tab, api, figure in WORKED_EXAMPLES
        if api in named
    ]
    example = client.predict(api_name="/compare_strategies_charts_example")
    head_tokens, stride = example[1]["value"], example[2]["value"]  # the sliders' updates
    texts5, texts2 = "\n".join(FIVE_TEXTS), "\n".join(TWO_TEXTS)
    # the tabs as a visitor uses them: their charts are HTML; the figures are drawn when someone downloads them
    for name, api_name in (
        ("lengths, 5 texts", "/measure_lengths_charts"),
        ("padding, 5 texts", "/padding_compare_charts"),
    ):
        calls.append(Call(name, api_name, _with(_defaults(client, api_name), p0=texts5), budget_r=0.5))
    calls.append(
        Call(
            "mask proof, 5 texts",
            "/mask_proof_charts",
            _with(_defaults(client, "/mask_proof_charts"), p0=texts5),
            budget_r=2.0,  # sections 1-3: the encoder's runs, their tables and two charts
            is_result=_figure_present(6),  # the proof table comes first
        )
    )
    calls.append(
        Call(
            "mask lesson, section 4: GPT-2 generation, 5 prompts",  # after the proof; the issue sets no budget
            "/mask_generation",
            _with(_defaults(client, "/mask_generation"), p0=texts5),
        )
    )
    examples = named["/longdoc_example"]["parameters"][0]["python_type"]["type"]
    compare_defaults = _defaults(client, "/compare_strategies_charts")
    for name in _literal_choices(examples):
        document, _ = client.predict(name, api_name="/longdoc_example")
        calls.append(
            Call(
                f"long documents: {name}",
                "/compare_strategies_charts",  # the page's: the showdown as HTML, the figure drawn on download
                _with(compare_defaults, p0=document, p2=head_tokens, p3=stride),
                budget_r=6.0,
                first_budget_r=1.5,
                is_result=_figure_present(1),
            )
        )
    calls.append(
        Call(
            "needle sweep, defaults",
            "/needle_sweep_charts",  # the page's: the curves as an HTML chart, the figure drawn on download
            _with(_defaults(client, "/needle_sweep_charts"), p5=head_tokens, p6=stride),
            budget_r=30.0,
            first_budget_r=4.0,
            is_result=_figure_present(1),
        )
    )
    calls.append(
        Call(
            "attention maps, 2 texts",
            "/attention_maps",
            _with(_defaults(client, "/attention_maps"), p0=texts2),
            budget_r=3.0,  # the issue's: everything, the token row and every layer and head included
            is_result=_figure_present(0),  # the notes and the heatmap come first
        )
    )
    shipped = (ROOT / "seqdemo" / "data" / "batching_example.txt").read_text(encoding="utf-8")
    calls.append(
        Call(
            "batching compare, shipped texts",
            "/batching_compare",
            _with(_defaults(client, "/batching_compare"), p0=shipped),
        )
    )
    return calls


def _literal_choices(python_type: str) -> list[str]:
    """The choices of a `Literal['a', 'b']` type string from view_api."""
    inner = python_type.removeprefix("Literal[").removesuffix("]")
    return [choice.strip().strip("'\"") for choice in inner.split("', '")] if inner != python_type else []


def measure_call(client: Client, call: Call, unit: ReferenceUnit, repeats: int) -> tuple[dict[str, Any], list[float]]:
    """`call` timed `repeats` times, R measured between the tries: (its row, every R measured).

    The row holds the median seconds and the median of each try's seconds over the mean R just
    before and after it, and whether those meet the call's budgets; `tries` keeps every try.
    """
    r_values, tries = [unit.measure()], []
    for _ in range(repeats):
        row = time_call(client, call)
        r_values.append(unit.measure())
        if "seconds" not in row:
            return row, r_values
        tries.append({**row, "r_seconds": round(statistics.mean(r_values[-2:]), 3)})
    row = {key: value for key, value in tries[0].items() if key not in ("seconds", "first_result_seconds", "r_seconds")}
    for key, r_key in (("seconds", "r"), ("first_result_seconds", "first_result_r")):
        if tries[0][key] is None:
            row[key] = None
            continue
        row[key] = round(statistics.median(t[key] for t in tries), 3)
        row[r_key] = round(statistics.median(t[key] / t["r_seconds"] for t in tries), 2)
    row["r_seconds"] = round(statistics.median(t["r_seconds"] for t in tries), 3)
    row["meets_budget"] = all(
        value is None or budget is None or value <= budget
        for value, budget in ((row["r"], row["budget_r"]), (row.get("first_result_r"), row["first_budget_r"]))
    )
    row["tries"] = [[t["seconds"], t["r_seconds"]] for t in tries]
    return row, r_values


def wait_until_ready(client: Client, started: float) -> dict[str, Any]:
    """Poll `/worked_examples_status` until every worked example is computed; the status, plus when that was."""
    while True:
        status = client.predict(api_name="/worked_examples_status")
        if status["ready"]:
            return {**status, "ready_after_launch_seconds": round(time.perf_counter() - started, 2)}
        failed = [example["api_name"] for example in status["examples"] if example["state"] == "failed"]
        if failed or time.perf_counter() - started > READY_TIMEOUT_S:
            raise RuntimeError(f"the worked examples did not get ready (failed: {failed or 'none'})")
        time.sleep(0.25)


def run(root: Path, settle_s: float, repeats: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    folders = build_standins(root)
    unit = ReferenceUnit(folders["roberta"])
    r_values = []
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="seqdemo-space-bench-") as scratch:
        env = {
            **os.environ,
            **checkpoint_environment(folders),
            "SEQDEMO_RESULT_CACHE": "0",  # every call below does its work; none is a replay
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_TEMP_DIR": str(Path(scratch) / "gradio"),
        }
        env.pop("HF_HUB_OFFLINE", None)
        log = open(Path(scratch) / "app.log", "w")  # noqa: SIM115 (closed below, after the app stops)
        started = time.perf_counter()
        app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not _serving(url):
                if app.poll() is not None or time.perf_counter() - started > SERVE_TIMEOUT_S:
                    raise RuntimeError(f"app.py did not serve: see {log.name}")
                time.sleep(0.1)
            startup_s = time.perf_counter() - started
            # File outputs arrive as URLs, as a browser gets them (it loads images alongside); the client
            # would otherwise download every file one after the other before the call counts as done.
            client = Client(url, verbose=False, download_files=False)
            ready = wait_until_ready(client, started)
            print(json.dumps({"serving_after_s": round(startup_s, 2), **ready}), flush=True)
            time.sleep(settle_s)
            rows = []
            for call in plan_calls(client):
                row, measured = measure_call(client, call, unit, repeats)
                r_values += measured
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            app.terminate()
            app.wait(30)
            log.close()
    return {
        "what": "each tab's calls through gradio_client on `python app.py` in hub mode, base-sized stand-ins",
        "request_cache": "off (SEQDEMO_RESULT_CACHE=0): every call does its work",
        "timing": (
            f"each call {repeats} times, R measured between tries; the median seconds and the median of each "
            "try's seconds / R; until the app's answer (file outputs as URLs, not downloaded)"
        ),
        "repeats": repeats,
        "r_seconds": {
            "median": round(statistics.median(r_values), 3),
            "min": round(min(r_values), 3),
            "max": round(max(r_values), 3),
            "measured": len(r_values),
        },
        "startup_seconds": round(startup_s, 2),
        "startup_budget_seconds": STARTUP_BUDGET_S,
        "worked_examples": {
            "computed_in_seconds": ready["seconds"],
            "ready_after_launch_seconds": ready["ready_after_launch_seconds"],
            "examples": ready["examples"],
        },
        "settle_seconds": settle_s,
        "machine": describe_machine(load_before),
        "calls": rows,
    }


def _cell(seconds: float | None, r: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.2f} s ({r:.2f} R)"


def _budget(row: dict[str, Any]) -> str:
    parts = []
    if row.get("first_budget_r") is not None:
        parts.append(f"first ≤ {row['first_budget_r']:g} R")
    if row.get("budget_r") is not None:
        parts.append(f"{'all ' if parts else ''}≤ {row['budget_r']:g} R")
    return ", ".join(parts) or "–"


def readme_table(report: dict[str, Any]) -> str:
    """The README's Markdown table of a space benchmark report: every call, its first result and its end, in s and R."""
    startup, startup_budget = report["startup_seconds"], report["startup_budget_seconds"]
    lines = [
        "| call | first result | all | budget | met |",
        "| --- | --- | --- | --- | --- |",
        f"| `python app.py` to serving | – | {startup:.1f} s | ≤ {startup_budget} s | "
        f"{'yes' if startup <= startup_budget else 'no'} |",
        f"| worked examples computed at start-up (in the background) | – | "
        f"{report['worked_examples']['computed_in_seconds']:.1f} s | – | – |",
    ]
    for row in report["calls"]:
        if "seconds" not in row:
            lines.append(f"| {row['name']} | – | failed: {row['error']} | {_budget(row)} | no |")
            continue
        first = _cell(row["first_result_seconds"], row.get("first_result_r")) if row["updates"] > 1 else "–"
        met = {True: "yes", False: "no"}[row["meets_budget"]] if row["budget_r"] is not None else "–"
        lines.append(f"| {row['name']} | {first} | {_cell(row['seconds'], row['r'])} | {_budget(row)} | {met} |")
    r = report["r_seconds"]
    lines.append("")
    lines.append(
        f"R, one roberta-base forward on 1 × 512 tokens in float32, measured next to every call: median "
        f"{r['median']:.2f} s (from {r['min']:.2f} to {r['max']:.2f} s over {r['measured']} measurements)."
    )
    return "\n".join(lines)


def write_readme_table(report: dict[str, Any], readme: Path = README) -> None:
    """Replace the table between README's markers with `readme_table(report)`."""
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    readme.write_text(f"{before}{TABLE_START}\n{readme_table(report)}\n{TABLE_END}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/space.json"))
    parser.add_argument("--standins", type=Path, default=None, help="stand-in cache (default: beside the kit)")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds to wait after the examples are ready")
    parser.add_argument("--repeats", type=int, default=3, help="tries per call (the median is reported)")
    parser.add_argument("--readme", action="store_true", help="only rewrite README's table from --out")
    args = parser.parse_args()
    if args.readme:
        write_readme_table(json.loads(args.out.read_text(encoding="utf-8")))
        return
    started = time.perf_counter()
    report = run(args.standins or default_root(), args.settle, args.repeats)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    write_readme_table(report)
    print(f"wrote {args.out} and README's table in {report['total_seconds']} s")


if __name__ == "__main__":
    main()
