"""Device choice: every branch runs on a CPU machine by substituting the availability checks."""

import pytest
import torch

from seqdemo.device import pick_device


def fake(value: bool):
    return lambda: value


def choose(requested=None, dtype=None, *, cuda: bool, mps: bool):
    return pick_device(
        requested, dtype, cuda_available=fake(cuda), mps_available=fake(mps), describe=lambda d, t: f"{d} {t}"
    )


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_automatic_choice_prefers_cuda_then_mps_then_cpu(cuda, mps, expected):
    assert choose(cuda=cuda, mps=mps).device == expected


@pytest.mark.parametrize("device", ["cuda", "mps", "cpu"])
def test_every_device_runs_in_float32_unless_told_otherwise(device):
    # A promise, not an echo of the module: the mask lesson measures float noise of about 1e-6,
    # which half precision would drown. A float16 default on CUDA must fail here.
    assert choose(device, cuda=True, mps=True).dtype == torch.float32


def test_requested_device_is_honoured_even_when_a_better_one_exists():
    assert choose("cpu", cuda=True, mps=True).device == "cpu"
    assert choose("cuda:1", cuda=True, mps=False).device == "cuda:1"


def test_unavailable_requested_device_is_an_error_not_a_fallback():
    with pytest.raises(RuntimeError, match="not available"):
        choose("cuda", cuda=False, mps=True)
    with pytest.raises(RuntimeError, match="not available"):
        choose("mps", cuda=True, mps=False)


def test_unknown_device_or_dtype_names_the_choices():
    with pytest.raises(ValueError, match="cuda, mps, cpu"):
        choose("tpu", cuda=False, mps=False)
    with pytest.raises(ValueError, match="float32"):
        choose(None, "float8", cuda=False, mps=False)


def test_dtype_override_applies_to_the_chosen_device():
    choice = choose(None, "bfloat16", cuda=False, mps=False)
    assert (choice.device, choice.dtype, choice.dtype_name) == ("cpu", torch.bfloat16, "bfloat16")


def test_description_of_this_machine_names_device_and_dtype():
    choice = pick_device("cpu")
    assert "CPU" in choice.description and "float32" in choice.description
