"""Matplotlib figures drawn from seqdemo's result objects, one module per lesson.

Plot functions take a result and return a `matplotlib.figure.Figure`; they never run a
model. The Agg backend is forced so figures render on servers without a display, and text is
drawn literally in every script the fonts cover (`plots.fonts`).
"""

import matplotlib

from seqdemo.plots.fonts import apply_text_settings

matplotlib.use("Agg")
apply_text_settings()
