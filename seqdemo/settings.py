"""Everything seqdemo reads from the environment, read in one place.

Backend modules take these values as arguments; only `Settings.from_env` looks at
`os.environ`, so tests and notebooks can build a `Settings` by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MODEL_MODES = ("auto", "hub", "offline")
# How long a request waits for a model or tokenizer from the Hub before it is told why not (seconds).
# huggingface_hub's own limits (HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT, 10 s each, read when it
# is imported) are per HTTP request, and its retries multiply them (5 backoff retries, 23 s, on a 5xx;
# 5 resumes, about a minute, on a stalled file), so seqdemo bounds the wait itself and leaves them be.
HUB_TIMEOUT_S = 10.0
# Gradio's cache (uploads, and every file the app hands a page) is swept every CACHE_SWEEP_S seconds of files older than
# CACHE_MAX_AGE_S: an hour is longer than a visit, so a page's download links keep working while it is read, and short
# enough that a busy Space holds an hour of files, not weeks of them.
CACHE_MAX_AGE_S = 3600.0
CACHE_SWEEP_S = 300.0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ValueError(f"{name}={raw!r} is not a number of seconds above 0.")
    return value


def checkpoint_env_var(role: str) -> str:
    """The variable overriding a role's Hub checkpoint: `short-classifier` -> SEQDEMO_CHECKPOINT_SHORT_CLASSIFIER."""
    return "SEQDEMO_CHECKPOINT_" + role.upper().replace("-", "_")


def labels_env_var(role: str) -> str:
    """The variable that overrides a role's label names (comma separated, in label-id order)."""
    return "SEQDEMO_LABELS_" + role.upper().replace("-", "_")


@dataclass(frozen=True)
class Settings:
    """The process's configuration. `models` is one of MODEL_MODES; `device` None means automatic.

    `hub_token` (HF_TOKEN) is only for pushing the Space; it is kept out of the repr.
    `result_cache` (SEQDEMO_RESULT_CACHE, on unless 0/false/off) replays identical requests.
    `hub_timeout_s` (SEQDEMO_HUB_TIMEOUT) is how long a request waits for a load from the Hub.
    `parts_dir` caches the kit's fetched real parts, shared by every kit folder (`kit_dir`).
    Every `cache_sweep_s` (SEQDEMO_CACHE_SWEEP) seconds, the app's files in Gradio's cache older than
    `cache_max_age_s` (SEQDEMO_CACHE_MAX_AGE) are deleted.
    """

    models: str = "auto"
    hub_offline: bool = False
    device: str | None = None
    dtype: str | None = None
    kit_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "seqdemo" / "offline-kit")
    parts_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "seqdemo" / "parts")
    hub_endpoint: str = "https://huggingface.co"
    hub_token: str | None = field(default=None, repr=False)
    result_cache: bool = True
    hub_timeout_s: float = HUB_TIMEOUT_S
    cache_max_age_s: float = CACHE_MAX_AGE_S
    cache_sweep_s: float = CACHE_SWEEP_S
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        models = env.get("SEQDEMO_MODELS", "auto").strip().lower() or "auto"
        if models not in MODEL_MODES:
            raise ValueError(f"SEQDEMO_MODELS={models!r} is not one of {', '.join(MODEL_MODES)}.")
        cache_home = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cls(
            models=models,
            # huggingface_hub's own rule: TRANSFORMERS_OFFLINE counts when HF_HUB_OFFLINE is not set.
            hub_offline=_truthy(env.get("HF_HUB_OFFLINE") or env.get("TRANSFORMERS_OFFLINE")),
            device=env.get("SEQDEMO_DEVICE") or None,
            dtype=env.get("SEQDEMO_DTYPE") or None,
            kit_dir=Path(env.get("SEQDEMO_KIT_DIR") or cache_home / "seqdemo" / "offline-kit"),
            parts_dir=Path(env.get("SEQDEMO_PARTS_DIR") or cache_home / "seqdemo" / "parts"),
            hub_endpoint=(env.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/"),
            hub_token=env.get("HF_TOKEN") or None,
            result_cache=(env.get("SEQDEMO_RESULT_CACHE") or "1").strip().lower() not in {"0", "false", "no", "off"},
            hub_timeout_s=_seconds(env, "SEQDEMO_HUB_TIMEOUT", HUB_TIMEOUT_S),
            cache_max_age_s=_seconds(env, "SEQDEMO_CACHE_MAX_AGE", CACHE_MAX_AGE_S),
            cache_sweep_s=_seconds(env, "SEQDEMO_CACHE_SWEEP", CACHE_SWEEP_S),
            environ={k: v for k, v in env.items() if k.startswith(("SEQDEMO_CHECKPOINT_", "SEQDEMO_LABELS_"))},
        )

    def checkpoint_override(self, role: str) -> str | None:
        return self.environ.get(checkpoint_env_var(role)) or None

    def labels_override(self, role: str) -> tuple[str, ...] | None:
        raw = self.environ.get(labels_env_var(role))
        return tuple(label.strip() for label in raw.split(",")) if raw else None
