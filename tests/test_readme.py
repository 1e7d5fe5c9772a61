"""The README's promises: its library example runs, and CI runs the test command it gives."""

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

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


def _section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def web_component_script() -> str:
    """The installed Gradio's `<gradio-app>` script, as the app serves it (`assets/index-….js`)."""
    import gradio

    loader = Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"
    return re.search(r"assets/[\w.-]+\.js", loader.read_text(encoding="utf-8")).group(0)


def web_component_attributes() -> set[str]:
    """The attributes the installed Gradio's `<gradio-app>` reads, from its own script."""
    import gradio

    script = Path(gradio.__file__).parent / "templates" / "frontend" / web_component_script()
    return set(re.findall(r"getAttribute\(`(\w+)`\)", script.read_text(encoding="utf-8")))


def test_the_embedding_snippets_name_lesson_pages_and_real_attributes():
    import gradio

    from seqdemo.ui import TABS

    section = _section("Embed a lesson in a post")
    html = re.search(r"```html\n(.*?)```", section, re.DOTALL).group(1)
    lessons = {tab_id for tab_id, _, _ in TABS}
    frame = urlparse(re.search(r'<iframe src="([^"]+)"', html).group(1))
    assert frame.path.strip("/") in lessons and parse_qs(frame.query) == {"embed": ["1"]}
    assert f"/{gradio.__version__}/gradio.js" in html
    element = re.search(r"<gradio-app\s+([^>]*)>", html).group(1)
    attributes = dict(re.findall(r'(\w+)="([^"]*)"', element))
    assert urlparse(attributes["src"]).path.strip("/") in lessons
    read = web_component_attributes()
    assert set(attributes) <= read, set(attributes) - read
    listed = section.split("reads its attributes with underscores:", 1)[1].split(". It shows", 1)[0]
    named = set(re.findall(r"`(\w+)`", listed)) - {"300px", "light", "dark", "system"}
    assert named <= read and {"initial_height", "eager", "theme_mode"} <= named
    assert set(re.findall(r"`/(\w+)`", section.split("```", 1)[0])) == lessons  # the pages the prose lists


def test_the_example_links_open_their_lessons_with_every_value_usable(demo):
    from seqdemo.ui.links import lesson_links

    links = {(link.page, link.tab_id): link for link in lesson_links(demo)}
    block = re.search(r"```text\n(.*?)```", _section("Link to an example"), re.DOTALL).group(1)
    urls = block.split()
    assert len(urls) == 3
    for url in urls:
        parts = urlparse(url)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        page = parts.path.strip("/")
        link = links[(page, page or query["tab"])]
        assert link.opened(query), url
        assert set(query) - {"tab"} <= {field.name for field in link.fields}, url
        assert link.read(query).notes == (), url


def test_the_agent_tools_the_readme_names_are_the_mcp_servers():
    from seqdemo.ui.tools import AGENT_TOOLS

    section = _section("Use it from an agent (MCP)")
    named = {name for name in re.findall(r"`(\w+)`", section) if name not in {"max_length", "gradio_client"}}
    assert named == {tool.__name__ for tool in AGENT_TOOLS}
