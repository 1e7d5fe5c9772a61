"""Build the offline kit once into a cache folder, reuse it, rebuild it when it changes.

The folder holds one sub-folder per kit checkpoint and a `manifest.json` naming the kit
version and the fingerprints of the corpus and of the trained pair (committed under
`pair/`, copied in); a mismatch means the folder is stale and is rebuilt.
Builds happen in a temporary sibling folder and are moved into place whole, under a lock,
so two processes starting at once never see half a kit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from seqdemo.offline.corpus import corpus_fingerprint
from seqdemo.offline.models import build_models
from seqdemo.offline.tokenizers import build_bert_tokenizer, build_bpe_tokenizers

KIT_VERSION = 4
MANIFEST = "manifest.json"
# The showdown pair, trained by `python -m seqdemo.offline.train_pair`: one checkpoint folder per role.
PAIR_DIR = Path(__file__).parent / "pair"


def pair_fingerprint() -> str:
    """A short hash of the committed pair's files, so the kit is rebuilt when they are retrained."""
    digest = hashlib.sha256()
    for path in sorted(PAIR_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(PAIR_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _expected_manifest() -> dict[str, object]:
    return {"version": KIT_VERSION, "corpus": corpus_fingerprint(), "pair": pair_fingerprint()}


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
    for trained in sorted(PAIR_DIR.iterdir()):
        shutil.copytree(trained, out_dir / trained.name)
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
