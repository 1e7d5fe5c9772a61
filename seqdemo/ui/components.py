"""How a tab wires a handler: errors shown one way, the store bound one way, worked examples served one way.

A handler is a module-level function of widget values returning the outputs, with the model store as
a keyword-only `store`. `@user_errors("doing …")` makes it safe to show: the user's mistakes become a
message, anything else is a bug, logged. `bind(handler, store)` is what an event calls (`cached` adds
`gr.cache`), and `on_page_load` shows a tab's worked example when a page opens: computed once per
process, in the background from start-up (`start_worked_examples`), cheap ones first.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
import time
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
STOP_WAIT_S = 30.0  # how long shutting down waits for the worked example being computed to reach a stopping point


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


RESULT_CACHE_S = 30 * 60  # an identical request within this window replays the first one's outputs
RESULT_CACHE_ENTRIES = 32  # per handler: the bound that holds (gr.cache sizes a result's figure data shallowly)
RESULT_CACHE_MEMORY = "64mb"  # per handler, of what gr.cache can size: the HTML and tables of the streamed updates


def _expiring_key(arguments: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """gr.cache's key: the arguments (the store by identity), and which RESULT_CACHE_S window it is.

    Cached outputs name figure files, which are removed some time after they were written;
    expiring entries keeps every replay younger than its files.
    """
    return int(time.time() // RESULT_CACHE_S), arguments


def cached(handler: F, store: ModelStore) -> F:
    """`bind(handler, store)` behind `gr.cache`: an identical request replays the first one's outputs (streamed ones
    too) without queueing behind the models. For handlers whose outputs depend only on their inputs.

    `gr.cache` hashes the inputs by content and the store by identity (two apps never share
    entries); entries last RESULT_CACHE_S at most. `SEQDEMO_RESULT_CACHE=0` turns it off, for
    benchmarks that must measure the work itself.
    """
    bound = bind(handler, store)
    if not store.settings.result_cache:
        return bound
    return gr.cache(  # type: ignore[return-value]
        bound, key=_expiring_key, max_size=RESULT_CACHE_ENTRIES, max_memory=RESULT_CACHE_MEMORY
    )


PREPARING = "Preparing the worked example…"
START_UP_ROUNDS = 3  # a worked example that fails at start-up (a slow download, say) is tried this often
_computing = contextvars.ContextVar("computing_worked_example", default=False)


def computing_worked_example() -> bool:
    """True while a worked example is being computed in this thread: what it makes is held for the process's life."""
    return _computing.get()


