"""An exclusive lock on a cache folder, held by one process at a time (`flock` on `folder/.lock`).

The kit folder and the parts cache are each built under one, so that processes starting at
once wait for the first build instead of racing it.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold `folder`'s lock for the `with` block; `folder` must exist."""
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
