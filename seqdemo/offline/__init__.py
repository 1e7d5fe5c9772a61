"""The offline kit: small, real tokenizers (and models) built on this machine.

They stand in for the Hub checkpoints when the Hub cannot be reached. Each follows its
family's conventions (special tokens, pad ids, pair formats, max lengths) and loads
through the same `from_pretrained(path)` call as a Hub checkpoint.
"""

from seqdemo.offline.kit import KIT_VERSION, ensure_kit

__all__ = ["KIT_VERSION", "ensure_kit"]
