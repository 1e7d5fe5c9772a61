"""The offline kit's tokenizers, saved in the Hub checkpoints' layout.

The vocabularies are the real ones where the kit has its fetched parts (bert-base-uncased's
WordPiece, GPT-2's byte-level BPE) and are learned here with the `tokenizers` library where it
has not. Either way the transformers classes (`BertTokenizer`, `RobertaTokenizer`,
`LongformerTokenizer`, `GPT2Tokenizer`) assemble the normaliser / pre-tokeniser /
post-processor pipeline the Hub checkpoints use, so special tokens, pair formats and pad ids
follow each family exactly.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from tokenizers.implementations import ByteLevelBPETokenizer
from transformers import BertTokenizer, GPT2Tokenizer, LongformerTokenizer, RobertaTokenizer

from seqdemo.offline.bpe_ranks import gpt2_vocab_and_merges
from seqdemo.offline.corpus import corpus_lines

# Learned here (the fallback kit): small vocabularies on a small corpus. Common words stay whole,
# rarer ones split into subwords, as they do (less often) with the 30k / 50k real vocabularies.
BERT_VOCAB_SIZE = 8000
BPE_VOCAB_SIZE = 8000
BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0
BPE_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # <s> = 0, <pad> = 1, </s> = 2, <unk> = 3
GPT2_END_OF_TEXT = "<|endoftext|>"  # GPT-2's bos, eos and unk, id 50256 after its 50,256 ranks
MODEL_MAX_LENGTHS = {"bert": 512, "roberta": 512, "longformer": 4096, "gpt2": 1024}


WORD_START = "\u2581"  # marks a word's first piece while learning the WordPiece vocabulary


def learned_wordpiece_vocab() -> dict[str, int]:
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


def minilm_wordpiece_vocab(tokenizer_json: Path) -> dict[str, int]:
    """The WordPiece vocabulary of a `tokenizer.json` (all-MiniLM-L6-v2's: bert-base-uncased's 30,522 pieces)."""
    return json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]


def build_bert_tokenizer(vocab: dict[str, int], out_dir: Path) -> None:
    """WordPiece, uncased, `[CLS] A [SEP] B [SEP]` with token_type_ids, saved to `out_dir`."""
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=MODEL_MAX_LENGTHS["bert"])
    tokenizer.save_pretrained(out_dir)


@dataclass(frozen=True)
class ByteLevelBPE:
    """One byte-level BPE spelled two ways: RoBERTa's vocabulary and GPT-2's, over the same merges.

    `gpt2_specials` names the decoder's bos, eos, unk and pad tokens, all in `gpt2_vocab`.
    """

    roberta_vocab: dict[str, int]
    gpt2_vocab: dict[str, int]
    merges: list[tuple[str, str]]
    gpt2_specials: dict[str, str]


def learned_byte_level_bpe() -> ByteLevelBPE:
    """A BPE learned here, its special tokens first (`<s>` = 0, `<pad>` = 1, ...), for both families."""
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
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    return ByteLevelBPE(vocab, vocab, merges, specials)


def gpt2_byte_level_bpe(ranks_file: Path) -> ByteLevelBPE:
    """GPT-2's BPE: its own ids plus `<|endoftext|>` and a `<pad>`; RoBERTa's specials, then rank r at id r + 4.

    roberta-base orders the same tokens as fairseq's dictionary did, which the ranks do not
    hold, so the RoBERTa ids here are GPT-2's shifted past `<s> <pad> </s> <unk>`, with
    `<mask>` last (50,260; roberta-base's is 50,264).
    """
    ranks, merges = gpt2_vocab_and_merges(ranks_file)
    specials = BPE_SPECIAL_TOKENS[:-1]
    roberta = {token: i for i, token in enumerate(specials)}
    roberta |= {token: rank + len(specials) for token, rank in ranks.items()}
    roberta[BPE_SPECIAL_TOKENS[-1]] = len(roberta)
    gpt2 = {**ranks, GPT2_END_OF_TEXT: len(ranks)}
    gpt2["<pad>"] = len(gpt2)  # GPT-2 has no pad token; batched prompts need one
    end = GPT2_END_OF_TEXT
    return ByteLevelBPE(
        roberta, gpt2, merges, {"bos_token": end, "eos_token": end, "unk_token": end, "pad_token": "<pad>"}
    )


def build_bpe_tokenizers(bpe: ByteLevelBPE, roberta_dir: Path, longformer_dir: Path, decoder_dir: Path) -> None:
    """One byte-level BPE for RoBERTa (512), Longformer (4096) and the GPT-2 decoder (1024).

    The decoder gets no `<s>` / `</s>` around its prompts, as GPT-2 has none; unlike the Hub's
    `gpt2`, which has no pad token at all, its pad token is set explicitly so that batches can
    be padded.
    """
    targets = ((RobertaTokenizer, roberta_dir, "roberta"), (LongformerTokenizer, longformer_dir, "longformer"))
    for cls, out_dir, family in targets:
        tokenizer = cls(
            vocab=dict(bpe.roberta_vocab), merges=list(bpe.merges), model_max_length=MODEL_MAX_LENGTHS[family]
        )
        tokenizer.save_pretrained(out_dir)
    decoder = GPT2Tokenizer(
        vocab=dict(bpe.gpt2_vocab),
        merges=list(bpe.merges),
        model_max_length=MODEL_MAX_LENGTHS["gpt2"],
        **bpe.gpt2_specials,
    )
    decoder.save_pretrained(decoder_dir)
