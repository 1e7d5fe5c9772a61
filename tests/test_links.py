"""Links that carry a lesson's inputs: written short, read back exactly, refused values replaced by defaults."""

from types import SimpleNamespace
from urllib.parse import parse_qsl, urlparse

import gradio as gr
import pytest
from test_app import DEEP_LINKS

from seqdemo.longdoc import SHORT_ROLE, load_pair
from seqdemo.ui import TABS
from seqdemo.ui.links import MAX_LINK_CHARS, LessonLink, LinkValueError, lesson_links

LESSON_EVENTS = DEEP_LINKS  # the main event of each lesson: the inputs a link to it restores, in order


@pytest.fixture
def lesson():
    """A small lesson's widgets and its link, on the tabbed app's page."""
    with gr.Blocks():
        widgets = {
            "texts": gr.Textbox("The cat sat."),
            "tokenizers": gr.CheckboxGroup([("BERT", "bert"), ("RoBERTa", "roberta")], value=["bert"]),
            "special_tokens": gr.Checkbox(True),
            "batch_size": gr.Number(16, precision=0, minimum=1, maximum=1024),
            "tokens": gr.Slider(8, 512, 64, step=8),
            "side": gr.Radio(["right", "left"], value="right"),
        }
        link = LessonLink("lengths", widgets)
    return link, widgets


def query_of(link_text: str) -> dict[str, str]:
    return dict(parse_qsl(urlparse(link_text).query, keep_blank_values=True))


def test_a_link_holds_only_what_differs_from_the_starting_values(lesson):
    link, _ = lesson
    written = link.query("Two texts\nhere", ["bert"], True, 16, 64, "left")
    assert query_of(written) == {"tab": "lengths", "texts": "Two texts\nhere", "side": "left"}
    assert link.query("The cat sat.", ["bert"], True, 16, 64, "right") == "?tab=lengths"


def test_a_link_reads_back_the_values_it_was_written_from(lesson):
    link, _ = lesson
    values = ("Ünïcode 🙂 & spaces\nline two", ["roberta", "bert"], False, 3, 128, "left")
    opened = link.read(query_of(link.query(*values)))
    assert opened.values == values and opened.notes == ()


def test_a_link_is_opened_only_on_its_own_lesson(lesson):
    link, _ = lesson
    assert link.opened({"tab": "lengths", "texts": "x"})
    assert not link.opened({"tab": "padding", "texts": "x"})  # another tab's link on the tabbed app
    assert not link.opened({"tab": "lengths"})  # the tab alone: the worked example
    assert not link.opened({"texts": "x"})  # the tabbed app needs the tab


def test_on_its_own_page_a_lesson_reads_links_without_a_tab():
    with gr.Blocks() as demo:
        pass
    with demo.route("Lengths", "lengths"):
        link = LessonLink("lengths", {"texts": gr.Textbox("The cat sat.")})
    assert link.query("Another text") == "?texts=Another%20text"
    assert link.opened({"texts": "x"}) and not link.opened({"embed": "1"})


@pytest.mark.parametrize(
    ("field", "text", "takes"),
    [
        ("batch_size", "0", "a whole number from 1 to 1024"),
        ("batch_size", "2.5", "a whole number from 1 to 1024"),
        ("batch_size", "nan", "a whole number from 1 to 1024"),
        ("tokens", "9999", "a whole number from 8 to 512"),
        ("special_tokens", "maybe", "1 or 0"),
        ("side", "middle", "one of right, left"),
        ("tokenizers", "bert,gpt9", "some of bert, roberta, comma-separated"),
    ],
)
def test_a_value_a_field_cannot_take_falls_back_to_its_default_with_a_note(lesson, field, text, takes):
    link, widgets = lesson
    opened = link.read({"tab": "lengths", field: text, "texts": "kept"})
    names = list(widgets)
    assert opened.values[names.index(field)] == widgets[field].value
    assert opened.values[0] == "kept"
    (note,) = opened.notes
    assert f"`{field}`" in note and repr(text) in note and takes in note


def test_inputs_too_long_for_a_link_are_refused_with_the_cap(lesson):
    link, _ = lesson
    with pytest.raises(LinkValueError, match=f"at most {MAX_LINK_CHARS:,}"):
        link.query("x" * MAX_LINK_CHARS, ["bert"], True, 16, 64, "right")
    box, note = link.write("x" * MAX_LINK_CHARS, ["bert"], True, 16, 64, "right")
    assert box["value"] == "" and "shorten the texts" in note["value"]


def test_a_field_may_not_take_a_key_the_app_reads_itself():
    with gr.Blocks(), pytest.raises(ValueError, match="tab"):
        LessonLink("lengths", {"tab": gr.Textbox()})


def test_the_app_knows_each_lessons_link_on_each_page(demo):
    links = {(link.page, link.tab_id) for link in lesson_links(demo)}
    tabs = [tab_id for tab_id, _, _ in TABS]
    assert links == {("", tab_id) for tab_id in tabs} | {(tab_id, tab_id) for tab_id in tabs}


def opening_events(demo, page: str) -> list:
    return [
        event for event in demo.fns.values() if event.page == page and getattr(event.fn, "__name__", "") == "open_link"
    ]


@pytest.mark.parametrize(("tab_id", "api_name"), LESSON_EVENTS.items())
def test_each_lessons_link_restores_the_inputs_of_its_main_event(demo, endpoint, tab_id, api_name):
    inputs = endpoint(api_name).inputs
    restoring = [event for event in opening_events(demo, "") if event.outputs[: len(inputs)] == inputs]
    assert len(restoring) == 1, f"no link restores {api_name}'s inputs"
    assert restoring[0].api_visibility == "private"


