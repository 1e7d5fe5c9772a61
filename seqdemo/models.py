"""Models by role, from the Hub or from the offline kit, loaded once per process.

A role (`bert`, `roberta`, `longformer`, ...) names what a model is for; each maps to a
Hub checkpoint and to an offline-kit counterpart of the same family. Where the models come
from is decided once: `hub`, `offline`, or `auto`, which asks the Hub for at most a few
seconds (an unreachable Hub otherwise costs a minute of retries on every load).
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedTokenizerBase,
)

from seqdemo.device import DeviceChoice, pick_device
from seqdemo.errors import ModelLoadError
from seqdemo.offline import KitDescription, describe_kit, ensure_kit
from seqdemo.settings import Settings, checkpoint_env_var, labels_env_var

HUB_PROBE_TIMEOUT_S = 3.0
# transformers' from_pretrained patches process-wide state while it builds a model (torch's default dtype,
# PreTrainedModel.tie_weights switched off): two at once can leave weight tying off for the process. So
# models are built one at a time, in whichever thread loads them (a slow download holds up other loads).
_BUILDING = threading.Lock()


@dataclass(frozen=True)
class Role:
    """What a model is for, and where to find it online and offline.

    `family` is the architecture family (bert / roberta / longformer / gpt2), which fixes
    the special tokens, pad id and how position ids are built. `label_names` name a
    classifier's labels in id order where the Hub checkpoint's own names say little
    (`LABEL_0`, `LABEL_1`); empty means the checkpoint's `id2label`.
    """

    name: str
    family: str
    hub_checkpoint: str
    kit_checkpoint: str
    summary: str
    model_class: Any = AutoModel
    label_names: tuple[str, ...] = ()


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("bert", "bert", "bert-base-uncased", "bert", "BERT · WordPiece, uncased · 512 tokens"),
        Role("roberta", "roberta", "roberta-base", "roberta", "RoBERTa · byte-level BPE · 512 tokens"),
        Role(
            "longformer",
            "longformer",
            "allenai/longformer-base-4096",
            "longformer",
            "Longformer · RoBERTa's byte-level BPE · 4096 tokens",
        ),
        Role(
            "decoder",
            "gpt2",
            "gpt2",
            "decoder",
            "GPT-2 · byte-level BPE · decoder-only, for generation · 1024 tokens",
            model_class=AutoModelForCausalLM,
        ),
        # The long-documents showdown: the same task (IMDB sentiment) and labels, 512 vs 4096 tokens.
        Role(
            "short-classifier",
            "roberta",
            "textattack/roberta-base-imdb",
            "short-classifier",
            "RoBERTa-base fine-tuned on IMDB sentiment · 512 tokens",
            model_class=AutoModelForSequenceClassification,
            label_names=("negative", "positive"),
        ),
        Role(
            "long-classifier",
            "longformer",
            "knguyennguyen/my_awesome_model",
            "long-classifier",
            "Longformer-base-4096 fine-tuned on IMDB sentiment · 4096 tokens",
            model_class=AutoModelForSequenceClassification,
            label_names=("negative", "positive"),
        ),
    )
}


# The three encoders the lessons compare side by side, in the order they are shown.
ENCODER_ROLES = ("bert", "roberta", "longformer")


def get_role(name: str) -> Role:
    """The registry entry for `name`; a ValueError listing the known roles otherwise."""
    try:
        return ROLES[name]
    except KeyError:
        raise ValueError(f"Unknown model role {name!r}: choose one of {', '.join(ROLES)}.") from None


@dataclass(frozen=True)
class ModelSource:
    """Where checkpoints come from (`hub` or `offline`) and why, in words for the header."""

    mode: str
    reason: str

    @property
    def label(self) -> str:
        kind = "Hugging Face Hub checkpoints" if self.mode == "hub" else "offline kit"
        return f"{kind}: {self.reason}"


def probe_hub(endpoint: str, timeout_s: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """True when `endpoint` answers an HTTP request within `timeout_s` seconds.

    The request runs in a daemon thread so that a DNS lookup that ignores socket
    timeouts cannot hold the caller past the deadline.
    """
    answered = threading.Event()

    def ask() -> None:
        try:
            request = urllib.request.Request(endpoint + "/api/models?limit=1", method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout_s):  # closed at once: only the answer counts
                answered.set()
        except urllib.error.HTTPError as err:  # an HTTP answer, even an error, means the Hub is there
            err.close()
            if err.code < 500:
                answered.set()
        except (OSError, ValueError):
            pass

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return answered.is_set()


def prefetch_weights(checkpoint: str) -> None:
    """Download a Hub checkpoint's config and weights into the local cache, as `from_pretrained` would.

    The first weight file the repository has (safetensors, its shard index, PyTorch's) is fetched;
    a local folder, an offline Hub cache or any other failure leaves the work to `from_pretrained`,
    which reports it.
    """
    if Path(checkpoint).is_dir():
        return
    try:
        hf_hub_download(checkpoint, "config.json")
        for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"):
            try:
                hf_hub_download(checkpoint, name)
                return
            except EntryNotFoundError:
                continue
    except Exception:  # noqa: BLE001 (from_pretrained tries again and says what went wrong)
        return


def decide_source(settings: Settings, probe: Callable[[str], bool] = probe_hub) -> ModelSource:
    """Decide hub or offline from the settings, probing the Hub only in `auto` mode."""
    if settings.models == "offline":
        return ModelSource("offline", "SEQDEMO_MODELS=offline")
    if settings.hub_offline:
        if settings.models == "hub":
            raise ValueError("SEQDEMO_MODELS=hub contradicts HF_HUB_OFFLINE=1: unset one of them.")
        return ModelSource("offline", "HF_HUB_OFFLINE=1")
    if settings.models == "hub":
        return ModelSource("hub", "SEQDEMO_MODELS=hub")
    if probe(settings.hub_endpoint):
        return ModelSource("hub", f"{settings.hub_endpoint} reachable")
    return ModelSource("offline", "Hugging Face Hub not reachable")


class ModelStore:
    """Loads tokenizers and models for roles from one source, each at most once.

    `checkpoint(role)` is the Hub id or kit folder; `tokenizer(role)` and `model(role)`
    return cached objects, so a second request for the same role never reloads. Models
    are placed on `device` in its dtype.

    Each load runs in a thread of its own, so a slow download holds up only the requests that
    need it. From the Hub a request waits `settings.hub_timeout_s` at most, then gets a
    `ModelLoadError` while the download carries on; a load that failed is forgotten, so a later
    request tries again.

    A fast tokenizer is not thread-safe: each call rewrites its padding and truncation
    state before encoding. So each thread gets its own copy of the loaded tokenizer.
    """

    def __init__(self, source: ModelSource, settings: Settings, device: DeviceChoice | None = None) -> None:
        self.source = source
        self.settings = settings
        self.device = device or pick_device(settings.device, settings.dtype)
        self._lock = threading.RLock()
        self._loads: dict[tuple[str, str, str | None], concurrent.futures.Future] = {}
        self._thread_tokenizers = threading.local()
        self._kit: Path | None = None
        self._kit_description: KitDescription | None = None

    def kit_dir(self) -> Path:
        with self._lock:
            if self._kit is None:
                self._kit = ensure_kit(self.settings.kit_dir, self.settings.parts_dir)
            return self._kit

    def kit_description(self) -> KitDescription | None:
        """Which offline kit runs (real parts or the fallback) and what each of its checkpoints is; None on the Hub.

        Read from the kit's manifest once: the store's kit is built once, and requests ask for it.
        """
        if self.source.mode == "hub":
            return None
        kit = self.kit_dir()
        with self._lock:
            if self._kit_description is None:
                self._kit_description = describe_kit(kit)
            return self._kit_description

    def offline_phrase(self, role: str) -> str | None:
        """What the role's offline checkpoint is, in a phrase; None on the Hub."""
        description = self.kit_description()
        return None if description is None else description.phrase(get_role(role).kit_checkpoint)

    def untrained(self, role: str) -> bool:
        """Whether the role's model has seeded, not learned, weights (the offline kit's small models but MiniLM)."""
        description = self.kit_description()
        return description is not None and get_role(role).kit_checkpoint in description.untrained

    def checkpoint(self, role: str) -> str:
        entry = get_role(role)
        if self.source.mode == "hub":
            return self.settings.checkpoint_override(role) or entry.hub_checkpoint
        return str(self.kit_dir() / entry.kit_checkpoint)

    def tokenizer(self, role: str) -> PreTrainedTokenizerBase:
        """The role's tokenizer for the calling thread (loaded once, copied per thread)."""
        mine = self._thread_tokenizers.__dict__
        if role not in mine:
            load = functools.partial(AutoTokenizer.from_pretrained, self.checkpoint(role))
            loaded = self._loaded(("tokenizer", role, None), load)
            with self._lock:
                mine[role] = copy.deepcopy(loaded)
        return mine[role]

    def label_names(self, role: str, config: Any = None) -> tuple[str, ...]:
        """A classifier role's label names in label-id order.

        On the Hub: `SEQDEMO_LABELS_<ROLE>` if set, else the registry's names unless the checkpoint
        itself was swapped; otherwise (and in the offline kit) the model config's `id2label`.
        `config` is the role's model config when the caller holds the model (in another dtype).
        """
        config = config or self.model(role).config
        names: tuple[str, ...] = tuple(config.id2label[i] for i in range(config.num_labels))
        if self.source.mode == "hub":
            registry = () if self.settings.checkpoint_override(role) else get_role(role).label_names
            names = self.settings.labels_override(role) or registry or names
        if len(names) != config.num_labels:
            raise ValueError(
                f"{labels_env_var(role)} names {len(names)} labels, but {self.checkpoint(role)} has "
                f"{config.num_labels}: give one name per label, comma separated, in label-id order."
            )
        return names

    def model(self, role: str, attn_implementation: str | None = None, dtype: torch.dtype | None = None) -> Any:
        """The role's model in eval mode; `attn_implementation="eager"` gives attention weights.

        `dtype` defaults to the device's; another (a lesson's precision, `seqdemo.precision`) converts the
        loaded weights in place, cached apart, so no float32 copy is kept that nobody uses.
        """
        dtype = dtype or self.device.dtype
        variant = attn_implementation
        if dtype != self.device.dtype:
            variant = f"{attn_implementation or 'default attention'}, {str(dtype).removeprefix('torch.')}"

        def load() -> Any:
            kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
            checkpoint = self.checkpoint(role)
            if self.source.mode == "hub":
                prefetch_weights(checkpoint)  # outside the build lock: a slow download holds up no other load
            with _BUILDING:
                model = get_role(role).model_class.from_pretrained(checkpoint, **kwargs)
            return model.to(self.device.device, dtype).eval()

        return self._loaded(("model", role, variant), load)

    def _loaded(self, key: tuple[str, str, str | None], load: Callable[[], Any]) -> Any:
        """What `load()` returns for `key` (kind, role, variant), loaded once by whichever request asks first."""
        with self._lock:
            pending = self._loads.get(key)
            if pending is None or (pending.done() and pending.exception() is not None):
                pending = self._loads[key] = concurrent.futures.Future()
                threading.Thread(target=_settle, args=(pending, load), name=f"load-{key[1]}", daemon=True).start()
        if self.source.mode != "hub":
            return pending.result()
        try:
            return pending.result(timeout=self.settings.hub_timeout_s)
        except concurrent.futures.TimeoutError:
            wait = self.settings.hub_timeout_s
            problem = f"did not arrive within {wait:g} s (the Hub is slow, failing or not answering)"
            raise ModelLoadError(self._load_failure(key, problem)) from None
        except Exception as err:
            raise ModelLoadError(self._load_failure(key, f"failed: {_root_cause(err)}")) from err

    def _load_failure(self, key: tuple[str, str, str | None], problem: str) -> str:
        kind, role, _ = key
        checkpoint, advice = self.checkpoint(role), "Try again in a minute"
        if self.settings.checkpoint_override(role):
            checkpoint += f", set by {checkpoint_env_var(role)}"
            advice = f"Check {checkpoint_env_var(role)}, try again in a minute"
        return (
            f"The {role} {kind} ({checkpoint}) could not be loaded from the Hugging Face Hub at "
            f"{self.settings.hub_endpoint}: the download {problem}. {advice}, or start the app with "
            "SEQDEMO_MODELS=offline to use the offline kit."
        )


def _settle(future: concurrent.futures.Future, load: Callable[[], Any]) -> None:
    try:
        future.set_result(load())
    except BaseException as err:  # handed to every request waiting on this load
        future.set_exception(err)


def _root_cause(err: BaseException) -> str:
    """What went wrong under `err`, in one line: the Hub's HTTP answer if it gave one, else the innermost error."""
    chain = [err]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(inner)
    for error in chain:
        response = getattr(error, "response", None)
        if isinstance(getattr(response, "status_code", None), int):
            return f"the Hub answered HTTP {response.status_code} for {response.url}"
    message = str(chain[-1]).strip().splitlines()
    return f"{type(chain[-1]).__name__}: {message[0].rstrip('.') if message else 'no message'}"


@cache
def default_store() -> ModelStore:
    """The process-wide store, configured from the environment on first use."""
    settings = Settings.from_env()
    return ModelStore(decide_source(settings), settings)
