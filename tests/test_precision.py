"""Precision per lesson: bfloat16 only where the CPU computes it natively, float32 for the mask lesson."""

import platform
from pathlib import Path

import pytest
import torch
from transformers import RobertaConfig, RobertaForMaskedLM

from seqdemo.device import DeviceChoice, pick_device
from seqdemo.precision import answer_precision, cast_model, cpu_has_native_bf16, noise_precision

CPU = pick_device("cpu")


def test_a_cpu_without_native_bf16_answers_in_float32():
    precision = answer_precision(CPU, native_bf16=lambda: False)
    assert precision.dtype == torch.float32
    assert precision.description == "float32 (this CPU has no native bf16)"


def test_a_cpu_with_native_bf16_answers_in_bfloat16():
    precision = answer_precision(CPU, native_bf16=lambda: True)
    assert precision.dtype == torch.bfloat16
    assert precision.name == "bfloat16"
    assert precision.description == "bfloat16 (this CPU has native bf16)"


@pytest.mark.parametrize("native", [True, False])
def test_other_devices_and_chosen_dtypes_are_left_as_they_are(native):
    cuda = DeviceChoice("cuda", torch.float16, "CUDA GPU, float16")
    assert answer_precision(cuda, native_bf16=lambda: native).dtype == torch.float16
    cpu_half = DeviceChoice("cpu", torch.float16, "CPU, float16")
    assert answer_precision(cpu_half, native_bf16=lambda: native).dtype == torch.float16


def test_the_mask_lesson_is_always_float32():
    assert noise_precision().dtype == torch.float32
    assert noise_precision().description == "float32 (this lesson measures float noise)"


@pytest.mark.parametrize(
    ("capabilities", "native"),
    [
        ({"architecture": "x86_64", "avx512_f": True, "avx512_bf16": True, "amx_bf16": True}, True),
        ({"architecture": "x86_64", "avx512_f": True, "avx512_bf16": False, "amx_bf16": True}, True),
        ({"architecture": "x86_64", "avx512_f": True, "avx512_bw": True, "avx512_bf16": False}, False),
        ({"architecture": "x86_64", "avx2": True}, False),
        ({"architecture": "arm64", "neon": True, "bf16": True}, True),
        ({"architecture": "arm64", "neon": True, "bf16": False, "sve": True}, False),
    ],
)
def test_native_bf16_is_read_from_the_cpu_capabilities(capabilities, native):
    assert cpu_has_native_bf16(capabilities) is native


@pytest.mark.skipif(
    platform.machine() != "x86_64" or not Path("/proc/cpuinfo").exists(), reason="reads Linux x86 flags"
)
def test_detection_agrees_with_the_kernels_cpu_flags():
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    assert cpu_has_native_bf16() == bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def tiny_tied_model() -> RobertaForMaskedLM:
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    return RobertaForMaskedLM(config).eval()


def test_cast_model_converts_a_copy_and_leaves_the_original_float32():
    model = tiny_tied_model()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    copy = cast_model(model, answer_precision(CPU, native_bf16=lambda: True))
    assert copy is not model
    assert {p.dtype for p in copy.parameters()} == {torch.bfloat16}
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert copy.lm_head.decoder.weight is copy.roberta.embeddings.word_embeddings.weight  # still tied
    assert copy.roberta.embeddings.position_ids.dtype == torch.long  # integer buffers stay
    for name, tensor in copy.state_dict().items():
        assert torch.equal(tensor, before[name].to(tensor.dtype))


def test_cast_model_returns_the_model_itself_when_it_already_has_the_dtype():
    model = tiny_tied_model()
    assert cast_model(model, noise_precision()) is model
    assert cast_model(model, answer_precision(CPU, native_bf16=lambda: False)) is model
    half = cast_model(model, answer_precision(CPU, native_bf16=lambda: True))
    assert {p.dtype for p in cast_model(half, noise_precision()).parameters()} == {torch.float32}
