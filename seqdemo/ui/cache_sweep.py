"""Gradio's cache swept on the app's retention, reliably: old files deleted, and the folders they leave empty.

`gr.Blocks(delete_cache=(every, age))` states the retention, and Gradio sweeps with it, but its sweep
walks each set of cached files while requests add to them: the first "Set changed size during
iteration" ends it for the life of the process (1,000 requests were enough), and it leaves every
emptied folder behind. Nor does it see most of what a browser is shown: once an event updates a
component's properties (its label, its visibility) for a session, Gradio gives that session its own copy
of the component, and the files later shown in it are listed on the copy, which `temp_file_sets` does
not hold. `sweep_cache` works on snapshots, sweeps the sessions' copies too (`SweepMemory` keeps their
lists after Gradio evicts a session) and removes emptied folders; `lifespan`, given to the server
through `launch_options`, runs it every `every` seconds while the server runs and once more, for every
file, when it stops.
When the server stops, Gradio's last sweep walks the sets once more, while a worked example still
computing in the background may add to them: `lifespan` hands it copies (`freeze_file_sets`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
from gradio.utils import get_upload_folder

log = logging.getLogger(__name__)


@dataclass
class SweepMemory:
    """What one sweep leaves the next: the cache's folders that held the app's files, and the file lists
    of the sessions' own copies of components, kept until emptied (Gradio may evict the session first)."""

    folders: set[Path] = field(default_factory=set)
    session_files: dict[int, set[str]] = field(default_factory=dict)


def _snapshot(items: Any) -> list:
    """`list(items)` of a dict view or set that requests may change meanwhile: tried again if it changed mid-copy."""
    for _ in range(10):
        with contextlib.suppress(RuntimeError):  # "changed size during iteration"
            return list(items)
    return []


def session_copies(blocks: gr.Blocks) -> Iterator[gr.components.Component]:
    """The components Gradio made for single sessions: a session's copy of a component whose properties
    an event updated, which lists the files later shown in it for that session (the Blocks' lists do not)."""
    shared = {id(block) for block in _snapshot(blocks.blocks.values())}
    holder = getattr(blocks, "state_holder", None)
    for session in _snapshot(holder.session_data.values()) if holder is not None else ():
        # a session may hold one copy under two ids: each is yielded once
        copies = {id(block): block for block in _snapshot(session.blocks_config.blocks.values())}
        for key, block in copies.items():
            if key not in shared and isinstance(block, gr.components.Component):
                yield block


def sweep_cache(blocks: gr.Blocks, age_s: float, memory: SweepMemory) -> int:
    """Delete the files `blocks` put in Gradio's cache more than `age_s` seconds ago; how many went.

    The files are those its components list and those its sessions' copies of them list (`session_copies`).
    Files a component keeps (`keep_in_cache`, e.g. examples) stay. `memory` carries, from sweep to
    sweep, the folders inside the cache that hold the app's files, removed once found empty (whoever
    deleted their files: Gradio's own sweep forgets them), and the sessions' lists not yet emptied.
    Safe while requests add files: each set is read as a snapshot.
    """
    cache = Path(get_upload_folder()).resolve()
    copies = list(session_copies(blocks))
    components = [*_snapshot(blocks.blocks.values()), *copies]
    kept = {path for component in components for path in _snapshot(getattr(component, "keep_in_cache", ()))}
    memory.session_files.update((id(copy.temp_files), copy.temp_files) for copy in copies)
    oldest = time.time() - age_s
    deleted = 0
    for files in [*_snapshot(blocks.temp_file_sets), *memory.session_files.values()]:
        gone = set()
        for name in _snapshot(files):  # a snapshot: requests may add files meanwhile
            path = Path(name)
            if path.parent.resolve() != cache and cache in path.parent.resolve().parents:
                memory.folders.add(path.parent)
            try:
                if name in kept or path.lstat().st_ctime > oldest:
                    continue
                path.unlink()
            except FileNotFoundError:
                pass
            gone.add(name)
        deleted += len(gone)
        files.difference_update(gone)
    for key, files in list(memory.session_files.items()):
        if not files:  # a live session's copy is found again by the next sweep
            del memory.session_files[key]
    for folder in list(memory.folders):
        with contextlib.suppress(OSError):  # still holds a younger file: kept for a later sweep
            os.rmdir(folder)
        if not folder.exists():
            memory.folders.discard(folder)
    return deleted


async def _sweep_every(blocks: gr.Blocks, every_s: float, age_s: float, memory: SweepMemory) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await anyio.to_thread.run_sync(sweep_cache, blocks, age_s, memory)
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
    then delete every file the Blocks and its sessions' copies of components list, and the folders that held
    them (Gradio's own last sweep, after this, would reach only the Blocks' lists, and leave every folder)."""
    blocks = app.get_blocks()
    every_s, age_s = blocks.delete_cache or (None, None)
    memory = SweepMemory()
    task = asyncio.create_task(_sweep_every(blocks, every_s, age_s, memory)) if every_s and age_s else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(sweep_cache, blocks, 0.0, memory)
        freeze_file_sets(blocks)  # Gradio's last sweep runs after this lifespan ends
