"""The app shell and the wiring every tab shares: header, deep links, errors, worked examples on page load."""

import html
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import gradio as gr
import pytest
from gradio.routes import App

from seqdemo.device import pick_device
from seqdemo.errors import InputError, ModelLoadError
from seqdemo.models import ROLES, ModelSource, ModelStore
from seqdemo.settings import Settings
from seqdemo.ui import TABS, build_app, components, header_markdown, open_from_url
from seqdemo.ui.build_once import interim_builds_skipped
from seqdemo.ui.components import RESULT_CACHE_S, WorkedExamples, cached, computing_worked_example, user_errors

# The deep links the README promises, and an endpoint of the lesson each must open on.
DEEP_LINKS = {
    "lengths": "measure_lengths_charts",
    "padding": "padding_compare_charts",
    "masks": "mask_proof_charts",
    "longdoc": "compare_strategies_charts",
    "attention": "attention_maps",
    "batching": "batching_compare",
}


def test_header_states_mode_reason_and_device():
    text = header_markdown(ModelSource("offline", "Hugging Face Hub not reachable"), pick_device("cpu"))
    assert "offline kit: Hugging Face Hub not reachable" in text
    assert "CPU" in text and "float32" in text


def test_header_offline_names_the_kit_and_what_each_model_is(store):
    kit = store.kit_description()
    text = header_markdown(store.source, store.device, kit)
    assert kit.summary in text
    for role in ROLES.values():
        assert f"<b>{role.name}</b>: {html.escape(kit.phrase(role.kit_checkpoint))}" in text
    assert "Kit:" not in header_markdown(store.source, store.device)  # on the Hub there is no kit


def tab_holding(block: gr.blocks.Block) -> str | None:
    """The id of the `gr.Tab` a component sits in."""
    while block is not None and not isinstance(block, gr.Tab):
        block = block.parent
    return None if block is None else block.id


@pytest.mark.parametrize(("tab_id", "api_name"), DEEP_LINKS.items())
def test_each_deep_link_opens_the_tab_that_holds_its_lesson(endpoint, tab_id, api_name):
    assert open_from_url({"tab": tab_id}) == (tab_id, True)
    assert {tab_holding(block) for block in endpoint(api_name).inputs} == {tab_id}


def test_every_tab_has_a_deep_link():
    assert {tab_id for tab_id, _, _ in TABS} == set(DEEP_LINKS)


def test_an_unknown_or_missing_tab_opens_the_first():
    first = TABS[0][0]
    assert open_from_url({"tab": "nope"})[0] == first
    assert open_from_url({})[0] == first


def test_embed_mode_hides_the_title_and_keeps_the_deep_link():
    assert open_from_url({"tab": "padding", "embed": "1"}) == ("padding", False)
    assert open_from_url({"embed": "no"}) == (TABS[0][0], True)


class NothingLoads(ModelStore):
    """A store that fails the test if anything asks it for a tokenizer or a model."""

    def tokenizer(self, role):
        raise AssertionError(f"building the app loaded the {role} tokenizer")

    def model(self, role, attn_implementation=None):
        raise AssertionError(f"building the app loaded the {role} model")


def test_building_the_app_loads_no_tokenizer_and_no_model(tmp_path):
    store = NothingLoads(ModelSource("offline", "test"), Settings(models="offline", kit_dir=tmp_path))
    demo = build_app(store)
    assert demo.title.startswith("seqdemo")


