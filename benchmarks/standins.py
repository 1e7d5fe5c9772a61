"""Base-sized stand-ins for every role's Hub checkpoint: the real architectures and sizes, random weights.

The Hub cannot be reached here, but what costs time on the Space is the models' size, not
what their weights learnt. Each stand-in is the Hub checkpoint's architecture at its real size
(bert-base-uncased, roberta-base, longformer-base-4096 with attention_window 512, gpt2 124M, and
the two classifiers), seeded, with the offline kit's tokenizer saved beside it, so that
`from_pretrained(folder)` loads both. They are built once into a cache folder and rebuilt when
the kit's tokenizers change; `SEQDEMO_CHECKPOINT_<ROLE>=<folder>` points the app at them.

    python -m benchmarks.standins            # build (or reuse) and print the folders
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    LongformerConfig,
    LongformerForSequenceClassification,
    LongformerModel,
    PreTrainedTokenizerBase,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaModel,
)

from seqdemo.offline import ensure_kit
from seqdemo.settings import Settings, checkpoint_env_var

STANDINS_VERSION = 1
SEED = 0
LABELS = {0: "negative", 1: "positive"}
# The Hub checkpoints' own sizes: vocabulary, positions, window. The embedding matrices keep
# the real vocabulary size even where a kit tokenizer is smaller, so they cost what the real ones do.
BERT_BASE = {"vocab_size": 30_522, "max_position_embeddings": 512}
ROBERTA_BASE = {"vocab_size": 50_265, "max_position_embeddings": 514, "type_vocab_size": 1}
LONGFORMER_BASE = {
    "vocab_size": 50_265,
    "max_position_embeddings": 4_098,
    "type_vocab_size": 1,
    "attention_window": 512,
}
GPT2_SMALL = {"vocab_size": 50_257, "n_positions": 1_024}

# role -> the kit folder whose tokenizer the stand-in uses
KIT_TOKENIZER = {
    "bert": "bert",
    "roberta": "roberta",
    "longformer": "longformer",
    "decoder": "decoder",
    "short-classifier": "roberta",
    "long-classifier": "longformer",
}


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int | None]:
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def build_model(role: str, tokenizer: PreTrainedTokenizerBase) -> torch.nn.Module:
    """The role's Hub architecture at base size, seeded, sized to hold `tokenizer`'s ids."""
    torch.manual_seed(SEED)
    ids = _special_ids(tokenizer)

    def vocab(sizes: dict[str, int]) -> dict[str, int]:
        return {**sizes, "vocab_size": max(sizes["vocab_size"], len(tokenizer))}

    if role == "bert":
        return BertModel(BertConfig(**vocab(BERT_BASE), pad_token_id=tokenizer.pad_token_id))
    if role == "roberta":
        return RobertaModel(RobertaConfig(**vocab(ROBERTA_BASE), **ids))
    if role == "longformer":
        return LongformerModel(LongformerConfig(**vocab(LONGFORMER_BASE), **ids))
    if role == "short-classifier":
        config = RobertaConfig(
            **vocab(ROBERTA_BASE), **ids, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}
        )
        return RobertaForSequenceClassification(config)
    if role == "long-classifier":
        config = LongformerConfig(
            **vocab(LONGFORMER_BASE), **ids, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}
        )
        return LongformerForSequenceClassification(config)
    if role == "decoder":
        sizes = vocab(GPT2_SMALL)
        return GPT2LMHeadModel(GPT2Config(**sizes, **ids))
    raise ValueError(f"No stand-in for role {role!r}.")


def _fingerprint(kit: Path) -> dict[str, object]:
    return {"version": STANDINS_VERSION, "kit": json.loads((kit / "manifest.json").read_text())}


def build_standins(root: Path, roles: tuple[str, ...] = tuple(KIT_TOKENIZER)) -> dict[str, Path]:
    """Folders of base-sized stand-ins under `root`, built once and reused while the kit is unchanged."""
    settings = Settings.from_env()
    kit = ensure_kit(settings.kit_dir, settings.parts_dir)
    expected = _fingerprint(kit)
    root.mkdir(parents=True, exist_ok=True)
    folders = {}
    for role in roles:
        folder = root / role
        marker = folder / "standin.json"
        if not (marker.is_file() and json.loads(marker.read_text()) == expected):
            tokenizer = AutoTokenizer.from_pretrained(kit / KIT_TOKENIZER[role])
            staging = Path(tempfile.mkdtemp(prefix=f".{role}-", dir=root))
            try:
                build_model(role, tokenizer).save_pretrained(staging)
                tokenizer.save_pretrained(staging)
                (staging / "standin.json").write_text(json.dumps(expected, indent=2))
                shutil.rmtree(folder, ignore_errors=True)
                staging.rename(folder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        folders[role] = folder
    return folders


def checkpoint_environment(folders: dict[str, Path]) -> dict[str, str]:
    """The environment that makes the app load the stand-ins as its Hub checkpoints."""
    return {"SEQDEMO_MODELS": "hub", **{checkpoint_env_var(role): str(path) for role, path in folders.items()}}


def default_root() -> Path:
    return Settings.from_env().kit_dir.parent / "standins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="cache folder (default: beside the offline kit)")
    args = parser.parse_args()
    root = args.root or default_root()
    for name, value in checkpoint_environment(build_standins(root)).items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
