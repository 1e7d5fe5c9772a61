"""User text in figures is drawn as typed: a `$` is a dollar sign, and CJK and emoji have glyphs.

Each figure that shows user text (the lengths chart's labels, attention's token axes and title,
the key mask's token axes) is drawn to PNG and SVG, then its Text artists are read back.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from seqdemo.attention import choose_view, extract_attention
from seqdemo.lengths import measure_lengths
from seqdemo.masks import attention_key_mask, pad_tokenized_texts, prove_mask, tokenize_texts
from seqdemo.models import ENCODER_ROLES
from seqdemo.plots.attention import plot_attention_heatmap, plot_layers_heads, plot_token_row
from seqdemo.plots.fonts import FAMILIES, MONO, SANS, families_for, fit_fonts, installed
from seqdemo.plots.lengths import plot_padding_grid, plot_token_counts
from seqdemo.plots.masks import plot_key_mask, plot_mask_proof
from seqdemo.ui.lengths import measure_texts

DOLLARS = ["I paid $5 and $10 for it", "$\\foo$ costs", "$x^{$ oops", "$$$$"]
SCRIPTS = ["こんにちは世界", "你好 안녕", "Emoji 🙂🚀👍", "Привет, мир", "שלום", "مرحبا", "नमस्ते", "สวัสดี"]


def drawn_texts(figure: Figure) -> list[Text]:
    """Every non-empty Text artist of `figure` after drawing it to PNG and SVG (tick labels exist only then)."""
    for fmt in ("png", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text()]


def assert_shown_literally(figure: Figure, texts: list[str]) -> None:
    artists = drawn_texts(figure)
    for text in texts:
        holding = [artist for artist in artists if text in artist.get_text()]
        assert holding, f"{text!r} is not drawn; drawn: {[a.get_text() for a in artists]}"
        assert all(artist.get_parse_math() is False for artist in holding), f"{text!r} is parsed as mathtext"


@pytest.fixture(scope="module")
def tokenizers(store):
    return {role: store.tokenizer(role) for role in ENCODER_ROLES}


def test_dollar_signs_in_the_lengths_charts_are_dollar_signs(tokenizers):
    report = measure_lengths(DOLLARS, tokenizers)
    assert_shown_literally(plot_token_counts(report), DOLLARS)
    drawn_texts(plot_padding_grid(report))  # no user text, and it still draws


def test_the_lengths_handler_draws_math_like_text_without_an_error(store):
    *_, (summary, counts_png, *_) = measure_texts("\n".join(DOLLARS), list(ENCODER_ROLES), True, store=store)
    assert counts_png.endswith(".png") and "4 texts" in summary


@pytest.mark.parametrize("role", ["bert", "longformer"])
def test_dollar_tokens_on_the_attention_axes_are_dollar_signs(store, role):
    maps = extract_attention(store.model(role, attn_implementation="eager"), store.tokenizer(role), DOLLARS)
    real = zip(maps.tokens[1], maps.attention_mask[1], strict=True)
    tokens = [token for token, is_real in real if is_real and "$" in token]
    assert tokens, "the tokenizer kept no token with a dollar sign"
    view = choose_view(maps, example=2, layer=1, head=None, start=0, size=64, query=1)
    assert_shown_literally(plot_attention_heatmap(maps, view), tokens)
    assert_shown_literally(plot_token_row(maps, view), tokens)
    drawn_texts(plot_layers_heads(maps, view))


def test_dollar_tokens_on_the_key_mask_axes_are_dollar_signs(store):
    tokenizer = store.tokenizer("roberta")
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, DOLLARS), "right")
    allowed = attention_key_mask(batch, 3, store.model("roberta").config)
    tokens = [token for token in batch.tokens[3] if "$" in token]
    assert_shown_literally(plot_key_mask(batch, 3, allowed, "roberta"), tokens)


def test_every_font_family_is_installed_where_the_tests_run():
    assert installed(tuple(FAMILIES)) == tuple(FAMILIES)


def test_cjk_emoji_and_other_scripts_are_drawn_without_missing_glyphs(tokenizers, store):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = plot_token_counts(measure_lengths(SCRIPTS, tokenizers))
        assert_shown_literally(figure, SCRIPTS)
        tokenizer = store.tokenizer("bert")  # WordPiece keeps whole characters, so each token is a glyph to draw
        batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, SCRIPTS[:3]), "right")
        drawn_texts(plot_key_mask(batch, 0, attention_key_mask(batch, 0, store.model("bert").config), "bert"))
    missing = [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]
    assert missing == []


def test_no_figure_shows_mathtext_source_in_its_tick_labels(store):
    """Text is drawn literally, so a formatter that writes $\\mathdefault{10^{-6}}$ would show it as it is."""
    proof = prove_mask(store.model("bert"), store.tokenizer("bert"), ["A text.", "A longer text than that one."])
    labels = [text.get_text() for text in drawn_texts(plot_mask_proof(proof))]
    assert not [label for label in labels if "$" in label or "mathdefault" in label]
    assert {"10⁻⁶", "10⁰"} & set(labels)  # the log axis, labelled in powers of ten


def png_pixels(figure: Figure) -> np.ndarray:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return np.asarray(Image.open(buffer))


def test_a_text_keeps_only_the_families_its_characters_are_drawn_from():
    assert families_for("The cat sat on the mat. 0123 −", SANS) == ["DejaVu Sans"]
    assert families_for("Привет こんにちは 🙂", SANS) == ["DejaVu Sans", "Noto Sans CJK JP", "Symbola"]
    assert families_for("שלום 世界", MONO) == ["DejaVu Sans Mono", "Noto Sans Mono CJK JP", "Noto Sans Hebrew"]
    assert families_for("anything", ["sans-serif"]) is None  # a generic family is left to matplotlib


def test_fitting_the_fonts_draws_the_same_pixels(tokenizers, store):
    """Fitting only drops families a text never draws from, so the picture is the same, pixel for pixel."""
    report = measure_lengths(SCRIPTS + DOLLARS, tokenizers)
    tokenizer = store.tokenizer("bert")
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, SCRIPTS[:3]), "right")
    allowed = attention_key_mask(batch, 0, store.model("bert").config)
    for plot, args in [(plot_token_counts, (report,)), (plot_key_mask, (batch, 0, allowed, "bert"))]:
        fitted = fit_fonts(plot(*args))
        assert np.array_equal(png_pixels(fitted), png_pixels(plot(*args))), plot.__name__
        labels = [text for text in fitted.findobj(Text) if text.get_text()]
        assert any(text.get_fontfamily()[0] in {"DejaVu Sans", "DejaVu Sans Mono"} for text in labels)
        assert max(len(text.get_fontfamily()) for text in labels) < len(installed(SANS))  # narrowed everywhere
