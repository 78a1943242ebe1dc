"""`archiver verify`: the database's own checks, every file a version points to (text, screenshot, a
raw body of an older store) present and matching its hash, every WARC exchange read whole with its
digests checked, and a body kept only in its WARC record matching the version's raw hash. Problems
mean damage; notes (orphan files, WARC bytes no version points to, passes that never finished) are
harmless."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field

from archiver.store import checks, files, versions
from archiver.store.db import Database
from archiver.store.warc import WarcLog
from archiver.store.warc_format import check_exchange, read_response


@dataclass
class Verification:
    """What `archiver verify` found."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    versions: int = 0
    checks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database, warc: WarcLog) -> Verification:
    """Check the database, every file it points to, and the hashes of their contents."""
    data_dir = warc.data_dir
    result = Verification()
    problems, readable = db.integrity_problems()
    result.problems += problems
    if not readable:
        return result
    referenced = set()
    every = versions.all_versions(db)
    result.versions = len(every)
    for v in every:
        where = f"[{v.watched_id}] version {v.hash[:12]}"
        shot_hash = v.screenshot_path.rsplit("/", 1)[-1].removesuffix(".png")  # named by the hash of its bytes
        for relative, raw, expected in (
            (v.raw_path, True, v.raw_hash),
            (v.text_path, False, v.hash),
            (v.screenshot_path, False, shot_hash),
        ):
            if not relative:
                continue
            referenced.add(relative)
            path = data_dir / relative
            if not path.is_file():
                result.problems.append(f"{where}: {relative} is missing")
                continue
            try:
                data = files.content_of(path, raw)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                result.problems.append(f"[{v.watched_id}] {relative} cannot be read: {exc}")
                continue
            if hashlib.sha256(data).hexdigest() != expected:
                result.problems.append(f"[{v.watched_id}] {relative} does not match its hash")
    for v in every:
        if v.warc is None:
            continue
        path = data_dir / v.warc.file
        referenced.add(v.warc.file)
        where = f"[{v.watched_id}] version {v.hash[:12]}: WARC record at {v.warc.file}:{v.warc.offset}"
        if not path.is_file():
            result.problems.append(f"{where}: {v.warc.file} is missing")
            continue
        problem = check_exchange(path, v.warc.offset, v.warc.length)
        if not problem and not v.raw_path and v.raw_hash:  # the record is the one copy of the body
            body = read_response(path, v.warc.offset)[2]
            problem = "" if hashlib.sha256(body).hexdigest() == v.raw_hash else "its body does not match the raw hash"
        if problem:
            result.problems.append(f"{where}: {problem}")
    for tail in warc.tails(versions.warc_ends(db)):
        result.notes.append(
            f"{tail.size - tail.end} byte(s) at the end of warc/{tail.path.name} belong to no version (left by an "
            "interrupted write; the next check removes them)"
        )
    result.problems += [
        f"[{cid}] check {check_id} names a version that is not stored" for check_id, cid in checks.dangling(db)
    ]
    result.checks = int(db.scalar("SELECT count(*) FROM checks"))
    result.notes += [
        f"orphan file {relative} (harmless: left by an interrupted write)"
        for relative in files.every_file(data_dir)
        if relative not in referenced
    ]
    result.notes += [
        f"pass {pass_id} started {started[:19]} never finished (stopped or killed); the checks it recorded are complete"
        for pass_id, started in checks.unfinished_passes(db)
    ]
    return result
