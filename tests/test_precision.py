"""Precision per lesson: bfloat16 only where the CPU computes it natively, else int8 linear layers over
float32 where the CPU has an int8 engine, float32 for the mask lesson."""

import platform
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
from transformers import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification

from seqdemo.device import DeviceChoice, pick_device
from seqdemo.precision import (
    answer_precision,
    cast_model,
    cpu_has_native_bf16,
    cpu_runs_int8,
    int8_copy,
    noise_precision,
)

CPU = pick_device("cpu")


def test_a_cpu_without_native_bf16_or_an_int8_engine_answers_in_float32():
    precision = answer_precision(CPU, native_bf16=lambda: False, int8=lambda: False)
    assert precision.dtype == torch.float32 and not precision.int8_linears
    assert precision.description == "float32 (this CPU has no native bf16)"


def test_a_cpu_without_native_bf16_never_runs_bfloat16_and_uses_its_int8_engine():
    precision = answer_precision(CPU, native_bf16=lambda: False, int8=lambda: True)
    assert precision.dtype == torch.float32  # activations: bfloat16 would be emulated, slower than float32
    assert precision.int8_linears
    assert precision.name == "float32 + int8 linears"
    assert precision.description == "float32 with int8 linear layers (this CPU has no native bf16)"


def test_native_bf16_comes_before_int8():
    precision = answer_precision(CPU, native_bf16=lambda: True, int8=lambda: True)
    assert precision.dtype == torch.bfloat16 and not precision.int8_linears


@pytest.mark.parametrize(
    ("capabilities", "engines", "runs"),
    [
        ({"architecture": "x86_64", "avx2": True}, ["qnnpack", "onednn", "x86", "fbgemm"], True),
        ({"architecture": "x86_64", "avx2": False}, ["qnnpack", "onednn", "x86", "fbgemm"], False),
        ({"architecture": "x86_64", "avx2": True}, ["none"], False),
        ({"architecture": "arm64", "neon": True}, ["qnnpack"], True),
    ],
)
def test_an_int8_engine_counts_only_where_the_cpu_runs_it(capabilities, engines, runs):
    assert cpu_runs_int8(capabilities, engines) is runs


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


def test_int8_copy_quantizes_the_linear_layers_of_a_copy_and_answers_close_to_float32():
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    model = RobertaForSequenceClassification(config).eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    converted = int8_copy(model, keep=("classifier.out_proj",))
    linears = {name for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    int8 = {name: isinstance(module, DynamicQuantizedLinear) for name, module in converted.named_modules()}
    assert not int8.pop("classifier.out_proj")
    assert linears - {"classifier.out_proj"} == {name for name, is_int8 in int8.items() if is_int8}
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert converted.roberta.embeddings.word_embeddings.weight is model.roberta.embeddings.word_embeddings.weight
    ids = torch.randint(3, 50, (2, 12))
    with torch.inference_mode():
        expected = model(input_ids=ids).logits.softmax(-1)
        got = converted(input_ids=ids).logits.softmax(-1)
    assert 0 < (got - expected).abs().max() <= 0.01  # int8 changes the answer, by less than the lesson's tolerance
