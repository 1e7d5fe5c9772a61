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


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def checkpoint_env_var(role: str) -> str:
    """The variable overriding a role's Hub checkpoint: `short-classifier` -> SEQDEMO_CHECKPOINT_SHORT_CLASSIFIER."""
    return "SEQDEMO_CHECKPOINT_" + role.upper().replace("-", "_")


def labels_env_var(role: str) -> str:
    """The variable that overrides a role's label names (comma separated, in label-id order)."""
    return "SEQDEMO_LABELS_" + role.upper().replace("-", "_")


@dataclass(frozen=True)
class Settings:
    """The process's configuration. `models` is one of MODEL_MODES; `device` None means automatic.

    `parts_dir` caches the kit's fetched real parts, shared by every kit folder (`kit_dir`).
    """

    models: str = "auto"
    hub_offline: bool = False
    device: str | None = None
    dtype: str | None = None
    kit_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "seqdemo" / "offline-kit")
    parts_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "seqdemo" / "parts")
    hub_endpoint: str = "https://huggingface.co"
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
            hub_offline=_truthy(env.get("HF_HUB_OFFLINE")),
            device=env.get("SEQDEMO_DEVICE") or None,
            dtype=env.get("SEQDEMO_DTYPE") or None,
            kit_dir=Path(env.get("SEQDEMO_KIT_DIR") or cache_home / "seqdemo" / "offline-kit"),
            parts_dir=Path(env.get("SEQDEMO_PARTS_DIR") or cache_home / "seqdemo" / "parts"),
            hub_endpoint=(env.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/"),
            environ={k: v for k, v in env.items() if k.startswith(("SEQDEMO_CHECKPOINT_", "SEQDEMO_LABELS_"))},
        )

    def checkpoint_override(self, role: str) -> str | None:
        return self.environ.get(checkpoint_env_var(role)) or None

    def labels_override(self, role: str) -> tuple[str, ...] | None:
        raw = self.environ.get(labels_env_var(role))
        return tuple(label.strip() for label in raw.split(",")) if raw else None
