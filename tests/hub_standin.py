"""A local stand-in for the Hugging Face Hub's HTTP API, for tests that talk to it over real HTTP.

It serves model repositories from local folders the way huggingface_hub fetches them (model info,
`resolve/<revision>/<file>` with the Hub's ETag / X-Repo-Commit / size headers, large files redirected
to a "CDN" on another host name), records every request, answers the calls a Space upload makes, and
fails on demand: an HTTP error for one file, a file whose body stalls after its headers, a slow probe.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

# Files the Hub stores with Git LFS (its default .gitattributes): served through a redirect, as on the Hub.
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack", ".onnx", ".ckpt")
# The "CDN" is this same server under another host name, so huggingface_hub treats it as a different origin.
CDN_HOST = "localhost"


@dataclass(frozen=True)
class RepoFile:
    path: str
    data: bytes

    @property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def is_lfs(self) -> bool:
        return self.path.endswith(LFS_SUFFIXES)


@dataclass(frozen=True)
class Repo:
    """A model repository: its files at one commit."""

    repo_id: str
    files: dict[str, RepoFile]
    sha: str

    @classmethod
    def from_folder(cls, repo_id: str, folder: Path) -> Repo:
        files = {
            str(path.relative_to(folder)): RepoFile(str(path.relative_to(folder)), path.read_bytes())
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        digest = hashlib.sha1(repo_id.encode())
        for name, file in files.items():
            digest.update(name.encode() + file.git_sha1.encode())
        return cls(repo_id, files, digest.hexdigest())


class StandInHub:
    """A Hub on 127.0.0.1 serving `repos` (Hub id -> folder); a context manager that starts and stops it.

    Faults, changeable while it runs, name a file as "config.json" (in every repo) or "gpt2/config.json"
    (in one): `errors[name] = status` answers the file with that status; a file in `stalled` sends its
    headers and half its body, then nothing until `release_stalled()` drops the connection (or the hub
    stops); `probe_delay_s` delays the answer to `/api/models`, what `probe_hub` asks. `requests`
    records (method, path, headers with lower-case names, body) of every call.
    """

    def __init__(self, repos: dict[str, Path] | None = None) -> None:
        self.repos: dict[str, Repo] = {}
        for repo_id, folder in (repos or {}).items():
            self.add_repo(repo_id, folder)
        self.errors: dict[str, int] = {}
        self.stalled: set[str] = set()
        self.probe_delay_s = 0.0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.hub = self  # type: ignore[attr-defined]

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_repo(self, repo_id: str, folder: Path) -> None:
        """Serve the files under `folder` (a checkpoint folder, whatever it holds) as the repo `repo_id`."""
        self.repos[repo_id] = Repo.from_folder(repo_id, folder)

    def release_stalled(self) -> None:
        """End every stalled response (the client sees the connection drop) and stall nothing more."""
        self.stalled.clear()
        release, self.release = self.release, threading.Event()
        release.set()

    def downloads(self, repo_id: str) -> list[str]:
        """The files of `repo_id` fetched with GET (not HEAD), in order."""
        prefix = f"/{repo_id}/resolve/"
        return [
            path.removeprefix(prefix).split("/", 1)[1]
            for method, path, _, _ in self.requests
            if method == "GET" and path.startswith(prefix)
        ]

    def __enter__(self) -> StandInHub:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_stalled()
        self._server.shutdown()
        self._server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: http.server.ThreadingHTTPServer

    @property
    def hub(self) -> StandInHub:
        return self.server.hub  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._route(body=False)

    def do_GET(self) -> None:
        self._route(body=True)

    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers.get("content-length") or 0))
        self._record(payload)
        base = self.hub.url
        if self.path == "/api/repos/create":
            answer = {"url": f"{base}/spaces/me/seqdemo", "name": "me/seqdemo"}
        elif "/preupload/" in self.path:
            files = json.loads(payload)["files"]
            answer = {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
        elif "/commit/" in self.path:
            answer = {"commitUrl": f"{base}/spaces/me/seqdemo/commit/{'a' * 40}", "commitOid": "a" * 40}
        else:
            answer = {}
        self._json(200, answer)

    def _record(self, payload: bytes = b"") -> None:
        self.hub.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, payload))

    def _route(self, body: bool) -> None:
        self._record()
        path = unquote(urlsplit(self.path).path)
        if path == "/api/models":
            time.sleep(self.hub.probe_delay_s)
            return self._json(200, [], body)
        if path.startswith("/api/models/"):
            return self._model_api(path.removeprefix("/api/models/"), body)
        if path.startswith("/cdn/"):
            return self._cdn(path.removeprefix("/cdn/"), body)
        repo, rest = self._split_repo(path.lstrip("/"))
        if repo is None or not rest.startswith("resolve/"):
            return self._error(404, "RepoNotFound", f"Repository not found: {path}", body)
        _, filename = rest.removeprefix("resolve/").split("/", 1)
        self._resolve(repo, filename, body)

    def _split_repo(self, path: str) -> tuple[Repo | None, str]:
        for repo_id in sorted(self.hub.repos, key=len, reverse=True):
            if path.startswith(repo_id + "/"):
                return self.hub.repos[repo_id], path.removeprefix(repo_id + "/")
            if path == repo_id:
                return self.hub.repos[repo_id], ""
        return None, path

    def _model_api(self, path: str, body: bool) -> None:
        repo, rest = self._split_repo(path)
        if repo is None:
            return self._error(404, "RepoNotFound", f"Repository not found: {path}", body)
        if rest.startswith("tree/"):
            folder = rest.removeprefix("tree/").partition("/")[2].strip("/")
            entries = [
                {"type": "file", "path": f.path, "size": len(f.data), "oid": f.git_sha1}
                for f in repo.files.values()
                if not folder or f.path.startswith(folder + "/")
            ]
            if folder and not entries:
                return self._error(404, "EntryNotFound", f"{folder} does not exist", body)
            return self._json(200, entries, body)
        siblings = [{"rfilename": name} for name in repo.files]
        info = {"id": repo.repo_id, "modelId": repo.repo_id, "sha": repo.sha, "private": False, "siblings": siblings}
        self._json(200, info, body)

    def _fault(self, repo: Repo, filename: str, faults: dict[str, int] | set[str]) -> str | None:
        return next((name for name in (f"{repo.repo_id}/{filename}", filename) if name in faults), None)

    def _resolve(self, repo: Repo, filename: str, body: bool) -> None:
        if failing := self._fault(repo, filename, self.hub.errors):
            return self._error(self.hub.errors[failing], None, "Internal Error", body)
        file = repo.files.get(filename)
        if file is None:
            return self._error(404, "EntryNotFound", f"{filename} does not exist", body, repo)
        if file.is_lfs:
            self.send_response(302)
            self.send_header("Location", f"http://{CDN_HOST}:{self.hub.port}/cdn/{file.sha256}")
            self.send_header("X-Repo-Commit", repo.sha)
            self.send_header("ETag", f'"{file.git_sha1}"')
            self.send_header("X-Linked-Etag", f'"{file.sha256}"')
            self.send_header("X-Linked-Size", str(len(file.data)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._file(repo, file, body, {"X-Repo-Commit": repo.sha, "ETag": f'"{file.git_sha1}"'})

    def _cdn(self, sha256: str, body: bool) -> None:
        for repo in self.hub.repos.values():
            for file in repo.files.values():
                if file.sha256 == sha256:
                    if failing := self._fault(repo, file.path, self.hub.errors):
                        return self._error(self.hub.errors[failing], None, "Internal Error", body)
                    return self._file(repo, file, body, {"ETag": f'"{sha256}"'})
        self._error(404, None, "No such blob", body)

    def _file(self, repo: Repo, file: RepoFile, body: bool, headers: dict[str, str]) -> None:
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(file.data)))
        self.end_headers()
        if not body:
            return
        if self._fault(repo, file.path, self.hub.stalled):
            release = self.hub.release
            self.wfile.write(file.data[: len(file.data) // 2])
            self.wfile.flush()
            release.wait()
            self.close_connection = True
            return
        self.wfile.write(file.data)

    def _json(self, status: int, answer: object, body: bool = True) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _error(self, status: int, code: str | None, message: str, body: bool, repo: Repo | None = None) -> None:
        payload = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        if repo is not None:
            self.send_header("X-Repo-Commit", repo.sha)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoint: str, hf_home: Path) -> None:
    """Point this process's huggingface_hub (and transformers) at `endpoint`, online, caching in `hf_home`.

    huggingface_hub reads HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE once, when it is imported (in a test run,
    long before any test): the variables are set for whatever reads them later, and the values it already
    read are replaced, for the calling test only.
    """
    import transformers.utils.hub
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HOME", str(hf_home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(transformers.utils.hub, "_hf_api", None)  # its HfApi keeps the endpoint it was made with
