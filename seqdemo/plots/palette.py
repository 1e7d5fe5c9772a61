"""Every colour seqdemo draws with, named by what it means: one palette for the figures and for the pages' CSS.

What sits at a position (a real token, a special token, padding …) keeps one colour family
everywhere: `fill` in figures, and on pages a `tint` (background), an `ink` (text) and a `line`
(border). The CSS files never spell a colour: they read `var(--sd-…)`, which `css_variables` writes
from this module, so padding is the same grey in a chip, a grid cell and every figure.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from seqdemo.token_kinds import BYTES, GLOBAL, OVERLAP, PAD, REAL, SPECIAL, TRUNCATED, UNK


@dataclass(frozen=True)
class Shades:
    """One kind's colours: `fill` for figures; `tint`, `ink` and `line` for a page's background, text and border."""

    fill: str
    tint: str
    ink: str
    line: str


KINDS: dict[str, Shades] = {
    REAL: Shades(fill="#93c5fd", tint="#dbeafe", ink="#1e3a8a", line="#bfdbfe"),
    SPECIAL: Shades(fill="#c4b5fd", tint="#ede9fe", ink="#5b21b6", line="#ddd6fe"),
    PAD: Shades(fill="#d1d5db", tint="#f3f4f6", ink="#9ca3af", line="#d1d5db"),
    UNK: Shades(fill="#fdba74", tint="#ffedd5", ink="#9a3412", line="#fed7aa"),
    BYTES: Shades(fill="#5eead4", tint="#ccfbf1", ink="#115e59", line="#99f6e4"),
    OVERLAP: Shades(fill="#fcd34d", tint="#fef3c7", ink="#92400e", line="#fde68a"),
    GLOBAL: Shades(fill="#f97316", tint="#ffedd5", ink="#c2410c", line="#fdba74"),
    TRUNCATED: Shades(fill="#fca5a5", tint="#fee2e2", ink="#991b1b", line="#fecaca"),
}

# Neutrals, darkest first, and the page's surfaces.
STRONG_INK = "#111827"  # outlines that must stand out
INK = "#374151"  # text and numbers drawn on figures, table headers
SOFT_INK = "#4b5563"  # notes
MUTED_INK = "#6b7280"  # side remarks ("chance")
FAINT = "#9ca3af"  # guide lines, edges, the words series
RULE = "#e5e7eb"  # table borders, what a strategy never read
SURFACE = "#f9fafb"  # table headers and row names
BLANK = "#eceff3"  # attention cells that got exactly zero weight
WHITE = "#ffffff"

ACCENT = "#3b82f6"  # the one-series colour: histograms, throughput, allowed attention
ACCENT_TINT = "#eff6ff"
ID_TINT = "#eef2ff"  # generated token ids
ERROR = Shades(fill="#dc2626", tint="#fef2f2", ink="#991b1b", line="#fecaca")  # limits crossed, refusals, "differs"
OK = Shades(fill="#16a34a", tint="#f0fdf4", ink="#166534", line="#bbf7d0")  # within tolerance, "same"
FLAG = Shades(fill="#f59e0b", tint="#fffbeb", ink="#9a3412", line="#fde68a")  # something unusual about a batch

# Series, in order: one colour per tokenizer (lengths), per run of the mask proof, per class label, per strategy.
SERIES_COLORS = ("#f59e0b", "#3b82f6", "#10b981", "#8b5cf6", "#ef4444")
PROOF_RUN_COLORS = {"masked": "#3b82f6", "unmasked": "#f97316", "plain_mean": "#a855f7"}
LABEL_COLORS = ("#e11d48", "#16a34a", "#2563eb", "#d97706", "#7c3aed", "#0891b2")
# Attention heads, one colour each (cycled past twelve): the pointing view draws every head at once in these.
HEAD_COLORS = (
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#7c3aed",
    "#ca8a04",
    "#0d9488",
    "#4b5563",
)
STRATEGY_COLORS = {  # the long-document strategies
    "head": "#2563eb",
    "tail": "#ea580c",
    "head_tail": "#7c3aed",
    "windows": "#0d9488",
    "longformer": "#be123c",
}


def label_color(index: int) -> str:
    """The colour of a classifier's label `index`; the colours repeat past the last."""
    return LABEL_COLORS[index % len(LABEL_COLORS)]


def css_variables() -> str:
    """The palette as CSS custom properties (`--sd-pad-tint`, `--sd-ink`, …) for every page element to read."""
    families = {**KINDS, "error": ERROR, "ok": OK, "flag": FLAG}
    names = {
        **{
            f"{name}-{field.name}": getattr(shades, field.name)
            for name, shades in families.items()
            for field in fields(Shades)
        },
        "strong-ink": STRONG_INK,
        "ink": INK,
        "soft-ink": SOFT_INK,
        "muted-ink": MUTED_INK,
        "faint": FAINT,
        "rule": RULE,
        "surface": SURFACE,
        "white": WHITE,
        "accent": ACCENT,
        "accent-tint": ACCENT_TINT,
        "id-tint": ID_TINT,
    }
    body = " ".join(f"--sd-{name}: {colour};" for name, colour in names.items())
    return f":root, .gradio-container {{ {body} }}"
