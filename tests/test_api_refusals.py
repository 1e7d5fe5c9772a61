"""The running app refuses bad input over HTTP in one sentence naming the field, and keeps serving.

Every number, slider and choice input of every public endpoint is sent a value outside what it
takes; every text input of the nine text endpoints is sent a lone surrogate as raw JSON (a client
library cannot even encode one); every endpoint is called with the values its own `view_api`
documents. After each refusal a normal request still gets its answer.
"""

from __future__ import annotations

import re

import pytest
from gradio_http import raw_call

from seqdemo.ui import widgets

pytestmark = pytest.mark.e2e

gradio_client = pytest.importorskip("gradio_client")

NUMBERS = (widgets.Number, widgets.Slider)
CHOICES = (widgets.Dropdown, widgets.Radio, widgets.CheckboxGroup)
TEXT_ENDPOINTS = (
    "/measure_lengths",
    "/measure_lengths_charts",
    "/padding_compare",
    "/padding_compare_charts",
    "/mask_proof",
    "/mask_proof_encoder",
    "/mask_proof_charts",
    "/mask_generation",
    "/key_mask",
    "/key_mask_chart",
    "/compare_strategies",
    "/compare_strategies_charts",
    "/needle_sweep",
    "/needle_sweep_charts",
    "/attention_maps",
    "/batching_compare",
    "/batching_throughput",
)
SURROGATE = "abc\ud800def"


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def api(client):
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


@pytest.fixture(scope="module")
def events(demo):
    """api name ("/x") -> the event's input components, for every public endpoint."""
    return {f"/{fn.api_name}": fn.inputs for fn in demo.fns.values() if fn.api_name and fn.api_visibility == "public"}


def defaults(api: dict, api_name: str) -> list:
    return [parameter.get("parameter_default") for parameter in api[api_name]["parameters"]]


def still_serving(client, bert_tokenizer) -> None:
    summary = client.predict("still serving", ["bert"], True, api_name="/measure_lengths")[0]
    assert f"{len(bert_tokenizer('still serving')['input_ids'])}" in summary


def out_of_range(component) -> object:
    """A value `component` must refuse: below its minimum (or not a number), or not one of its choices."""
    if isinstance(component, NUMBERS):
        return component.minimum - 1 if component.minimum is not None else "abc"
    return ["no such choice"] if isinstance(component, widgets.CheckboxGroup) else "no such choice"


def bad_values(events) -> list[tuple[str, int, str]]:
    """(endpoint, input index, the field's label) for every checked number and choice input of every endpoint."""
    cases = []
    for api_name, inputs in sorted(events.items()):
        for index, component in enumerate(inputs):
            if isinstance(component, NUMBERS + CHOICES) and not getattr(component, "allow_custom_value", False):
                cases.append((api_name, index, widgets.field_name(component)))
    return cases


def test_every_number_and_choice_input_out_of_range_is_refused_naming_its_field(
    app_url, api, events, client, bert_tokenizer
):
    cases = bad_values(events)
    assert len(cases) >= 39  # every tab: the issue found 39 such refusals that named no field
    refused = {}
    for api_name, index, label in cases:
        data = defaults(api, api_name)
        data[index] = out_of_range(events[api_name][index])
        event, payload = raw_call(app_url, api_name, data)
        refused[(api_name, label)] = (event, payload["error"] if isinstance(payload, dict) else payload)
    wrong = {
        case: answer
        for case, answer in refused.items()
        if answer[0] != "error" or not str(answer[1]).startswith(f"“{case[1]}” takes ")
    }
    assert wrong == {}
    still_serving(client, bert_tokenizer)


def test_every_text_field_of_the_nine_text_endpoints_refuses_a_lone_surrogate(
    app_url, api, events, client, bert_tokenizer
):
    answers = {}
    for api_name in TEXT_ENDPOINTS:
        for index, component in enumerate(events[api_name]):
            if isinstance(component, widgets.Textbox):
                data = defaults(api, api_name)
                data[index] = SURROGATE
                answers[(api_name, component.label)] = raw_call(app_url, api_name, data)
    assert len({api_name for api_name, _ in answers}) == len(TEXT_ENDPOINTS)
    for (api_name, label), (event, payload) in answers.items():
        assert event == "error", (api_name, label)
        assert payload["error"] == (
            f"{label}: character 4 is U+D800, half of a surrogate pair without its other half, which is not a "
            "character; delete it or copy the text again from its source."
        )
    still_serving(client, bert_tokenizer)


