"""The small HTML pieces every view uses: token chips and error boxes.

A chip's `kind` is a `token_kinds` kind, which is also its CSS class; a real token needs none.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from seqdemo.token_kinds import REAL


def chip(text: str, kind: str = "", title: str = "") -> str:
    """One token as a chip; `kind` is a token kind ("special", "pad", "truncated", "overlap", "unk", "bytes")."""
    tip = f' title="{html.escape(title)}"' if title else ""
    css = "" if kind == REAL else kind
    return f'<span class="sd-chip {css}"{tip}>{html.escape(text)}</span>'


def chips(tokens: Sequence[str], kinds: Sequence[str] | None = None, titles: Sequence[str] | None = None) -> str:
    """A wrapping row of token chips."""
    kinds = kinds or [""] * len(tokens)
    titles = titles or [""] * len(tokens)
    body = "".join(chip(t, k, ti) for t, k, ti in zip(tokens, kinds, titles, strict=True))
    return f'<div class="sd-chips">{body}</div>'


def error_html(message: str) -> str:
    """A one-line error box for a panel that could not be computed."""
    return f'<div class="sd-error">{html.escape(message)}</div>'
