"""Links that carry a lesson's inputs: `?tab=padding&texts=…` on the tabbed app, `/padding?texts=…` on its own page.

A link holds only the values that differ from the widgets' starting values, written as the widget holds them
(lists comma-separated, booleans 1/0), so a missing field means its default. A value a link cannot use falls back
to that default with a note, never an error; inputs that would make a link longer than `MAX_LINK_CHARS` get a
message instead of a link.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import gradio as gr
from gradio.components import Component
from gradio.context import get_blocks_context
from gradio.events import Dependency

MAX_LINK_CHARS = 6_000  # of the query; proxies refuse request lines of about 8 KB
RESERVED = frozenset({"tab", "embed", "__theme"})  # query keys the app reads for itself
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# Copies the link the server wrote, made absolute against the app's address: a <gradio-app> embed's `src`, or else
# the page itself (the tabbed app or a lesson page, in a window or an iframe). The box shows it either way.
COPY_JS = """(link) => {
    if (!link) return link;
    const app = document.querySelector("gradio-app");
    const url = new URL(link, (app && app.getAttribute("src")) || window.location.href).href;
    if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
    return url;
}"""


_LINKS: weakref.WeakKeyDictionary[gr.Blocks, list[LessonLink]] = weakref.WeakKeyDictionary()


def lesson_links(app: gr.Blocks) -> list[LessonLink]:
    """Every lesson link built into `app`, on every page, in build order."""
    return list(_LINKS.get(app, []))


class LinkValueError(ValueError):
    """A link's value that its field cannot take; the message says what the field takes."""


def _choices(widget: Component) -> list[Any]:
    return [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in widget.choices]


def _number(widget: gr.Number | gr.Slider, text: str) -> int | float:
    """A number box's or slider's value: whole where the widget steps by whole numbers, within its bounds."""
    if isinstance(widget, gr.Slider):
        whole = float(widget.step).is_integer()
    else:
        whole = widget.precision == 0
    low, high = widget.minimum, widget.maximum
    bounds = [f"from {low:g}"] if low is not None else []
    bounds += [f"to {high:g}"] if high is not None else []
    takes = " ".join(["a whole number" if whole else "a number", *bounds])
    try:
        number = float(text)
    except ValueError:
        raise LinkValueError(takes) from None
    if not math.isfinite(number):
        raise LinkValueError(takes)
    too_low = low is not None and number < low
    too_high = high is not None and number > high
    if too_low or too_high or (whole and not number.is_integer()):
        raise LinkValueError(takes)
    return int(number) if whole else number