def test_the_app_on_the_hub_imports_and_builds_without_transformers_modelling_code():
    """It takes seconds to import (with torch's compiler and distributed tensors), and serving waits for imports:
    the models load after the app serves, and they import it then. (Offline, the kit's first build needs it.)"""
    script = (
        "import sys\n"
        "from seqdemo.models import ModelSource, ModelStore\n"
        "from seqdemo.settings import Settings\n"
        "from seqdemo.ui import build_app\n"
        "build_app(ModelStore(ModelSource('hub', 'test'), Settings(models='hub')))\n"
        "print(sorted(name for name in ('transformers.modeling_utils', 'torch._dynamo') if name in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    ran = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "[]"


def test_building_the_app_builds_its_server_and_its_config_once(tmp_path, monkeypatch):
    builds = []
    create_app = App.create_app

    def counted(blocks, *args, **kwargs):
        builds.append(blocks)
        return create_app(blocks, *args, **kwargs)

    monkeypatch.setattr(App, "create_app", staticmethod(counted))
    get_config_file = gr.Blocks.get_config_file
    store = NothingLoads(ModelSource("offline", "test"), Settings(models="offline", kit_dir=tmp_path))
    demo = build_app(store)
    assert builds == [demo]  # Gradio alone builds one on each page's close and on queue(): eight
    assert demo.app is not None
    assert App.create_app is counted and gr.Blocks.get_config_file is get_config_file  # Gradio's own again
    config = demo.config
    assert {page[0] for page in config["pages"]} == {""} | {tab_id for tab_id, _, _ in TABS}
    assert len(config["dependencies"]) == len(demo.fns)
    assert config == demo.get_config_file()  # nothing changed after it was built


def test_while_one_thread_builds_an_app_another_apps_config_is_built_as_usual():
    with gr.Blocks() as other:
        gr.Markdown("beside")
    seen = {}
    with interim_builds_skipped():
        assert other.get_config_file() is None  # on the building thread: skipped
        beside = threading.Thread(target=lambda: seen.update(config=other.get_config_file()))
        beside.start()
        beside.join()
    assert seen["config"]["components"]
    assert other.get_config_file() == seen["config"]  # and after the block, on this thread too


def test_a_worked_example_is_computed_once_and_then_served_from_memory():
    runs = []
    examples = WorkedExamples()
    serve = examples.add(lambda text: runs.append(text) or len(runs), ["the example"]).serve(examples)
    assert serve() == serve() == 1 and runs == ["the example"]


def test_an_early_visitor_sees_the_partial_results_of_the_one_computation_then_later_ones_the_final():
    runs, go_on = [], threading.Event()

    def stream():
        runs.append(1)
        yield "one of two done"
        go_on.wait(10)
        yield "two of two done"

    examples = WorkedExamples()
    serve = examples.add(stream, ()).serve(examples)
    early, also_early = serve(), serve()
    assert next(early) == next(also_early) == "one of two done"  # both wait for the same computation
    go_on.set()
    assert list(early) == list(also_early) == ["two of two done"]
    assert list(serve()) == ["two of two done"] and runs == [1]


def test_examples_computed_at_start_up_are_served_without_running_again():
    runs = []

    def stream():
        runs.append(1)
        yield "half"
        yield "done"

    examples = WorkedExamples()
    serve = examples.add(stream, ()).serve(examples)
    examples.start()
    _wait_until(lambda: examples.status()["ready"])
    assert list(serve()) == ["done"] and runs == [1]
    status = examples.status()
    assert status["seconds"] >= status["examples"][0]["seconds"] >= 0


def test_stopping_leaves_a_streaming_example_at_its_next_result_and_computes_no_other():
    """Shutting down must not leave the thread inside a model call: the interpreter would abort the process."""
    started, go_on, steps, others = threading.Event(), threading.Event(), [], []

    def stream():
        steps.append("first")
        started.set()
        yield "first"
        go_on.wait(10)
        steps.append("second")
        yield "second"
        steps.append("third")
        yield "third"

    examples = WorkedExamples()
    example = examples.add(stream, (), name="streams")
    examples.add(lambda: others.append(1), (), name="cheap", slow=True)
    examples.want(example)
    assert started.wait(10)
    threading.Timer(0.2, go_on.set).start()
    assert examples.stop(timeout_s=10)
    assert steps in (["first"], ["first", "second"]) and others == []
    assert example.state == "waiting" and not examples.status()["ready"]
    examples.start()  # nothing starts again once stopped
    assert examples.stop(timeout_s=1) and others == []


def test_start_up_computes_cheap_examples_first_and_a_waiting_visitors_next():
    order, release = [], threading.Event()

    def example(name, block=False):
        def run():
            order.append(name)
            if block:
                release.wait(10)
            return name

        return run

    examples = WorkedExamples()
    examples.add(example("slow one"), (), slow=True)
    examples.add(example("first", block=True), ())
    examples.add(example("second"), ())
    wanted = examples.add(example("third"), ()).serve(examples)
    examples.start()
    _wait_until(lambda: order == ["first"])
    visitor = threading.Thread(target=wanted)
    visitor.start()  # asks for "third" while "first" is computing
    _wait_until(lambda: examples._wanted)
    release.set()
    visitor.join(10)
    _wait_until(lambda: examples.status()["ready"])
    assert order == ["first", "third", "second", "slow one"]


def test_a_worked_example_knows_it_is_one_while_it_computes():
    examples = WorkedExamples()
    serve = examples.add(computing_worked_example, ()).serve(examples)
    assert serve() is True and computing_worked_example() is False


def test_a_failed_example_is_not_kept_and_runs_again():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise InputError("not yet")
        return "ready"

    examples = WorkedExamples()
    serve = examples.add(flaky, ()).serve(examples)
    with pytest.raises(InputError):
        serve()
    assert serve() == "ready" and len(attempts) == 2  # the failure was not kept: it ran again


def test_a_visitor_sees_the_error_of_an_example_that_keeps_failing():
    def broken():
        raise InputError("The Hub is down.")

    examples = WorkedExamples()
    serve = examples.add(broken, ()).serve(examples)
    with pytest.raises(InputError, match="The Hub is down."):
        serve()


def _wait_until(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("error", [InputError("The document is empty."), ModelLoadError("roberta could not load.")])
def test_the_users_mistakes_and_load_failures_are_shown_as_their_message(error):
    @user_errors("doing the thing")
    def handler():
        raise error

    with pytest.raises(gr.Error, match=str(error)):
        handler()


def test_errors_in_streaming_handlers_become_one_line_messages():
    @user_errors("streaming")
    def stream():
        yield "started"
        raise InputError("The document is empty.")

    with pytest.raises(gr.Error, match="The document is empty."):
        list(stream())


@pytest.mark.parametrize(
    "bug", [ValueError("shapes (3,) and (4,) not aligned"), TypeError("'NoneType' is not iterable")]
)
@pytest.mark.parametrize("streams", [False, True])
def test_a_programming_error_is_logged_and_met_with_an_apology(caplog, bug, streams):
    def fail():
        raise bug

    def fail_streaming():
        yield "started"
        raise bug

    handler = user_errors("measuring the texts")(fail_streaming if streams else fail)
    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error) as shown:
        list(handler()) if streams else handler()
    assert shown.value.message == "Something went wrong on our side while measuring the texts; it has been logged."
    assert str(bug) not in shown.value.message
    (record,) = [record for record in caplog.records if record.exc_info]
    assert record.exc_info[1] is bug and "measuring the texts" in record.getMessage()


def test_a_gr_error_raised_by_a_handler_passes_through_unchanged():
    @user_errors("doing the thing")
    def handler():
        raise gr.Error("Already a message for the user.")

    with pytest.raises(gr.Error, match="Already a message for the user."):
        handler()


def _store(tmp_path, **settings):
    return ModelStore(ModelSource("offline", "test"), Settings(models="offline", kit_dir=tmp_path, **settings))


def test_an_identical_request_replays_the_first_ones_outputs_streamed_ones_too(tmp_path, monkeypatch):
    runs = []

    def stream(text, *, store):
        runs.append(text)
        yield f"{text}: half"
        yield f"{text}: done"

    store = _store(tmp_path)
    handler = cached(stream, store)
    assert list(handler("a")) == list(handler("a")) == ["a: half", "a: done"] and runs == ["a"]
    assert list(handler("b")) == ["b: half", "b: done"] and runs == ["a", "b"]
    assert list(cached(stream, _store(tmp_path))("a")) and runs == ["a", "b", "a"]  # another app: its own cache
    later = time.time() + RESULT_CACHE_S
    monkeypatch.setattr(components.time, "time", lambda: later)
    assert list(handler("a")) and runs == ["a", "b", "a", "a"]  # an old entry is not replayed


def test_the_result_cache_can_be_turned_off_for_benchmarks(tmp_path):
    runs = []

    def handler(text, *, store):
        runs.append(text)
        return text

    assert Settings.from_env({"SEQDEMO_RESULT_CACHE": "0"}).result_cache is False
    assert Settings.from_env({}).result_cache is True
    uncached = cached(handler, _store(tmp_path, result_cache=False))
    assert uncached("a") == uncached("a") == "a" and runs == ["a", "a"]


def test_an_example_that_fails_at_start_up_is_tried_again_after_the_others():
    attempts, order = [], []

    def flaky():
        attempts.append(1)
        order.append("flaky")
        if len(attempts) == 1:
            raise InputError("the download is slow")
        return "ready"

    examples = WorkedExamples()
    examples.add(flaky, ())
    examples.add(lambda: order.append("other"), ())
    examples.start()
    _wait_until(lambda: examples.status()["ready"])
    assert order == ["flaky", "other", "flaky"]


def test_each_lesson_has_its_own_page_that_is_not_in_a_navbar(demo):
    pages = {path: in_navbar for path, _, in_navbar in demo.pages}
    assert {tab_id for tab_id, _, _ in TABS} <= set(pages)
    assert not any(in_navbar for path, in_navbar in pages.items() if path)


def test_the_public_api_is_the_tabbed_apps_and_the_lesson_pages_events_are_private(demo):
    public = [event for event in demo.fns.values() if event.api_visibility == "public"]
    assert public and {event.page for event in public} == {""}
    names = {event.api_name for event in public}
    for tab_id, _, _ in TABS:
        on_page = [event for event in demo.fns.values() if event.page == tab_id]
        assert on_page and all(event.api_visibility == "private" for event in on_page)
        assert not names & {event.api_name for event in on_page}


def test_a_lesson_on_two_pages_computes_its_worked_example_once(demo):
    examples = [event for event in demo.fns.values() if event.api_name.startswith("measure_lengths_charts_example")]
    home, lesson = sorted(examples, key=lambda event: event.page)
    assert (home.page, lesson.page) == ("", "lengths")
    assert home.fn(None) is lesson.fn(None)  # one computed value, served to both pages


def test_without_start_up_only_what_visitors_wait_for_is_computed():
    order = []
    examples = WorkedExamples()
    examples.add(lambda: order.append("not asked for"), ())
    serve = examples.add(lambda: order.append("asked for") or "shown", ()).serve(examples)
    assert serve() == "shown"
    _wait_until(lambda: examples._worker is None)
    assert order == ["asked for"] and not examples.status()["ready"]
