"""Placeholder wiring, replaced by the tab's real module."""

import gradio as gr


def build(store) -> None:
    gr.Markdown("(padding tab)")
