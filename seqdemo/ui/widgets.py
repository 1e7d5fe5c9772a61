"""Input widgets whose refusals name the field: Gradio's own say "Value 0 is less than minimum value 1.".

Each class is its Gradio namesake, drawn by the same front-end component (`is_template`), with
a `preprocess` that checks what arrives the way Gradio's does, but refuses in one sentence naming
the widget's label and what it takes, without a traceback in the server log. Choices also accept
their own text ('0' for the choice 0): that is how `view_api` documents them. Texts pass
`inputs.check_text`. Bounds are the widget's own, as the session last set them.
"""

from __future__ import annotations

import math
from abc import ABCMeta
from collections.abc import Sequence
from typing import Any

import gradio as gr
from gradio.caching import CacheMissError, _probe_mode_active  # gradio 6.31's probe; see _refusal
from gradio.component_meta import ComponentMeta

from seqdemo.errors import InputError
from seqdemo.inputs import check_text


class _NoStub(ComponentMeta):
    """Gradio's component metaclass, less the `.pyi` stub it writes beside the module of every component class.

    These subclasses add no events and no arguments, so the stub would say nothing new, and writing
    into the installed package on every start is a side effect nobody asked for.
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        return ABCMeta.__new__(mcs, name, bases, attrs)


def field_name(component: gr.components.Component) -> str:
    """What the user sees the field called: its label, else its id."""
    return str(component.label or component.elem_id or "This field")


def refuse(component: gr.components.Component, allowed: str, given: object) -> Exception:
    """The error for a value `component` cannot take: "<label> takes <allowed>; <given> is not one."."""
    shown = repr(given) if isinstance(given, str) else str(given)
    return _refusal(f"“{field_name(component)}” takes {allowed}; {shown} is not one.")


class _RefusedWhileProbing(gr.Error, CacheMissError):
    """A refusal while the queue probes `gr.cache`: Gradio passes it on as a `gr.Error` and the probe takes it
    for a miss."""


def _refusal(message: str) -> Exception:
    """`gr.Error(message)`; while the queue only probes `gr.cache` (before queueing a request), also a cache miss.

    The probe runs preprocess outside the queue's error handling, so a plain refusal there would
    answer the request with HTTP 500; as a miss the request is queued and refused as every other is.
    """
    kind = _RefusedWhileProbing if _probe_mode_active.get() else gr.Error
    return kind(message, print_exception=False)


def _number_range(minimum: float | None, maximum: float | None, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    low, high = (
        None if bound is None else f"{bound:,g}" if not whole else f"{int(bound):,}" for bound in (minimum, maximum)
    )
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None:
        return f"{kind} of at least {low}"
    if high is not None:
        return f"{kind} of at most {high}"
    return kind


def checked_number(component: gr.Number | gr.Slider, payload: Any, whole: bool) -> float | None:
    """`payload` as a number within the component's bounds (None stays None); else `refuse`."""
    allowed = _number_range(component.minimum, component.maximum, whole)
    if payload is None:
        return None
    try:
        value = float(payload)  # JSON numbers, and their text ("12"), as a client may send either
    except (TypeError, ValueError):
        raise refuse(component, allowed, payload) from None
    if isinstance(payload, bool) or not math.isfinite(value):
        raise refuse(component, allowed, payload)
    if (component.minimum is not None and value < component.minimum) or (
        component.maximum is not None and value > component.maximum
    ):
        raise refuse(component, allowed, payload)
    return value


class Number(gr.Number, metaclass=_NoStub):
    """`gr.Number` whose refusals name it; empty stays None (a box being typed in)."""

    is_template = True

    def preprocess(self, payload: Any) -> float | int | None:
        value = checked_number(self, payload, whole=self.precision == 0)
        return None if value is None else self.round_to_precision(value, self.precision)


class Slider(gr.Slider, metaclass=_NoStub):
    """`gr.Slider` whose refusals name it; a slider always has a value, so empty is refused too."""

    is_template = True

    def preprocess(self, payload: Any) -> float | int:
        whole = float(self.step).is_integer() and float(self.minimum).is_integer()
        value = checked_number(self, payload, whole)
        if value is None:
            raise refuse(self, _number_range(self.minimum, self.maximum, whole), payload)
        return gr.Number.round_to_precision(value, self.precision)


def _choice(component: gr.components.Component, payload: Any) -> Any:
    """The choice value `payload` means: the value itself, or its text ('0' for 0); else `refuse`."""
    values = [value for _, value in component.choices]
    if payload in values:
        return payload
    for value in values:
        if str(value) == str(payload):
            return value
    shown = ", ".join(repr(value) if isinstance(value, str) else str(value) for value in values)
    raise refuse(component, f"one of {shown}", payload)


def _as_choice_type(component: gr.components.Component, value: Any) -> Any:
    """A choice value passed on as its index when the component's `type` says so."""
    if component.type == "index":
        return [choice for _, choice in component.choices].index(value)
    return value


class Dropdown(gr.Dropdown, metaclass=_NoStub):
    """`gr.Dropdown` (one or several choices) whose refusals name it and list its choices."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is None or self.allow_custom_value:
            return super().preprocess(payload)
        if self.multiselect:
            chosen = [_choice(self, value) for value in _as_list(self, payload)]
            return [_as_choice_type(self, value) for value in chosen]
        return _as_choice_type(self, _choice(self, payload))


class Radio(gr.Radio, metaclass=_NoStub):
    """`gr.Radio` whose refusals name it and list its choices."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return None if payload is None else _as_choice_type(self, _choice(self, payload))


class CheckboxGroup(gr.CheckboxGroup, metaclass=_NoStub):
    """`gr.CheckboxGroup` whose refusals name it and list its choices."""

    is_template = True

    def preprocess(self, payload: Any) -> list[Any]:
        return [_as_choice_type(self, _choice(self, value)) for value in _as_list(self, payload)]


def _as_list(component: gr.components.Component, payload: Any) -> Sequence[Any]:
    if payload is None:
        return []
    if isinstance(payload, (list, tuple)):
        return payload
    raise refuse(component, "a list of its choices", payload)


class Textbox(gr.Textbox, metaclass=_NoStub):
    """`gr.Textbox` whose text passes `check_text` (a lone surrogate is refused, naming the field and where)."""

    is_template = True

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        try:
            return check_text(str(payload), field_name(self))
        except InputError as err:
            raise _refusal(str(err)) from None
