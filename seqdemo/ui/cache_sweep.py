"""Gradio's cache swept on the app's retention, reliably: old files deleted, and the folders they leave empty.

`gr.Blocks(delete_cache=(every, age))` states the retention, and Gradio sweeps with it, but its sweep
walks each set of cached files while requests add to them: the first "Set changed size during
iteration" ends it for the life of the process (1,000 requests were enough), and it leaves every
emptied folder behind. `sweep_cache` works on snapshots and removes emptied folders; `lifespan`,
given to the server through `launch_options`, runs it every `every` seconds while the server runs and
once more, for every file, when it stops.
When the server stops, Gradio's last sweep walks the sets once more, while a worked example still
computing in the background may add to them: `lifespan` hands it copies (`freeze_file_sets`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
from gradio.utils import get_upload_folder

log = logging.getLogger(__name__)


def sweep_cache(blocks: gr.Blocks, age_s: float, folders: set[Path]) -> int:
    """Delete the files `blocks` put in Gradio's cache more than `age_s` seconds ago; how many went.

    Files a component keeps (`keep_in_cache`, e.g. examples) stay. `folders` remembers, from sweep to
    sweep, the folders inside the cache that hold the app's files; those found empty are removed,
    whoever deleted their files (Gradio's own sweep forgets them). Safe while requests add files:
    each set is read as a snapshot.
    """
    cache = Path(get_upload_folder()).resolve()
    kept = {path for component in list(blocks.blocks.values()) for path in getattr(component, "keep_in_cache", ())}
    oldest = time.time() - age_s
    deleted = 0
    for files in list(blocks.temp_file_sets):
        gone = set()
        for name in list(files):  # a snapshot, taken in one step: requests may add files meanwhile
            path = Path(name)
            if path.parent.resolve() != cache and cache in path.parent.resolve().parents:
                folders.add(path.parent)
            try:
                if name in kept or path.lstat().st_ctime > oldest:
                    continue
                path.unlink()
            except FileNotFoundError:
                pass
            gone.add(name)
        deleted += len(gone)
        files.difference_update(gone)
    for folder in list(folders):
        with contextlib.suppress(OSError):  # still holds a younger file: kept for a later sweep
            os.rmdir(folder)
        if not folder.exists():
            folders.discard(folder)
    return deleted


async def _sweep_every(blocks: gr.Blocks, every_s: float, age_s: float) -> None:
    folders: set[Path] = set()
    while True:
        await asyncio.sleep(every_s)
        try:
            await anyio.to_thread.run_sync(sweep_cache, blocks, age_s, folders)
        except Exception:  # a sweep that fails is logged; the next one tries again
            log.exception("Sweeping Gradio's cache failed; the next sweep is in %s s", every_s)


def freeze_file_sets(blocks: gr.Blocks) -> None:
    """Give `blocks` copies of its sets of cached files, which no request adds to, for a walk that must not fail.

    Gradio's last sweep, after the server stops, iterates `temp_file_sets` itself; a set that grows
    meanwhile raises "Set changed size during iteration" and the process exits with a traceback.
    """
    blocks.temp_file_sets = [set(files) for files in list(blocks.temp_file_sets)]


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The server's lifespan: sweep the cache on the Blocks' `delete_cache` retention until the server stops,
    then delete every file the Blocks tracks (`temp_file_sets`) and the folders that held them (Gradio's own
    last sweep, after this, deletes the files and leaves every folder: one per figure a visitor was shown)."""
    blocks = app.get_blocks()
    every_s, age_s = blocks.delete_cache or (None, None)
    task = asyncio.create_task(_sweep_every(blocks, every_s, age_s)) if every_s and age_s else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(sweep_cache, blocks, 0.0, set())
        freeze_file_sets(blocks)  # Gradio's last sweep runs after this lifespan ends
