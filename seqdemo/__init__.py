"""seqdemo: how transformers handle many sequences at once.

The package computes (lengths, padding, masks, long documents, attention, batching)
and returns plain data; `seqdemo.plots` draws it and `seqdemo.ui` wires it into Gradio.
"""

__version__ = "0.1.0"
