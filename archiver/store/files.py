"""Content-addressed snapshot files under the data directory: a version's text at
`text/ab/<sha256>.txt` and its screenshot at `shots/ab/<sha256>.png`, each named by the hash of its
content and written to a temporary name, then renamed, before the row pointing to it is committed. A
crash leaves at worst an orphan file; the same content is never written twice.

A version's body as served is kept once, in its WARC record (`warc`). Stores written before that
(and a body stored without an exchange) keep it compressed at `raw/ab/<sha256>.gz`, still read."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archiver.models.rows import VersionRow, WarcPointer

FOLDERS = ("raw", "text", "shots")


@dataclass(frozen=True)
class SnapshotFiles:
    """Where a version's files were written, relative to the data directory."""

    raw_path: str
    raw_hash: str
    raw_bytes: int
    text_path: str = ""
    warc: WarcPointer | None = None
    screenshot_path: str = ""


def paths(body: bytes, text: str, raw_file: bool) -> SnapshotFiles:
    """Where a body and its text go: named by their hashes only, never by anything a page says."""
    raw_hash = hashlib.sha256(body).hexdigest()
    text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
    return SnapshotFiles(
        f"raw/{raw_hash[:2]}/{raw_hash}.gz" if raw_file else "",
        raw_hash,
        len(body),
        f"text/{text_hash[:2]}/{text_hash}.txt" if text_hash else "",
    )


def write(data_dir: Path, body: bytes, text: str, raw_file: bool) -> SnapshotFiles:
    """Write a version's text and, with `raw_file` (no WARC record will hold the body), its body
    compressed, each once. Raises OSError."""
    files = paths(body, text, raw_file)
    if files.raw_path:
        _write_file(data_dir / files.raw_path, lambda: gzip.compress(body, 6, mtime=0))
    if files.text_path:
        _write_file(data_dir / files.text_path, lambda: text.encode("utf-8"))
    return files


def write_screenshot(data_dir: Path, png: bytes) -> str:
    """Write a screenshot once, named by the hash of its bytes; its path relative to the data directory.
    Raises OSError."""
    digest = hashlib.sha256(png).hexdigest()
    relative = f"shots/{digest[:2]}/{digest}.png"
    _write_file(data_dir / relative, lambda: png)
    return relative


def read_text(data_dir: Path, version: VersionRow) -> str:
    return (data_dir / version.text_path).read_text("utf-8") if version.text_path else ""


def read_raw(data_dir: Path, version: VersionRow) -> bytes:
    """The body as served, from its raw file. Raises OSError, EOFError or gzip.BadGzipFile when the
    file is damaged."""
    return gzip.decompress((data_dir / version.raw_path).read_bytes())


def content_of(path: Path, raw: bool) -> bytes:
    """What a file's name is the hash of: the decompressed body of a raw file, a text file as it is."""
    return gzip.decompress(path.read_bytes()) if raw else path.read_bytes()


def every_file(data_dir: Path) -> Iterator[str]:
    """Every snapshot file present, relative to the data directory."""
    for folder in FOLDERS:
        root = data_dir / folder
        for path in root.rglob("*") if root.is_dir() else []:
            if path.is_file():
                yield path.relative_to(data_dir).as_posix()


def _write_file(path: Path, content: Callable[[], bytes]) -> None:
    if path.exists():
        return  # content-addressed: same name, same bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