def test_every_lesson_has_a_link_on_both_its_pages(demo):
    assert set(LESSON_EVENTS) == {tab_id for tab_id, _, _ in TABS}
    assert len(opening_events(demo, "")) == len(TABS)
    assert all(len(opening_events(demo, tab_id)) == 1 for tab_id, _, _ in TABS)


@pytest.mark.parametrize(("tab_id", "api_name"), LESSON_EVENTS.items())
def test_opening_a_link_runs_its_lesson_once(demo, tab_id, api_name):
    """The link's own event runs the lesson; a `change` trigger on a field it fills would run it a second time."""
    (event,) = [event for event in demo.fns.values() if event.api_name == api_name and event.page == ""]
    filled = {block._id for opening in opening_events(demo, "") for block in opening.outputs}
    again = [(target, trigger) for target, trigger in event.targets if trigger == "change" and target in filled]
    assert event.targets and again == []


def test_a_links_run_may_update_the_fields_it_filled():
    """A run that learns a field's range (a slider's maximum, from the model it loads) updates the field in place."""
    with gr.Blocks():
        tokens, shown = gr.Slider(0, 100_000, 0), gr.Markdown()
        link = LessonLink("longdoc", {"tokens": tokens})

        def run(value):
            return gr.Slider(maximum=510, value=min(value, 510)), f"ran on {value}"

        link.open_on_load(run, [tokens, shown])
    assert link.opening["outputs"] == [tokens._id, link.note._id, shown._id]  # each component once
    request = SimpleNamespace(query_params={"tab": "longdoc", "tokens": "5000"})
    filled, ran = list(link.opening.fn(request))
    assert filled[0] == 5000 and filled[1]["visible"] and is_skip(filled[2])
    assert (ran[0].maximum, ran[0].value) == (510, 510) and is_skip(ran[1]) and ran[2] == "ran on 5000"


def test_an_unset_field_is_written_at_any_value_and_left_to_the_run_when_a_link_leaves_it_out():
    with gr.Blocks():
        tokens, other, shown = gr.Slider(0, 100_000, 0), gr.Slider(0, 10, 0), gr.Markdown()
        link = LessonLink("longdoc", {"tokens": tokens, "other": other}, unset=("tokens",))
        link.open_on_load(lambda value, _: f"ran on {value}", [shown])
    assert link.query(0, 0) == "?tab=longdoc&tokens=0"  # 0 is a choice, not the placeholder it starts at
    assert link.read({"other": "3"}).values == (None, 3)
    opened = link.read({"tokens": "-5"})
    assert opened.values == (None, 0) and "so the lesson chooses it" in opened.notes[0]
    filled, ran = list(link.opening.fn(SimpleNamespace(query_params={"tab": "longdoc", "other": "3"})))
    assert is_skip(filled[0]) and filled[1] == 3  # the placeholder stays until the run sets it
    assert ran[-1] == "ran on None"
    with gr.Blocks(), pytest.raises(ValueError, match="not among the link's fields"):
        LessonLink("longdoc", {"tokens": gr.Slider(0, 10, 0)}, unset=("stride",))


def is_skip(update) -> bool:
    return update == gr.skip()


def test_a_longdoc_link_sets_the_sliders_range_and_the_windows_in_force(demo, store):
    """Opened by a link, tab 4 shows what its worked example would: the limits, the sliders on the model's range."""
    budget = load_pair(store)[SHORT_ROLE].budget
    (link,) = [link for link in lesson_links(demo) if (link.page, link.tab_id) == ("", "longdoc")]
    query = {"tab": "longdoc", "document": "A short review. " * 40, "head_tokens": "5000", "stride": "7"}
    steps = list(link.opening.fn(SimpleNamespace(query_params=query)))
    first, last = (dict(zip(link.opening["outputs"], steps[at], strict=True)) for at in (0, -1))
    fields = {field.name: field.widget._id for field in link.fields}
    limits, _, _, example, _, _, table, *_ = (component._id for component in link.run[1])  # the run's outputs
    assert first[fields["head_tokens"]] == 5000  # the link's value, filled first
    assert (last[fields["head_tokens"]].maximum, last[fields["head_tokens"]].value) == (budget, budget)  # at its end
    assert (last[fields["stride"]].maximum, last[fields["stride"]].value) == (budget - 1, 7)
    assert "Windows in force" in last[limits] and f"({budget:,} of the document" in last[limits]
    assert last[example].value is None  # no example named: the document is the link's
    assert "head + tail" in last[table]  # the results table


def test_a_longdoc_link_without_the_sliders_runs_them_at_a_quarter_of_the_window_as_the_worked_example(demo, store):
    quarter = load_pair(store)[SHORT_ROLE].budget // 4
    (link,) = [link for link in lesson_links(demo) if (link.page, link.tab_id) == ("", "longdoc")]
    steps = list(link.opening.fn(SimpleNamespace(query_params={"tab": "longdoc", "document": "A review. " * 40})))
    fields = {field.name: field.widget._id for field in link.fields}
    first, last = (dict(zip(link.opening["outputs"], steps[at], strict=True)) for at in (0, -1))
    assert is_skip(first[fields["head_tokens"]]) and is_skip(first[fields["stride"]])
    assert last[fields["head_tokens"]].value == quarter and last[fields["stride"]].value == quarter
    table = link.run[1][6]._id
    assert "head + tail" in last[table]  # and the comparison ran on them
