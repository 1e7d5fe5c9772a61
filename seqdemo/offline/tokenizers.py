"""Train the offline kit's tokenizers and save them in the Hub checkpoints' layout.

The vocabularies are learned with the `tokenizers` library; the transformers classes
(`BertTokenizer`, `RobertaTokenizer`, `LongformerTokenizer`, `GPT2Tokenizer`) then assemble
the same normaliser / pre-tokeniser / post-processor pipeline the Hub checkpoints use, so
special tokens, pair formats and pad ids follow each family exactly.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from tokenizers.implementations import ByteLevelBPETokenizer
from transformers import BertTokenizer, GPT2Tokenizer, LongformerTokenizer, RobertaTokenizer

from seqdemo.offline.corpus import corpus_lines

# Small vocabularies on a small corpus: common words stay whole, rarer ones split into
# subwords, as they do (less often) with the 30k / 50k vocabularies on the Hub.
BERT_VOCAB_SIZE = 8000
BPE_VOCAB_SIZE = 8000
BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0
BPE_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # <s> = 0, <pad> = 1, </s> = 2
MODEL_MAX_LENGTHS = {"bert": 512, "roberta": 512, "longformer": 4096, "gpt2": 1024}


WORD_START = "\u2581"  # marks a word's first piece while learning the WordPiece vocabulary


def _learn_wordpiece_vocab() -> dict[str, int]:
    """A WordPiece vocabulary learned deterministically with a BPE trainer.

    The `tokenizers` WordPiece trainer numbers its `##` pieces in hash-map order, so ties
    between equally frequent merges break differently on every run. Instead each word is
    marked with WORD_START and plain BPE (deterministic) learns the merges; a piece that
    starts a word becomes `piece`, any other becomes `##piece`, as in BERT's vocabulary.
    """
    normalizer = normalizers.BertNormalizer(lowercase=True, clean_text=True, handle_chinese_chars=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    marked = [
        " ".join(WORD_START + word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
        for line in corpus_lines()
    ]
    learner = Tokenizer(models.BPE())
    learner.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    learner.train_from_iterator(
        marked, trainers.BpeTrainer(vocab_size=BERT_VOCAB_SIZE, min_frequency=2, show_progress=False)
    )
    pieces = [piece for piece, _ in sorted(learner.get_vocab().items(), key=lambda item: item[1])]
    alphabet = [piece for piece in pieces if len(piece) == 1 and piece != WORD_START]
    merged = [piece for piece in pieces if len(piece) > 1]
    wordpieces = [*BERT_SPECIAL_TOKENS, *alphabet, *("##" + char for char in alphabet)]
    wordpieces += [piece[1:] if piece.startswith(WORD_START) else "##" + piece for piece in merged]
    return {piece: index for index, piece in enumerate(dict.fromkeys(wordpieces))}


def build_bert_tokenizer(out_dir: Path) -> None:
    """WordPiece, uncased, `[CLS] A [SEP] B [SEP]` with token_type_ids, saved to `out_dir`."""
    tokenizer = BertTokenizer(
        vocab=_learn_wordpiece_vocab(), do_lower_case=True, model_max_length=MODEL_MAX_LENGTHS["bert"]
    )
    tokenizer.save_pretrained(out_dir)


def _train_byte_level_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    trainer = ByteLevelBPETokenizer(add_prefix_space=False)
    trainer.train_from_iterator(
        corpus_lines(),
        vocab_size=BPE_VOCAB_SIZE,
        min_frequency=2,
        special_tokens=BPE_SPECIAL_TOKENS,
        show_progress=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = trainer.save_model(tmp)
        vocab = json.loads(Path(vocab_file).read_text(encoding="utf-8"))
        lines = Path(merges_file).read_text(encoding="utf-8").splitlines()
        merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#")]
    return vocab, merges


def build_bpe_tokenizers(roberta_dir: Path, longformer_dir: Path, decoder_dir: Path) -> None:
    """Byte-level BPE shared by RoBERTa (512), Longformer (4096) and the GPT-2 decoder (1024).

    The decoder gets no `<s>` / `</s>` around its prompts, as GPT-2 has none; unlike the Hub's
    `gpt2`, which has no pad token at all, its `<pad>` is set explicitly so that batches can
    be padded.
    """
    vocab, merges = _train_byte_level_bpe()
    targets = ((RobertaTokenizer, roberta_dir, "roberta"), (LongformerTokenizer, longformer_dir, "longformer"))
    for cls, out_dir, family in targets:
        tokenizer = cls(vocab=dict(vocab), merges=list(merges), model_max_length=MODEL_MAX_LENGTHS[family])
        tokenizer.save_pretrained(out_dir)
    decoder = GPT2Tokenizer(
        vocab=dict(vocab),
        merges=list(merges),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=MODEL_MAX_LENGTHS["gpt2"],
    )
    decoder.save_pretrained(decoder_dir)
