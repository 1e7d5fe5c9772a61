"""Uploaded files the app refuses are deleted at once, not left in Gradio's cache until it is cleaned.

Gradio stores every upload in its cache (`GRADIO_TEMP_DIR`, else `<tmp>/gradio`), in a folder of
its own, before any handler sees it. A handler decorated `@refused_uploads_deleted` that refuses its
file (an InputError) removes the file and its folder; only files inside that cache are ever touched,
so calling the handler on a file of one's own (a test, a notebook) deletes nothing.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from gradio.utils import get_upload_folder

from seqdemo.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


def delete_upload(path: str | Path) -> bool:
    """Delete `path` and the folder Gradio made for it, if it lies in Gradio's upload cache; whether it did."""
    cache, path = Path(get_upload_folder()).resolve(), Path(path).resolve()
    if cache not in path.parents or not path.is_file():
        return False
    path.unlink()
    if path.parent != cache and not any(path.parent.iterdir()):
        shutil.rmtree(path.parent, ignore_errors=True)
    return True


def refused_uploads_deleted(handler: F) -> F:
    """`handler(path, …)`, deleting the uploaded file at `path` when the handler refuses it with an InputError."""

    @functools.wraps(handler)
    def reading(path: str | None, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(path, *args, **kwargs)
        except InputError:
            if path:
                delete_upload(path)
            raise

    return reading  # type: ignore[return-value]
