"""Build the offline kit once into a cache folder, reuse it, rebuild it when it changes.

The kit is real where it can be: with the fetched parts (see `fetch`) its BERT is
all-MiniLM-L6-v2 and its byte-level tokenizers speak GPT-2's BPE; without them it falls back
to tokenizers learned here, and its `manifest.json` says which kit it is, where each part came
from and, per checkpoint, in a phrase, what it is. A manifest that no longer matches the code
means the folder is stale; a fallback kit is rebuilt as soon as the parts are there.
Builds happen in a temporary sibling folder and are moved into place whole, under a lock,
so two processes starting at once never see half a kit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoTokenizer

from seqdemo.offline.corpus import corpus_fingerprint, corpus_lines
from seqdemo.offline.fetch import DISTRIBUTIONS, FETCH_TIMEOUT_S, FetchError, Parts, cached_parts, fetch_parts
from seqdemo.offline.folder_lock import folder_lock
from seqdemo.offline.models import KIT_MODELS, build_models, install_pretrained
from seqdemo.offline.tokenizers import (
    build_bert_tokenizer,
    build_bpe_tokenizers,
    gpt2_byte_level_bpe,
    learned_byte_level_bpe,
    learned_wordpiece_vocab,
    minilm_wordpiece_vocab,
)

log = logging.getLogger(__name__)

KIT_VERSION = 6
MANIFEST = "manifest.json"
REAL, FALLBACK = "real", "fallback"
# The showdown pair, trained by `python -m seqdemo.offline.train_pair`: one checkpoint folder per role.
PAIR_DIR = Path(__file__).parent / "pair"

SUMMARIES = {REAL: "offline kit: real tokenizers and MiniLM", FALLBACK: "fallback offline kit: tokenizers trained here"}
GPT2_TOKENS = "GPT-2's BPE vocabulary (roberta-base's tokens; its ids differ)"
PAIR_PHRASES = {
    "short-classifier": f"a small RoBERTa trained here on a synthetic long-document task; {GPT2_TOKENS}",
    "long-classifier": f"a small Longformer made from the short one, trained here on the same task; {GPT2_TOKENS}",
}
REAL_PHRASES = {
    "bert": "all-MiniLM-L6-v2: a pretrained 6-layer BERT with bert-base-uncased's vocabulary",
    "roberta": f"{GPT2_TOKENS}; a small untrained model",
    "longformer": f"{GPT2_TOKENS}; a small untrained model",
    "decoder": "GPT-2's BPE vocabulary and ids; a small untrained model",
    **PAIR_PHRASES,
}


def pair_fingerprint() -> str:
    """A short hash of the committed pair's files, so the kit is rebuilt when they are retrained."""
    digest = hashlib.sha256()
    for path in sorted(PAIR_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(PAIR_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _provenance() -> list[dict[str, str]]:
    return [d.provenance(name) for d in DISTRIBUTIONS for name in sorted(d.files)]


def _expected(kind: str) -> dict[str, object]:
    """The manifest entries that decide whether a kit of `kind` is current."""
    if kind == REAL:
        return {"version": KIT_VERSION, "kind": REAL, "pair": pair_fingerprint(), "parts": _provenance()}
    return {"version": KIT_VERSION, "kind": FALLBACK, "pair": pair_fingerprint(), "corpus": corpus_fingerprint()}


def _read_manifest(kit: Path) -> dict[str, object]:
    try:
        return json.loads((kit / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _current_kind(kit: Path) -> str | None:
    """REAL or FALLBACK if `kit` is a complete kit of that kind built by this code, else None."""
    manifest = _read_manifest(kit)
    kind = manifest.get("kind")
    if kind not in (REAL, FALLBACK) or any(manifest.get(key) != value for key, value in _expected(kind).items()):
        return None
    return kind


def _fallback_phrases(kit: Path) -> dict[str, str]:
    corpus_kb = round(len("\n".join(corpus_lines()).encode()) / 1000, -2)
    size = {name: len(AutoTokenizer.from_pretrained(kit / name)) for name in ("bert", "roberta")}
    learned = f"trained here on {corpus_kb:.0f} KB of text; untrained model"
    bpe = f"a byte-level BPE of {size['roberta']:,} tokens {learned}"
    return {
        "bert": f"a WordPiece vocabulary of {size['bert']:,} pieces {learned}",
        "roberta": bpe,
        "longformer": bpe,
        "decoder": bpe,
        **PAIR_PHRASES,
    }


def build_kit(out_dir: Path, parts: Parts | None) -> None:
    """Build every kit checkpoint into `out_dir` (empty or missing): from `parts`, or the fallback kit if None."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if parts is not None:
        build_bert_tokenizer(minilm_wordpiece_vocab(parts.minilm / "tokenizer.json"), out_dir / "bert")
        install_pretrained(parts.minilm, out_dir / "bert")
        bpe = gpt2_byte_level_bpe(parts.gpt2_bpe / "gpt2.tiktoken")
        seeded = [name for name in KIT_MODELS if name != "bert"]
    else:
        build_bert_tokenizer(learned_wordpiece_vocab(), out_dir / "bert")
        bpe = learned_byte_level_bpe()
        seeded = list(KIT_MODELS)
    build_bpe_tokenizers(bpe, out_dir / "roberta", out_dir / "longformer", out_dir / "decoder")
    build_models(out_dir, seeded)
    for trained in sorted(PAIR_DIR.iterdir()):
        shutil.copytree(trained, out_dir / trained.name)
    kind = FALLBACK if parts is None else REAL
    phrases = REAL_PHRASES if parts is not None else _fallback_phrases(out_dir)
    manifest = {**_expected(kind), "summary": SUMMARIES[kind], "checkpoints": phrases, "untrained": sorted(seeded)}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _is_current(kit: Path, parts_dir: Path) -> bool:
    kind = _current_kind(kit)
    return kind == REAL or (kind == FALLBACK and cached_parts(parts_dir) is None)


def ensure_kit(
    root: Path, parts_dir: Path, index_url: str | None = None, fetch_timeout_s: float = FETCH_TIMEOUT_S
) -> Path:
    """Return the folder of a current kit under `root`, building it first if needed.

    A build takes the parts from `parts_dir`, fetching them first if they are not there
    (`index_url`, `fetch_timeout_s`: see `fetch_parts`); if that fails, it builds the fallback
    kit and logs why. A fallback kit is kept, without fetching again, until the parts appear.
    """
    root.mkdir(parents=True, exist_ok=True)
    kit = root / "kit"
    if _is_current(kit, parts_dir):
        return kit
    with folder_lock(root):
        if _is_current(kit, parts_dir):  # another process built it while we waited
            return kit
        try:
            parts = fetch_parts(parts_dir, index_url, fetch_timeout_s)
        except (FetchError, OSError) as err:  # OSError: a parts cache that cannot be written
            log.warning("Offline kit: building the fallback kit (tokenizers trained here): %s", err)
            parts = None
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
        try:
            build_kit(staging, parts)
            if kit.exists():
                shutil.rmtree(kit)
            staging.rename(kit)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return kit


@dataclass(frozen=True)
class KitDescription:
    """Which kit a folder holds, for the header (`summary`), and per checkpoint folder what it is.

    `real`: the kit has its fetched parts (MiniLM, GPT-2's BPE); `parts`: where each came from;
    `untrained`: the checkpoint folders whose weights are seeded, not learned.
    """

    real: bool
    summary: str
    checkpoints: Mapping[str, str]
    parts: tuple[Mapping[str, str], ...]
    untrained: frozenset[str]

    def phrase(self, checkpoint: str) -> str:
        """What the kit's `checkpoint` folder (`bert`, `short-classifier`, ...) is, in a phrase."""
        return self.checkpoints[checkpoint]


def describe_kit(kit: Path) -> KitDescription:
    """The description recorded in `kit`'s manifest (a folder `ensure_kit` returned)."""
    manifest = _read_manifest(kit)
    return KitDescription(
        real=manifest["kind"] == REAL,
        summary=manifest["summary"],
        checkpoints=dict(manifest["checkpoints"]),
        parts=tuple(manifest.get("parts", ())),
        untrained=frozenset(manifest.get("untrained", ())),
    )
