"""An upload the app refuses is deleted from Gradio's cache at once; one it reads, or a caller's own file, stays."""

from __future__ import annotations

import gradio as gr
import pytest

from seqdemo.ui import batching, longdoc
from seqdemo.ui.uploaded import delete_upload


@pytest.fixture
def upload_cache(tmp_path, monkeypatch):
    """Gradio's upload cache moved to a fresh folder, as GRADIO_TEMP_DIR moves it."""
    cache = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    return cache


def uploaded(cache, name: str, data: bytes):
    """A file where Gradio puts an upload: a folder of its own inside the cache."""
    folder = cache / "0123abcd"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("latin.txt", "Crème".encode("latin-1"), "not UTF-8"),
        ("paper.pdf", b"%PDF-1.4", "is not a .txt"),
        ("empty.csv", b"", "has no rows"),
    ],
)
def test_a_refused_upload_to_the_batching_lab_is_deleted_with_its_folder(upload_cache, name, data, message):
    path = uploaded(upload_cache, name, data)
    with pytest.raises(gr.Error, match=message):
        batching.load_file(str(path))
    assert not path.exists() and not path.parent.exists()
    assert upload_cache.is_dir()


def test_a_refused_document_upload_is_deleted(upload_cache):
    path = uploaded(upload_cache, "binary.txt", b"\x00\x01binary")
    with pytest.raises(gr.Error, match="not a text file"):
        longdoc.upload_text(str(path))
    assert not path.exists()


def test_an_accepted_upload_stays_and_a_column_without_text_keeps_it_for_another_pick(upload_cache):
    path = uploaded(upload_cache, "r.csv", b"id,review,empty\n1,good film,\n2,bad film,\n")
    texts, _, note = batching.load_file(str(path))
    assert texts.splitlines() == ["good film", "bad film"] and path.exists()
    assert note == "Loaded 2 texts from column `review` of r.csv. Its first row was read as column names."
    with pytest.raises(gr.Error, match="There is no text in column 'empty'"):
        batching.pick_column(str(path), "empty")
    assert path.exists()
    assert batching.pick_column(str(path), "id")[0].splitlines() == ["1", "2"]


def test_a_file_gone_from_the_cache_asks_for_the_upload_again(upload_cache):
    path = uploaded(upload_cache, "r.csv", b"text\nhello\n")
    path.unlink()
    with pytest.raises(gr.Error, match="r.csv is no longer here"):
        batching.pick_column(str(path), "text")


def test_a_file_outside_gradios_cache_is_never_deleted(upload_cache, tmp_path):
    own = tmp_path / "mine" / "latin.txt"
    own.parent.mkdir()
    own.write_bytes("Crème".encode("latin-1"))
    with pytest.raises(gr.Error, match="not UTF-8"):
        batching.load_file(str(own))
    assert own.exists()
    assert delete_upload(own) is False
    assert delete_upload(upload_cache / "missing.txt") is False


def test_the_upload_note_lists_what_was_skipped(upload_cache):
    path = uploaded(upload_cache, "d.jsonl", b'{"text": "ok"}\n{"text": {"nested": 1}}\n{"text": "fine"}\n')
    texts, _, note = batching.load_file(str(path))
    assert texts.splitlines() == ["ok", "fine"]
    assert note.endswith("Skipped 1 line whose `text` is not a string (JSON object): line 2.")
