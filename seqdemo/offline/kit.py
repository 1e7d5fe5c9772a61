"""Build the offline kit once into a cache folder, reuse it, rebuild it when it changes.

The folder holds one sub-folder per kit checkpoint and a `manifest.json` naming the kit
version and corpus fingerprint; a mismatch means the folder is stale and is rebuilt.
Builds happen in a temporary sibling folder and are moved into place whole, under a lock,
so two processes starting at once never see half a kit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from seqdemo.offline.corpus import corpus_fingerprint
from seqdemo.offline.models import build_models
from seqdemo.offline.tokenizers import build_bert_tokenizer, build_bpe_tokenizers

KIT_VERSION = 3
MANIFEST = "manifest.json"


def _expected_manifest() -> dict[str, object]:
    return {"version": KIT_VERSION, "corpus": corpus_fingerprint()}


def _is_current(kit: Path) -> bool:
    try:
        return json.loads((kit / MANIFEST).read_text()) == _expected_manifest()
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_kit(out_dir: Path) -> None:
    """Build every kit checkpoint into `out_dir` (which must be empty or missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    build_bert_tokenizer(out_dir / "bert")
    build_bpe_tokenizers(out_dir / "roberta", out_dir / "longformer", out_dir / "decoder")
    build_models(out_dir)
    (out_dir / MANIFEST).write_text(json.dumps(_expected_manifest(), indent=2))


def ensure_kit(root: Path) -> Path:
    """Return the folder of a current kit under `root`, building it first if needed."""
    root.mkdir(parents=True, exist_ok=True)
    kit = root / "kit"
    if _is_current(kit):
        return kit
    with _locked(root):
        if _is_current(kit):  # another process built it while we waited
            return kit
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
        try:
            build_kit(staging)
            if kit.exists():
                shutil.rmtree(kit)
            staging.rename(kit)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return kit
