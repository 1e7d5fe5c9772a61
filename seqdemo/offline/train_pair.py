"""Train the offline showdown pair: a small RoBERTa and a small Longformer on the same synthetic task.

Each model learns from documents that fit its own window (`SHORT_LIMIT`, `LONG_LIMIT` tokens
with `<s>` and `</s>`), so each is right wherever it can see the decisive passage; documents
without a passage are trained towards 50/50, so a model that cannot see it answers "chance".
As the real Longformer was, the long model starts from the trained RoBERTa: same weights, its
position embeddings copied along the longer window, global projections copied from the local ones.
Both read GPT-2's BPE in RoBERTa's spelling (the kit's fetched parts; fetched here if missing),
so documents have roberta-base's token counts. Weights are committed in float16.
Seeded and deterministic: the same seed on the same machine gives the same weights.

    python -m seqdemo.offline.train_pair            # writes seqdemo/offline/pair/<role>/
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoTokenizer,
    LongformerForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    RobertaForSequenceClassification,
)

from seqdemo.offline.fetch import GPT2_BPE, Parts, fetch_parts
from seqdemo.offline.kit import PAIR_DIR
from seqdemo.offline.longdoc_task import LABEL_NAMES, document_within
from seqdemo.offline.models import KIT_MODELS
from seqdemo.offline.tokenizers import build_bpe_tokenizers, gpt2_byte_level_bpe
from seqdemo.settings import Settings

SEED = 0
SHORT_LIMIT = 256
LONG_LIMIT = 1024
NO_PASSAGE_SHARE = 0.2  # documents with no decisive passage, trained towards 50/50


@dataclass(frozen=True)
class PairMember:
    """One of the pair: its role, the kit tokenizer folder it starts from, its window and how long it trains."""

    role: str
    kit_family: str
    limit: int
    steps: int
    batch_size: int


PAIR = (
    PairMember("short-classifier", "roberta", SHORT_LIMIT, steps=240, batch_size=16),
    PairMember("long-classifier", "longformer", LONG_LIMIT, steps=80, batch_size=8),
)  # in this order: the long model starts from the short one
LEARNING_RATE = 2e-3
EVAL_DOCUMENTS = 200


def _token_counter(tokenizer: PreTrainedTokenizerBase):
    return lambda text: len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def sample_batch(
    rng: np.random.Generator, tokenizer: PreTrainedTokenizerBase, limit: int, size: int
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """(encoded batch padded to its longest, targets (size, 2) as label probabilities)."""
    count = _token_counter(tokenizer)
    texts, targets = [], []
    for _ in range(size):
        label = None if rng.random() < NO_PASSAGE_SHARE else int(rng.integers(2))
        texts.append(document_within(rng, count, limit - tokenizer.num_special_tokens_to_add(), label).text)
        targets.append([0.5, 0.5] if label is None else [1.0 - label, float(label)])
    batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    return dict(batch), torch.tensor(targets)


def _forward(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    if isinstance(model, LongformerForSequenceClassification):
        global_attention_mask = torch.zeros_like(batch["input_ids"])
        global_attention_mask[:, 0] = 1  # <s>, whose vector the classification head reads
        return model(**batch, global_attention_mask=global_attention_mask).logits
    return model(**batch).logits


def new_model(member: PairMember, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """A freshly initialised classifier of the kit's architecture, sized to `tokenizer`."""
    _, make_config = KIT_MODELS[member.kit_family]
    config = make_config(tokenizer)
    config.num_labels = len(LABEL_NAMES)
    config.id2label = dict(enumerate(LABEL_NAMES))
    config.label2id = {name: i for i, name in enumerate(LABEL_NAMES)}
    model_class = (
        LongformerForSequenceClassification if member.kit_family == "longformer" else RobertaForSequenceClassification
    )
    return model_class(config)


