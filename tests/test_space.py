"""The Space command: front matter, bundle contents, validation, and a push over real HTTP.

The push talks to the local stand-in Hub (tests/hub_standin.py), so huggingface_hub's own
requests (create repo, pre-upload, commit) are exercised, not a mocked method.
"""

import base64
import json

import pytest
import yaml
from hub_standin import StandInHub, use_hub

from seqdemo import space

CONFIG = space.load_config(space.ROOT / "spaces_config.yaml")


def front_matter(readme: str) -> dict:
    match = space.FRONT_MATTER.match(readme)
    assert match, "README must start with YAML front matter"
    return yaml.safe_load(match.group(1))


@pytest.fixture
def bundle(tmp_path):
    return space.assemble_bundle(space.ROOT, CONFIG, tmp_path / "bundle")


def test_front_matter_is_rendered_from_the_config_and_replaces_any_existing_one():
    readme = space.render_readme(CONFIG, "---\ntitle: old\n---\n# Body\n")
    assert front_matter(readme) == CONFIG
    assert readme.count("---\n") == 2 and readme.rstrip().endswith("# Body")


def test_bundle_holds_the_app_and_package_but_no_tests_or_caches(bundle):
    assert {"app.py", "requirements.txt", "README.md", "seqdemo/models.py"} <= set(bundle.files)
    assert not any(name.startswith(("tests/", "benchmarks/", ".ci/")) for name in bundle.files)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in bundle.files)


def test_the_projects_bundle_is_valid(bundle):
    assert space.validate_bundle(bundle, space.role_checkpoints()) == []


def test_the_bundle_installs_the_fonts_every_figure_family_comes_from(bundle):
    packages = set((bundle.folder / "packages.txt").read_text(encoding="utf-8").split())
    assert {"fonts-noto-cjk", "fonts-noto-core", "fonts-symbola"} <= packages


@pytest.mark.parametrize("packages", [None, "fonts-noto-core\n"])
def test_a_bundle_without_the_figure_fonts_is_reported(bundle, packages):
    path = bundle.folder / "packages.txt"
    if packages is None:
        path.unlink()
    else:
        path.write_text(packages, encoding="utf-8")
    problems = space.validate_bundle(bundle, space.role_checkpoints())
    assert [problem for problem in problems if problem.startswith("packages.txt lacks ")] == [
        "packages.txt lacks fonts-noto-cjk, fonts-symbola (the figures would draw those scripts as empty boxes)."
        if packages
        else "packages.txt lacks fonts-noto-cjk, fonts-noto-core, fonts-symbola (the figures would draw those "
        "scripts as empty boxes)."
    ]


def test_a_role_without_preload_is_reported(bundle):
    problems = space.validate_bundle(bundle, space.role_checkpoints() | {"someone/new-model"})
    assert any("someone/new-model" in problem for problem in problems)


def test_a_missing_app_file_is_reported(tmp_path):
    bundle = space.assemble_bundle(space.ROOT, {**CONFIG, "app_file": "main.py"}, tmp_path / "b")
    assert any("main.py" in problem for problem in space.validate_bundle(bundle, set()))


def test_sdk_version_must_match_the_pinned_gradio(tmp_path):
    bundle = space.assemble_bundle(space.ROOT, {**CONFIG, "sdk_version": "1.0.0"}, tmp_path / "b")
    assert any("sdk_version" in problem for problem in space.validate_bundle(bundle, set()))


def test_unparseable_front_matter_is_reported(bundle):
    (bundle.folder / "README.md").write_text("---\ntitle: [unclosed\n---\n")
    assert space.validate_bundle(bundle, set()) == ["README.md front matter does not parse as YAML."]


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """The stand-in Hub, with huggingface_hub online and pointed at it whatever the environment says."""
    with StandInHub() as hub:
        use_hub(monkeypatch, hub.url, tmp_path / "hf-home")
        yield hub


def test_push_creates_the_space_and_commits_every_bundle_file(bundle, hub):
    url = space.push_bundle(bundle, "me/seqdemo", "secret-token", endpoint=hub.url)
    assert url.endswith("/spaces/me/seqdemo")
    upload = [(path, headers, body) for method, path, headers, body in hub.requests if method == "POST"]
    bodies = {path: body for path, _, body in upload}
    create = json.loads(bodies["/api/repos/create"])
    assert create["type"] == "space" and create["sdk"] == "gradio" and create["name"] == "seqdemo"
    assert all(headers.get("authorization") == "Bearer secret-token" for _, headers, _ in upload)
    commit_body = next(body for path, body in bodies.items() if "/commit/" in path)
    lines = [json.loads(line) for line in commit_body.decode().splitlines()]
    committed = {line["value"]["path"]: line["value"]["content"] for line in lines if line["key"] == "file"}
    assert set(committed) == set(bundle.files)
    readme = base64.b64decode(committed["README.md"]).decode()
    assert front_matter(readme)["sdk"] == "gradio"


def test_command_without_token_does_a_dry_run_and_says_so(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert space.main(["--push", "me/seqdemo", "--out", str(tmp_path / "b")]) == 2
    assert "HF_TOKEN" in capsys.readouterr().err
    assert space.main(["--dry-run", "--out", str(tmp_path / "c")]) == 0
    assert "Dry run" in capsys.readouterr().out


def test_unreachable_hub_is_one_line_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "t")
    use_hub(monkeypatch, "http://127.0.0.1:9", tmp_path / "hf-home")  # online, so it is the connection that fails
    assert space.main(["--push", "me/seqdemo", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: push to me/seqdemo failed") and "\n" not in err
    assert "ConnectError" in err
