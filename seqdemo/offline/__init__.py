"""The offline kit: the real tokenizers and a pretrained BERT, fetched by hash, plus small models built here.

They stand in for the Hub checkpoints when the Hub cannot be reached. Each follows its
family's conventions (special tokens, pad ids, pair formats, max lengths) and loads
through the same `from_pretrained(path)` call as a Hub checkpoint. Without the package
index the kit falls back to tokenizers trained here, and says so (`describe_kit`).
"""

from seqdemo.offline.kit import KIT_VERSION, KitDescription, describe_kit, ensure_kit

__all__ = ["KIT_VERSION", "KitDescription", "describe_kit", "ensure_kit"]
