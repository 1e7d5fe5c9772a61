"""Build, check and push the Hugging Face Space from `spaces_config.yaml`.

`python -m seqdemo.space --dry-run` assembles the bundle (app, package, requirements and a
README whose front matter is rendered from the config), validates it and lists it;
`--push OWNER/NAME` with `HF_TOKEN` set also creates the Space if missing and uploads it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from seqdemo.models import ROLES
from seqdemo.plots.fonts import FONT_PACKAGES
from seqdemo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_FILES = ("app.py", "requirements.txt", "packages.txt")  # packages.txt: Debian packages, the fonts
BUNDLE_PACKAGES = ("seqdemo",)
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


@dataclass(frozen=True)
class Bundle:
    """An assembled Space folder and the files in it, relative to the folder."""

    folder: Path
    files: tuple[str, ...]


def load_config(path: Path) -> dict:
    """The Space metadata; raises ValueError when the file is missing or not a YAML mapping."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"Cannot read {path.name}: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path.name} must be a YAML mapping of Space settings.")
    return config


def render_readme(config: dict, body: str) -> str:
    """The Space's README: YAML front matter from `config`, then `body` (its own front matter dropped)."""
    front = yaml.safe_dump(config, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{front}\n---\n\n{FRONT_MATTER.sub('', body).lstrip()}"


def assemble_bundle(root: Path, config: dict, out_dir: Path) -> Bundle:
    """Copy what the Space needs from `root` into `out_dir`, with the rendered README."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out_dir / name)
    for package in BUNDLE_PACKAGES:
        shutil.copytree(root / package, out_dir / package, ignore=SKIPPED, dirs_exist_ok=True)
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").is_file() else ""
    (out_dir / "README.md").write_text(render_readme(config, readme), encoding="utf-8")
    files = tuple(sorted(str(path.relative_to(out_dir)) for path in out_dir.rglob("*") if path.is_file()))
    return Bundle(out_dir, files)


def validate_bundle(bundle: Bundle, checkpoints: set[str]) -> list[str]:
    """Problems that would break the Space, as sentences; an empty list means ready to push."""
    readme = (bundle.folder / "README.md").read_text(encoding="utf-8")
    match = FRONT_MATTER.match(readme)
    try:
        front = yaml.safe_load(match.group(1)) if match else None
    except yaml.YAMLError:
        front = None
    if not isinstance(front, dict):
        return ["README.md front matter does not parse as YAML."]
    problems = []
    for key in ("title", "sdk", "sdk_version", "app_file"):
        if not front.get(key):
            problems.append(f"Front matter lacks `{key}`.")
    app_file = front.get("app_file")
    if app_file and not (bundle.folder / app_file).is_file():
        problems.append(f"app_file `{app_file}` is not in the bundle.")
    requirements = bundle.folder / "requirements.txt"
    if not requirements.is_file():
        problems.append("requirements.txt is not in the bundle.")
    elif front.get("sdk") == "gradio":
        pinned = re.search(r"^gradio==(\S+)\s*$", requirements.read_text(encoding="utf-8"), re.MULTILINE)
        if not pinned or str(front.get("sdk_version")) != pinned.group(1):
            problems.append("sdk_version must equal the gradio version pinned in requirements.txt.")
    packages = bundle.folder / "packages.txt"
    listed = set(packages.read_text(encoding="utf-8").split()) if packages.is_file() else set()
    if not FONT_PACKAGES <= listed:
        needed = ", ".join(sorted(FONT_PACKAGES - listed))
        problems.append(f"packages.txt lacks {needed} (the figures would draw those scripts as empty boxes).")
    missing = sorted(checkpoints - set(front.get("preload_from_hub") or []))
    if missing:
        problems.append(f"preload_from_hub lacks {', '.join(missing)} (a visitor would wait for the download).")
    return problems


def push_bundle(bundle: Bundle, repo_id: str, token: str, endpoint: str | None = None) -> str:
    """Create the Space if missing and upload the bundle; returns the Space's URL."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    url = api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=bundle.folder, repo_type="space", commit_message="Update seqdemo")
    return str(url)


def role_checkpoints() -> set[str]:
    """Every role's Hub checkpoint: the Space must preload all of them."""
    return {role.hub_checkpoint for role in ROLES.values()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqdemo.space", description=__doc__.splitlines()[0])
    parser.add_argument("--push", metavar="OWNER/NAME", help="the Space to create or update")
    parser.add_argument("--dry-run", action="store_true", help="validate and list the bundle, upload nothing")
    parser.add_argument("--out", type=Path, help="assemble the bundle here (default: a temporary folder)")
    parser.add_argument("--config", type=Path, default=ROOT / "spaces_config.yaml")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        out_dir = args.out or Path(tempfile.mkdtemp(prefix="seqdemo-space-"))
        bundle = assemble_bundle(ROOT, config, out_dir)
        problems = validate_bundle(bundle, role_checkpoints())
        if problems:
            print("The Space bundle is not ready:\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
            return 1
        print(f"Bundle in {bundle.folder} ({len(bundle.files)} files):")
        print("\n".join(f"  {name}" for name in bundle.files))
        settings = Settings.from_env()
        if args.dry_run or not args.push:
            print("Dry run: nothing uploaded." if args.dry_run else "No --push OWNER/NAME given: nothing uploaded.")
            return 0
        if not settings.hub_token:
            print("error: set HF_TOKEN to a write token to push (or use --dry-run).", file=sys.stderr)
            return 2
        try:
            print(f"Pushed: {push_bundle(bundle, args.push, settings.hub_token, settings.hub_endpoint)}")
        except Exception as err:  # refused token, no network, Hub error: one line, not a traceback
            print(f"error: push to {args.push} failed: {type(err).__name__}: {err}", file=sys.stderr)
            return 2
        return 0
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
