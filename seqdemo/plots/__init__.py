"""Matplotlib figures drawn from seqdemo's result objects, one module per lesson.

Plot functions take a result and return a `matplotlib.figure.Figure`; they never run a
model. The Agg backend is forced so figures render on servers without a display.
"""

import matplotlib

matplotlib.use("Agg")
