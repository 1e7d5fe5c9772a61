"""The Space command: front matter, bundle contents, validation, and a push over real HTTP.

The push talks to a local stand-in for the Hub's HTTP API, so huggingface_hub's own
requests (create repo, pre-upload, commit) are exercised, not a mocked method.
"""

import base64
import http.server
import json
import threading

import pytest
import yaml

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


class StandInHub(http.server.BaseHTTPRequestHandler):
    """Answers the three calls an upload of small files makes, and records them."""

    requests: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.requests.append((self.path, self.headers.get("authorization"), body))
        base = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/api/repos/create":
            answer = {"url": f"{base}/spaces/me/seqdemo", "name": "me/seqdemo"}
        elif "/preupload/" in self.path:
            files = json.loads(body)["files"]
            answer = {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
        elif "/commit/" in self.path:
            answer = {"commitUrl": f"{base}/spaces/me/seqdemo/commit/{'a' * 40}", "commitOid": "a" * 40}
        else:
            answer = {}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def hub():
    StandInHub.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandInHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_push_creates_the_space_and_commits_every_bundle_file(bundle, hub):
    url = space.push_bundle(bundle, "me/seqdemo", "secret-token", endpoint=hub)
    assert url.endswith("/spaces/me/seqdemo")
    paths = [path for path, _, _ in StandInHub.requests]
    create = json.loads(StandInHub.requests[paths.index("/api/repos/create")][2])
    assert create["type"] == "space" and create["sdk"] == "gradio" and create["name"] == "seqdemo"
    assert all(auth == "Bearer secret-token" for _, auth, _ in StandInHub.requests)
    commit_body = next(body for path, _, body in StandInHub.requests if "/commit/" in path)
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
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert space.main(["--push", "me/seqdemo", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: push to me/seqdemo failed") and "\n" not in err
