"""The README's promises: its library example runs, and CI runs the test command it gives."""

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