@dataclass(frozen=True)
class LinkField:
    """One widget's value in a link, under `name`; `default` is the widget's starting value."""

    name: str
    widget: Component
    default: Any

    def parse(self, text: str) -> Any:
        """The widget value a link's `text` stands for; LinkValueError says what the field takes instead."""
        widget = self.widget
        if isinstance(widget, gr.Checkbox):
            if text.lower() not in TRUE + FALSE:
                raise LinkValueError("1 or 0")
            return text.lower() in TRUE
        if isinstance(widget, (gr.Number, gr.Slider)):
            return _number(widget, text)
        if isinstance(widget, gr.CheckboxGroup):
            by_text = {str(choice): choice for choice in _choices(widget)}
            picked = [part for part in text.split(",") if part]
            if any(part not in by_text for part in picked):
                raise LinkValueError(f"some of {', '.join(by_text)}, comma-separated")
            return [by_text[part] for part in picked]
        if isinstance(widget, (gr.Radio, gr.Dropdown)):
            by_text = {str(choice): choice for choice in _choices(widget)}
            if text not in by_text:
                raise LinkValueError(f"one of {', '.join(by_text)}")
            return by_text[text]
        return text

    def write(self, value: Any) -> str:
        """`value` as a link writes it; `parse` reads it back."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (list, tuple)):
            return ",".join(str(item) for item in value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value)


def _fields(fields: Mapping[str, Component], unset: Collection[str]) -> tuple[LinkField, ...]:
    clash = RESERVED & set(fields)
    if clash:
        raise ValueError(f"link field names {sorted(clash)} are query keys the app reads for itself")
    unknown = set(unset) - set(fields)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not among the link's fields")
    return tuple(LinkField(name, widget, None if name in unset else widget.value) for name, widget in fields.items())


@dataclass(frozen=True)
class OpenedLink:
    """What a URL's link asks a lesson for: every field's value (defaults where the link has none) and notes."""

    values: tuple[Any, ...]
    notes: tuple[str, ...]


class LessonLink:
    """A lesson's inputs in a link: the copy-link row, made where it is created, and the link's fields.

    `fields` maps each URL key to a widget, in the order the lesson's handler takes them (the run a link
    starts passes their values in that order). A field's default is its widget's starting value, except for
    the fields named in `unset`, whose starting value only holds the place until the page learns the real one
    (a slider's value from the model it loads): a link without them leaves them as they are and passes None
    to the run, which chooses them as the page would. The row, under the lesson's inputs, is a button that writes
    the link and copies it, the link itself in a box (for copying by hand where the clipboard is refused),
    and a note. `on_page_load(…, link=)` wires what opening a link does.
    """

    def __init__(self, tab_id: str, fields: Mapping[str, Component], *, unset: Collection[str] = ()) -> None:
        self.tab_id = tab_id
        self.fields = _fields(fields, unset)
        self.run: tuple[Callable[..., Any], Sequence[Component]] | None = None
        self.opening: Dependency | None = None  # the page-load event that opens a link, once wired
        _LINKS.setdefault(get_blocks_context().root_block, []).append(self)
        self.page = self.fields[0].widget.page  # "" on the tabbed app, the lesson's own path on its page
        with gr.Row(equal_height=True, elem_classes="sd-link-row"):
            button = gr.Button("Copy a link to these inputs", size="sm", scale=0, min_width=220)
            self.box = gr.Textbox(
                label="Link to this example", show_label=False, visible=False, buttons=["copy"], scale=4
            )
        self.note = gr.Markdown(visible=False, elem_classes="sd-note")
        button.click(
            self.write,
            self.widgets,
            [self.box, self.note],
            api_visibility="private",
            show_progress="hidden",
            queue=False,
        ).then(None, self.box, self.box, js=COPY_JS, api_visibility="private")

    @property
    def widgets(self) -> list[Component]:
        return [field.widget for field in self.fields]

    def query(self, *values: Any) -> str:
        """The link, relative to the page it is made on: `?tab=<id>&…` on the tabbed app, `?…` on the lesson's page.

        Only values that differ from the starting ones are written. Raises LinkValueError when it would be
        longer than MAX_LINK_CHARS.
        """
        pairs = {} if self.page else {"tab": self.tab_id}
        for field, value in zip(self.fields, values, strict=True):
            written = field.write(value)
            if written != field.write(field.default):
                pairs[field.name] = written
        query = "?" + urlencode(pairs, quote_via=quote)
        if len(query) > MAX_LINK_CHARS:
            raise LinkValueError(
                f"These inputs make a link of {len(query):,} characters and a link carries at most "
                f"{MAX_LINK_CHARS:,}: shorten the texts to share them as a link."
            )
        return query

    def write(self, *values: Any) -> tuple[dict, dict]:
        """The copy button's step on the server: the link in the box, or the reason there is none in the note."""
        try:
            query = self.query(*values)
        except LinkValueError as err:
            return gr.update(value="", visible=False), gr.update(value=str(err), visible=True)
        note = (
            "Opening this link restores these inputs and runs the lesson on them. It is copied where the browser "
            "lets the page use the clipboard; else copy it from the box."
        )
        return gr.update(value=query, visible=True), gr.update(value=note, visible=True)

    def opened(self, query: Mapping[str, str]) -> bool:
        """Whether a page opened with `query` was opened by a link to this lesson (any of its fields given)."""
        if not self.page and (query.get("tab") or "").strip().lower() != self.tab_id:
            return False
        return any(field.name in query for field in self.fields)

    def read(self, query: Mapping[str, str]) -> OpenedLink:
        """Every field's value from `query`: the link's where it can be used, else the default with a note."""
        values, notes = [], []
        for field in self.fields:
            if field.name not in query:
                values.append(field.default)
                continue
            try:
                values.append(field.parse(query[field.name]))
            except LinkValueError as err:
                values.append(field.default)
                shown = query[field.name] if len(query[field.name]) <= 40 else query[field.name][:40] + "…"
                instead = (
                    "the lesson chooses it"
                    if field.default is None
                    else f"the default, {field.write(field.default)!r}, is used"
                )
                notes.append(f"The link's `{field.name}`, {shown!r}, cannot be used (it takes {err}), so {instead}.")
        return OpenedLink(tuple(values), tuple(notes))

    def runs(self, run: Callable[..., Any], outputs: Sequence[Component]) -> LessonLink:
        """This link, opened by `run` on `outputs` rather than by the worked example's handler and outputs.

        `outputs` may hold the link's own fields: a run that learns their ranges (a slider's maximum, from
        the model it loads) updates them there, after the link has filled them.
        """
        self.run = (run, outputs)
        return self

    def open_on_load(self, run: Callable[..., Any], outputs: Sequence[Component]) -> Dependency:
        """On page load, when the URL is a link to this lesson: fill its fields and show `run` on them.

        `run` takes the fields' values in order and fills `outputs` (streaming or not); `runs` chose
        another. The fields are filled first, so a run that fails still leaves the link's inputs in view.
        Returns the event (also kept as `opening`), to chain what follows a run; on a page no link to this
        lesson opened it succeeds at once, doing nothing.
        """
        run, outputs = self.run or (run, outputs)
        fields = self.widgets
        others: list[Component] = []  # the run's outputs that are not fields: after the fields and the note
        slots = []  # where each of the run's outputs goes among the event's
        for output in outputs:
            own = next((i for i, field in enumerate(fields) if output is field), None)
            if own is None:
                own = len(fields) + 1 + len(others)
                others.append(output)
            slots.append(own)
        width = len(fields) + 1 + len(others)
        streams = inspect.isgeneratorfunction(getattr(run, "func", run))

        def placed(result: Any) -> tuple:
            row: list[Any] = [gr.skip()] * width
            for slot, value in zip(slots, result if isinstance(result, tuple) else (result,), strict=True):
                row[slot] = value
            return tuple(row)

        def open_link(request: gr.Request) -> Iterator[tuple]:
            query = dict(request.query_params) if request else {}
            if not self.opened(query):
                yield tuple(gr.skip() for _ in range(width))
                return
            link = self.read(query)
            note = " ".join(("Opened from a link: these are its inputs.", *link.notes))
            filled = (gr.skip() if value is None else value for value in link.values)  # None: `unset`, the run's
            yield (*filled, gr.update(value=note, visible=True), *(gr.skip() for _ in others))
            results = run(*link.values) if streams else iter([run(*link.values)])
            for result in results:
                yield placed(result)

        self.opening = gr.on(
            None,
            open_link,
            None,
            [*fields, self.note, *others],
            api_visibility="private",
            show_progress="minimal",
        )
        return self.opening

    def unless_opened(self, example: Callable[..., Any], outputs: int) -> Callable[..., Any]:
        """`example` as a load event calls it, skipping every output when a link to this lesson opened the page.

        `example` takes the event's `progress` tracker (a worked example shows its preparation there).
        """

        def skipped() -> Any:
            return gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs))

        def is_opened(request: gr.Request | None) -> bool:
            return bool(request) and self.opened(dict(request.query_params))

        if inspect.isgeneratorfunction(example):

            def streaming(
                request: gr.Request | None = None,
                progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects the tracker)
            ) -> Iterator[Any]:
                if is_opened(request):
                    yield skipped()
                    return
                yield from example(progress=progress)

            return streaming

        def plain(request: gr.Request | None = None, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
            return skipped() if is_opened(request) else example(progress=progress)

        return plain