def longformer_from_roberta(roberta: PreTrainedModel, longformer: PreTrainedModel) -> None:
    """Copy a RoBERTa classifier's weights into a Longformer one, in place, as Longformer was made from RoBERTa.

    Position embeddings (RoBERTa's first two rows are offsets, `pad_token_id + 1`) are tiled
    along the longer window; each layer's global query/key/value start as copies of the local ones.
    """
    source = {name.replace("roberta.", "longformer.", 1): weight for name, weight in roberta.state_dict().items()}
    target = longformer.state_dict()
    positions = "longformer.embeddings.position_embeddings.weight"
    offset = roberta.config.pad_token_id + 1
    learned = source[positions][offset:]
    copies = -(-(len(target[positions]) - offset) // len(learned))
    source[positions] = torch.cat([source[positions][:offset], learned.repeat(copies, 1)])[: len(target[positions])]
    for name in target:
        if "_global." in name:
            source[name] = source[name.replace("_global.", ".")]
    longformer.load_state_dict(source)


def train(
    member: PairMember, tokenizer: PreTrainedTokenizerBase, seed: int, start: PreTrainedModel | None = None
) -> PreTrainedModel:
    """Train one member on fresh documents every step (from `start`'s weights if given); linear warm-up and decay."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = new_model(member, tokenizer).train()
    if start is not None:
        longformer_from_roberta(start, model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    warmup = member.steps // 10
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (member.steps - step) / (member.steps - warmup))
    )
    for step in range(member.steps):
        batch, targets = sample_batch(rng, tokenizer, member.limit, member.batch_size)
        loss = torch.nn.functional.cross_entropy(_forward(model, batch), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 25 == 0 or step == member.steps - 1:
            print(f"{member.role} step {step:4d} loss {loss.item():.4f}", flush=True)
    return model.eval()


@torch.inference_mode()
def accuracy(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, limit: int, seed: int) -> float:
    """Share of EVAL_DOCUMENTS fresh documents (with a passage, all within `limit`) classified correctly."""
    rng = np.random.default_rng(seed)
    count = _token_counter(tokenizer)
    budget = limit - tokenizer.num_special_tokens_to_add()
    correct = 0
    for _ in range(EVAL_DOCUMENTS):
        label = int(rng.integers(2))
        batch = tokenizer([document_within(rng, count, budget, label).text], return_tensors="pt")
        correct += int(_forward(model, dict(batch)).argmax(-1).item() == label)
    return correct / EVAL_DOCUMENTS


def train_pair(out_dir: Path, parts: Parts, seed: int = SEED) -> dict[str, dict[str, object]]:
    """Train both members and save each, with its tokenizer and a `training.json`, to `out_dir/<role>`.

    Each member is saved in float16 and goes on (evaluated, and the long one started from the
    short one) with exactly the weights saved.
    """
    torch.use_deterministic_algorithms(True)
    report: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {family: Path(tmp) / family for family in ("roberta", "longformer", "decoder")}
        bpe = gpt2_byte_level_bpe(parts.gpt2_bpe / "gpt2.tiktoken")
        build_bpe_tokenizers(bpe, folders["roberta"], folders["longformer"], folders["decoder"])
        model = None
        for member in PAIR:
            tokenizer = AutoTokenizer.from_pretrained(folders[member.kit_family], model_max_length=member.limit)
            started = time.perf_counter()
            model = train(member, tokenizer, seed, start=model)
            seconds = time.perf_counter() - started
            folder = out_dir / member.role
            model.half().save_pretrained(folder)
            model.float()
            tokenizer.save_pretrained(folder)
            report[member.role] = {
                "seed": seed,
                "limit": member.limit,
                "steps": member.steps,
                "batch_size": member.batch_size,
                "learning_rate": LEARNING_RATE,
                "torch_threads": torch.get_num_threads(),
                "train_seconds": round(seconds, 1),
                "heldout_accuracy": accuracy(model, tokenizer, member.limit, seed + 1),
                "tokenizer": f"GPT-2's BPE, RoBERTa's special tokens ({GPT2_BPE.package}=={GPT2_BPE.version})",
                "weights_dtype": "float16",
            }
            (folder / "training.json").write_text(json.dumps(report[member.role], indent=2) + "\n")
            print(member.role, report[member.role], flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PAIR_DIR, help="folder for <role>/ checkpoints")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    train_pair(args.out, fetch_parts(Settings.from_env().parts_dir), args.seed)


if __name__ == "__main__":
    main()
