"""The README's promises: its library example runs, and CI runs the test command it gives."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_library_example_runs_on_the_offline_kit(store, capsys):
    section = README.split("## Use the library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    plan, texts = namespace["plan"], namespace["texts"]
    assert sorted(i for batch in plan.batches for i in batch) == list(range(len(texts)))
    assert namespace["embeddings"].shape[0] == len(texts)
    assert "batches" in capsys.readouterr().out


def test_ci_runs_the_readme_test_command():
    test_section = README.split("## Test it", 1)[1]
    command = re.search(r"```bash\n(.*?)\n```", test_section, re.DOTALL).group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_benchmark_figures_are_the_committed_results():
    """Every number the README quotes from a benchmark is that benchmark's JSON, rounded as written."""
    section = README.split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    batching = json.loads((ROOT / "benchmarks" / "results" / "batching.json").read_text(encoding="utf-8"))
    best = batching["strategies"][batching["targets"]["best_strategy"]]
    assert batching["targets"]["best_strategy"] == "budget" and "token-budget batching" in section
    quoted = " ".join(section.split())
    assert f"{best['vs_fixed']:.1f}× the real tokens/s of fixed `max_length=512` padding" in quoted
    reference = "transformers' `get_length_grouped_indices` at the same token budget"
    assert f"{best['vs_transformers_grouped_budget']:.2f}× {reference}" in quoted
    waste = 1 - best["real_tokens"] / best["padded_tokens"]  # the stored padding_waste is already rounded
    assert f"with {waste:.1%} padding" in quoted
    figures = re.findall(r"\d+(?:\.\d+)?(?=[×%])", quoted)
    assert len(figures) == 3, f"a figure in the README's benchmark section is not checked here: {figures}"


def test_the_space_table_is_generated_from_the_committed_results():
    from benchmarks.space import TABLE_END, TABLE_START, readme_table

    report = json.loads((ROOT / "benchmarks" / "results" / "space.json").read_text(encoding="utf-8"))
    table = README.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert table == readme_table(report)
    assert all(f"| {row['name']} |" in table for row in report["calls"])