class WorkedExample:
    """A handler on fixed inputs, computed once per process and then served from memory.

    Every visitor's page load asks for the same example; on a CPU Space running it each time would
    queue everyone behind base-sized models. `compute` runs it to the end (the app's background
    thread does, from start-up); `serve` is what Gradio calls: the outputs at once when ready,
    else it waits for that one computation, showing progress and, for a streaming handler, each
    partial result as it comes. An error leaves nothing stored, so the next request tries again.
    """

    def __init__(
        self,
        handler: Callable[..., Any],
        inputs: Sequence[Any],
        name: str = "",
        slow: bool = False,
        api_only: bool = False,
    ) -> None:
        self._run = functools.partial(handler, *inputs)
        self.name = name
        self.slow = slow
        self.api_only = api_only  # no page shows it: computed at start-up after every example a page shows
        self.streams = inspect.isgeneratorfunction(handler)
        self._changed = threading.Condition()
        self.state = "waiting"  # waiting -> running -> done, or failed (and waiting again when asked for)
        self._latest: Any = None  # the newest (partial) outputs
        self._version = 0  # how many outputs were published
        self._error: Exception | None = None  # the last failure's
        self._failures = 0
        self.seconds: float | None = None

    def compute(self, stopping: Callable[[], bool] = lambda: False) -> Any:
        """The example's final outputs: computed now in this thread, or waited for if another thread is at it.

        A streaming handler is abandoned at its next partial result once `stopping()` is true (the app is
        shutting down); the example is then waiting again and this returns None.
        """
        with self._changed:
            if self.state in ("running", "done"):
                return self._outcome()
            self.state = "running"
        token, started = _computing.set(True), time.perf_counter()
        try:
            if self.streams:
                steps = self._run()
                for outputs in steps:
                    self._publish(outputs)
                    if stopping():
                        steps.close()
                        with self._changed:
                            self.state = "waiting"
                            self._changed.notify_all()
                        return None
            else:
                self._publish(self._run())
        except Exception as err:
            with self._changed:
                self.state, self._error, self._failures = "failed", err, self._failures + 1
                self._changed.notify_all()
            raise
        finally:
            _computing.reset(token)
        with self._changed:
            self.state, self.seconds = "done", time.perf_counter() - started
            self._changed.notify_all()
            return self._latest

    def _publish(self, outputs: Any) -> None:
        with self._changed:
            self._latest, self._version = outputs, self._version + 1
            self._changed.notify_all()

    def _outcome(self) -> Any:
        """Under the lock: wait for the computation in progress to end; its outputs, or its error raised."""
        self._changed.wait_for(lambda: self.state in ("done", "failed"))
        if self.state == "failed":
            raise self._error  # type: ignore[misc]
        return self._latest

    def retry_if_failed(self) -> None:
        with self._changed:
            if self.state == "failed":
                self.state = "waiting"

    def _updates(self, failures: int) -> Iterator[Any]:
        """Each new (partial) outputs until the computation ends, then the final ones.

        `failures` is how many computations had failed when the visitor came: one more, and its
        error is raised (the next visitor triggers another try).
        """
        seen = 0
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda seen=seen: self._version != seen or self.state == "done" or self._failures != failures
                )
                if self._failures != failures:
                    raise self._error  # type: ignore[misc]
                state, latest, seen = self.state, self._latest, self._version
            yield latest
            if state == "done":
                return

    def serve(self, examples: WorkedExamples) -> Callable[..., Any]:
        """The function a load event calls (a generator function when the handler streams).

        Before the example is ready it asks `examples` to compute it next and shows PREPARING.
        """

        def once(progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008 (Gradio injects the tracker)
            failures = self._failures
            if self.state != "done":
                examples.want(self)
                progress(0, desc=PREPARING)
            *_, final = self._updates(failures)
            return final

        def replay(progress: gr.Progress = gr.Progress()) -> Iterator[Any]:  # noqa: B008
            failures = self._failures
            if self.state != "done":
                examples.want(self)
                progress(0, desc=PREPARING)
            previous = None
            for outputs in self._updates(failures):
                if outputs is not previous:
                    yield outputs
                previous = outputs

        return replay if self.streams else once


class WorkedExamples:
    """An app's worked examples, computed one at a time in one background thread: cheap ones first, slow ones after.

    `start` (at start-up) computes them all; before that, or without it, the thread computes only
    what visitors wait for. A visitor waiting for an example moves it to the front.
    """

    def __init__(self) -> None:
        self.examples: list[WorkedExample] = []
        self._lock = threading.Lock()
        self._wanted: list[WorkedExample] = []
        self._worker: threading.Thread | None = None
        self._rounds = 1
        self._all = False  # compute every example, not only the wanted ones
        self._stopping = False  # the app is shutting down: compute nothing more
        self.started: float | None = None
        self.seconds: float | None = None

    def add(
        self,
        handler: Callable[..., Any],
        inputs: Sequence[Any],
        name: str = "",
        slow: bool = False,
        api_only: bool = False,
    ) -> WorkedExample:
        """The worked example of `handler(*inputs)` called `name`, computed in its turn (`slow` ones after the others,
        `api_only` ones, which no page shows, last).

        A lesson shown on two pages (the tabbed app, its own page) asks twice: it gets the one example.
        """
        example = next((example for example in self.examples if name and example.name == name), None)
        if example is None:
            example = WorkedExample(handler, inputs, name, slow, api_only)
            self.examples.append(example)
        return example

    def named(self, name: str) -> WorkedExample:
        """The example called `name` (added already)."""
        return next(example for example in self.examples if example.name == name)

    def start(self) -> None:
        """Compute every example in the background, cheap ones first (the thread stops when all are done)."""
        with self._lock:
            self._all = True
            if self.started is None:
                self.started = time.perf_counter()
        self._run_worker()

    def want(self, example: WorkedExample) -> None:
        """Compute `example` next (again, if it failed) and make sure the thread runs."""
        example.retry_if_failed()
        with self._lock:
            self._wanted.insert(0, example)
        self._run_worker()

    def stop(self, timeout_s: float = STOP_WAIT_S) -> bool:
        """Compute nothing more and wait up to `timeout_s` for the thread to leave its example (a streaming one at
        its next partial result); whether it did.

        The app calls this before the interpreter exits: a daemon thread still inside a torch operation then
        is torn down mid-call, and the process aborts ("terminate called without an active exception").
        """
        with self._lock:
            self._stopping, worker = True, self._worker
        if worker is not None:
            worker.join(timeout_s)
        return worker is None or not worker.is_alive()

    def _run_worker(self) -> None:
        with self._lock:
            if self._worker is None and not self._stopping:
                self._worker = threading.Thread(target=self._work, name="worked-examples", daemon=True)
                self._worker.start()

    def _next(self) -> WorkedExample | None:
        """The example to compute next: a wanted one, else cheap before slow; failed ones again, a few rounds."""
        with self._lock:
            if self._stopping:
                self._worker = None
                return None
            order = [
                *self._wanted,
                *(sorted(self.examples, key=lambda example: (example.api_only, example.slow)) if self._all else ()),
            ]
            chosen = next((example for example in order if example.state == "waiting"), None)
            failed = [example for example in self.examples if example.state == "failed"]
            if chosen is None and self._all and failed and self._rounds < START_UP_ROUNDS:
                self._rounds += 1
                for example in failed:
                    example.retry_if_failed()
                chosen = failed[0]
            self._wanted = [example for example in self._wanted if example is not chosen]
            if chosen is None:
                self._worker = None
                if all(example.state == "done" for example in self.examples) and self.seconds is None:
                    self.seconds = time.perf_counter() - (self.started or time.perf_counter())
            return chosen

    def _work(self) -> None:
        while (example := self._next()) is not None:
            try:
                example.compute(stopping=lambda: self._stopping)
            except Exception:  # noqa: BLE001 (the handler logged a bug already; it is tried again later)
                log.warning("The worked example %s failed; it will be tried again.", example.name)

    def status(self) -> dict[str, Any]:
        """Whether every example is ready, how long that took from start, and each example's state and seconds."""
        return {
            "ready": all(example.state == "done" for example in self.examples),
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "examples": [
                {
                    "api_name": example.name,
                    "state": example.state,
                    "slow": example.slow,
                    "seconds": None if example.seconds is None else round(example.seconds, 3),
                }
                for example in self.examples
            ],
        }


_APPS: weakref.WeakKeyDictionary[gr.Blocks, WorkedExamples] = weakref.WeakKeyDictionary()


def worked_examples(demo: gr.Blocks) -> WorkedExamples:
    """The worked examples of the app `demo` (registered by `on_page_load` while it was built)."""
    return _APPS.setdefault(demo, WorkedExamples())


def start_worked_examples(demo: gr.Blocks) -> None:
    """Start computing the app's worked examples in the background, so that no visitor pays for them."""
    worked_examples(demo).start()


def publish_worked_examples_status() -> Dependency:
    """An API endpoint, `worked_examples_status`, saying whether the current app's worked examples are ready."""
    examples = worked_examples(get_blocks_context().root_block)

    def worked_examples_status() -> dict[str, Any]:
        return examples.status()

    return gr.api(worked_examples_status, api_name="worked_examples_status", concurrency_limit=None)


def on_page_load(
    handler: Callable[..., Any],
    inputs: Sequence[Any],
    outputs: Sequence[gr.components.Component],
    *,
    api_name: str,
    after: Dependency | None = None,
    slow: bool = False,
    link: LessonLink | None = None,
    unless: LessonLink | None = None,
) -> Dependency:
    """Show the tab's worked example, `handler(*inputs)`, when a page opens, or once `after` has succeeded.

    It is a `WorkedExample` of the app being built, shared by every page of the app that shows the
    lesson under the same `api_name`: computed once, in the background (`slow` ones after the
    others), then served from memory. Its event takes no inputs (the example's are fixed), never
    waits for a concurrency slot, and is public as `api_name`. With a `link`, a page opened by a
    link to this lesson shows `handler` run on the link's inputs instead (`LessonLink.open_on_load`);
    `unless` a link, the example is skipped on a page that link opened (whose own run fills these
    outputs too). Returns the event, to chain on.
    """
    examples = worked_examples(get_blocks_context().root_block)
    example = examples.add(handler, inputs, api_name, slow).serve(examples)
    if link is not None:
        link.open_on_load(handler, outputs)
    if link is not None or unless is not None:
        example = (link or unless).unless_opened(example, len(outputs))
    options = {
        "outputs": list(outputs),
        "api_name": api_name,
        "show_progress": "full",  # each output says "Preparing the worked example…" until it is ready
        "concurrency_limit": None,
    }
    if after is None:
        return gr.on(None, example, **options)
    return after.success(example, **options)


def api_only(
    handler: Callable[..., Any],
    inputs: Sequence[gr.components.Component] | None,
    outputs: Sequence[gr.components.Component],
    *,
    api_name: str,
    **options: Any,
) -> Dependency:
    """An endpoint no widget triggers, public as `api_name`: an earlier form of a lesson, kept for its callers.

    A tab that changes what it shows keeps its old endpoints working (gradio_client users, notebooks
    and embeds call them by name) on a hidden trigger; `outputs` may be hidden widgets of the old kinds.
    """
    trigger = gr.Button(visible=False)
    return trigger.click(handler, inputs, list(outputs), api_name=api_name, **options)


def api_only_example(
    handler: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[gr.components.Component], *, api_name: str
) -> Dependency:
    """A worked example only the API asks for (an earlier form of a lesson's), public as `api_name`.

    It is computed in the background like `on_page_load`'s, after every example a page shows,
    and served from memory.
    """
    examples = worked_examples(get_blocks_context().root_block)
    example = examples.add(handler, inputs, api_name, api_only=True).serve(examples)
    return api_only(example, None, outputs, api_name=api_name, concurrency_limit=None, show_progress="hidden")