def documented(parameter: dict) -> object:
    """The value `view_api` documents for a parameter: its default, as the documented type says it."""
    literal = re.fullmatch(r"Literal\[(.*)\]", parameter["python_type"]["type"])
    default = parameter.get("parameter_default")
    if literal and default is not None:
        return str(default) if literal.group(1).startswith("'") else default
    return default


def test_every_endpoint_takes_the_values_its_view_api_documents(app_url, api, client, bert_tokenizer):
    """`example` of /key_mask and /mask_proof is documented as Literal['0', …]: '0' must be taken, and 0 still."""
    assert api["/key_mask"]["parameters"][2]["python_type"]["type"].startswith("Literal['0'")
    refused = {}
    for api_name, endpoint in api.items():
        if any(parameter["component"] in ("File", "Uploadbutton", "State") for parameter in endpoint["parameters"]):
            continue  # files are sent as files (test_api.py); state is the server's own
        event, payload = raw_call(app_url, api_name, [documented(p) for p in endpoint["parameters"]])
        message = str(payload.get("error")) if event == "error" and isinstance(payload, dict) else ""
        if event == "error" and ("takes" in message or "Something went wrong" in message or message == "None"):
            refused[api_name] = message
    assert refused == {}
    figure, files = client.predict("a text\nanother text", "roberta", 0, api_name="/key_mask")  # an int, as before
    assert figure.endswith(".png")
    still_serving(client, bert_tokenizer)


def test_a_layer_that_is_not_a_number_is_refused_naming_the_field(app_url, api):
    data = defaults(api, "/attention_maps")
    layer = [p["label"] for p in api["/attention_maps"]["parameters"]].index("Layer")
    data[layer] = "abc"
    assert raw_call(app_url, "/attention_maps", data) == (
        "error",
        {
            "error": "“Layer” takes a whole number of at least 1; 'abc' is not one.",
            "duration": 10,
            "visible": True,
            "title": "Error",
        },
    )


def with_values(api: dict, api_name: str, by_label: dict) -> list:
    """The endpoint's defaults with the parameters of the given labels replaced."""
    labels = [parameter["label"] for parameter in api[api_name]["parameters"]]
    data = defaults(api, api_name)
    for label, value in by_label.items():
        data[labels.index(label)] = value
    return data


@pytest.mark.parametrize(
    ("api_name", "values", "message"),
    [
        ("/attention_maps", {"Layer": 99}, r"^Layer 99 is out of range for this \w+ model: choose 1 to \d+\.$"),
        ("/attention_maps", {"Head": 99}, r"^Head 99 is out of range for this \w+ model: choose 1 to \d+\.$"),
        ("/attention_maps", {"Text": 9}, r"^Text 9 is out of range for this batch: choose 1 to 2\.$"),
        ("/attention_maps", {"First token": 9999}, r"^First token 9999 is out of range .*: choose 0 to \d+\.$"),
        ("/attention_maps", {"Query token (bar chart)": 9999}, r"^Query token 9999 is out of range"),
        ("/batching_compare", {"max_length": 99_999}, r"^max_length must be between \d+ and the model's maximum"),
        (
            "/batching_compare",
            {"max_tokens (budget)": 0},
            r"^“max_tokens \(budget\)” takes a whole number of at least 1",
        ),
        (
            "/compare_strategies",
            {"Document": "A text.", "head + tail: tokens from the head (rest from the tail)": 9999},
            r"^The head takes 9,999 tokens; choose 0 to \d+ \(the window's size\)\.$",
        ),
        (
            "/compare_strategies",
            {"Document": "A text.", "sliding windows: stride (tokens neighbouring windows share)": 9999},
            r"^stride is 9,999; it must be at least 0 and smaller than the window \(\d+\)\.$",
        ),
    ],
)
def test_numbers_bounded_by_the_model_name_their_field_and_range(
    app_url, api, client, bert_tokenizer, api_name, values, message
):
    event, payload = raw_call(app_url, api_name, with_values(api, api_name, values))
    assert event == "error" and re.search(message, payload["error"]), payload
    still_serving(client, bert_tokenizer)


def test_an_invalid_padding_number_is_reported_in_its_configurations_panel(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/padding_compare"]
    data = [parameter.get("parameter_default") for parameter in api["parameters"]]
    data[5] = "0"  # configuration A's max_length box
    panel_a, panel_b, *_ = client.predict(*data, api_name="/padding_compare")
    assert "max_length=0 is not a length: give a positive number of tokens." in panel_a
    assert "input_ids" in panel_b  # the other configurations still render
