"""How a tab wires a handler: errors shown one way, the store bound one way, worked examples run on page load one way.

A handler is a module-level function of widget values returning the outputs, with the model store as
a keyword-only `store`. `@user_errors("doing …")` makes it safe to show: the user's mistakes become a
message, anything else is a bug, logged. `bind(handler, store)` is what an event calls, and
`on_page_load` runs a tab's worked example when a page opens, once per process.
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import gradio as gr
from gradio.context import get_blocks_context
from gradio.events import Dependency

from seqdemo.errors import InputError, ModelLoadError
from seqdemo.models import ModelStore

if TYPE_CHECKING:
    from seqdemo.ui.links import LessonLink

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
SHOWN_AS_THEY_ARE = (InputError, ModelLoadError)  # their messages are written for the user


def _shown(err: Exception, doing: str) -> gr.Error:
    """The `gr.Error` the user sees for `err`: its own message, or, for a bug, an apology (the bug is logged)."""
    if isinstance(err, SHOWN_AS_THEY_ARE):
        return gr.Error(str(err), print_exception=False)
    log.exception("Error while %s", doing)
    return gr.Error(f"Something went wrong on our side while {doing}; it has been logged.", print_exception=False)


def user_errors(doing: str) -> Callable[[F], F]:
    """Decorate a handler: InputError and ModelLoadError reach the user as `gr.Error` with their message.

    Any other exception is a bug: logged with its traceback and shown as a short apology naming
    what was being done (`doing`, e.g. "measuring the texts"), never as the user's fault. A `gr.Error`
    the handler raises itself passes through. Works for plain and for streaming (generator) handlers.
    """

    def decorate(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
                try:
                    yield from fn(*args, **kwargs)
                except gr.Error:
                    raise
                except Exception as err:
                    raise _shown(err, doing) from None

            return streaming  # type: ignore[return-value]

        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as err:
                raise _shown(err, doing) from None

        return plain  # type: ignore[return-value]

    return decorate


def bind(handler: F, store: ModelStore) -> F:
    """`handler` as an event calls it: the app's `store` given, the widget values left to fill.

    The one way a handler gets its store: build functions receive the store and bind it here,
    so two apps with different stores can live in one process, and tests call the handler itself.
    """
    bound = functools.partial(handler, store=store)
    bound.__doc__ = ""  # the endpoint's API description; a partial's own docstring would show there
    return bound  # type: ignore[return-value]


class WorkedExample:
    """A handler on fixed inputs, computed once per process and then served from memory.

    Every visitor's page load asks for the same example; on a CPU Space running it each time would
    queue everyone behind base-sized models. `serve` is what Gradio calls: a streaming handler
    streams on its first run and later yields its final value at once. `compute` runs it to the
    end with no page waiting (for instance from a start-up thread); a page opening meanwhile waits
    for it. An error leaves nothing stored, so the next call tries again.
    """

    def __init__(self, handler: Callable[..., Any], inputs: Sequence[Any]) -> None:
        self._run = functools.partial(handler, *inputs)
        self.streams = inspect.isgeneratorfunction(handler)
        self._lock = threading.Lock()
        self._done: list[Any] = []

    def compute(self) -> Any:
        """The example's final outputs, computed now unless they already were."""
        with self._lock:
            if not self._done:
                result = self._run()
                self._done.append(collections.deque(result, maxlen=1)[0] if self.streams else result)
            return self._done[0]

    def serve(self) -> Callable[[], Any]:
        """The function a load event calls (a generator function when the handler streams)."""
        if not self.streams:

            def once() -> Any:
                return self.compute()

            return once

        def replay() -> Iterator[Any]:
            if self._done:
                yield self._done[0]
                return
            with self._lock:
                if not self._done:
                    last = None
                    for last in self._run():
                        yield last
                    self._done.append(last)
                    return
            yield self._done[0]

        return replay


# One WorkedExample per app and api_name: a lesson shown on two pages (tabbed app, its own page) computes it once.
_EXAMPLES: weakref.WeakKeyDictionary[gr.Blocks, dict[str, WorkedExample]] = weakref.WeakKeyDictionary()


def _worked_example(handler: Callable[..., Any], inputs: Sequence[Any], api_name: str) -> WorkedExample:
    app = get_blocks_context().root_block
    examples = _EXAMPLES.setdefault(app, {})
    if api_name not in examples:
        examples[api_name] = WorkedExample(handler, inputs)
    return examples[api_name]


def on_page_load(
    handler: Callable[..., Any],
    inputs: Sequence[Any],
    outputs: Sequence[gr.components.Component],
    *,
    api_name: str,
    after: Dependency | None = None,
    link: LessonLink | None = None,
) -> Dependency:
    """Run the tab's worked example, `handler(*inputs)`, when a page opens, or once `after` has succeeded.

    It is a `WorkedExample`: computed on first use, then served from memory, and shared by every page
    of the app that shows the lesson under the same `api_name`. Its event takes no inputs (the
    example's are fixed) and is public as `api_name`. With a `link`, a page opened by a link to this
    lesson shows `handler` run on the link's inputs instead (`LessonLink.open_on_load`). Returns the
    event, to chain on.
    """
    example = _worked_example(handler, inputs, api_name).serve()
    if link is not None:
        link.open_on_load(handler, outputs)
        example = link.unless_opened(example, len(outputs))
    if after is None:
        return gr.on(None, example, outputs=list(outputs), api_name=api_name, show_progress="minimal")
    return after.success(example, outputs=list(outputs), api_name=api_name, show_progress="minimal")
