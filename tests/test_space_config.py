"""The Space metadata agrees with what the app really runs."""

import re
from pathlib import Path

import yaml

from seqdemo.models import ROLES

ROOT = Path(__file__).resolve().parents[1]


def load_config() -> dict:
    return yaml.safe_load((ROOT / "spaces_config.yaml").read_text(encoding="utf-8"))


def test_space_sdk_version_is_the_pinned_gradio():
    pinned = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned and load_config()["sdk_version"] == pinned.group(1)


def test_space_runs_this_app_file():
    config = load_config()
    assert config["sdk"] == "gradio" and (ROOT / config["app_file"]).is_file()


def test_every_role_checkpoint_is_preloaded():
    preloaded = set(load_config()["preload_from_hub"])
    assert {role.hub_checkpoint for role in ROLES.values()} <= preloaded
