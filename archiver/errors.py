"""The one exception tree: our own failures. A dead or paywalled page is data, never an exception."""

from __future__ import annotations

from pathlib import Path


class ArchiverError(Exception):
    """Base class of every error the archiver raises on purpose."""

    exit_code = 1


class ConfigError(ArchiverError):
    """A setting, flag or environment variable has a value we cannot use."""

    exit_code = 3


class SourceError(ArchiverError):
    """A citation list (or article) cannot be read; names the file and the lines at fault."""

    exit_code = 3

    def __init__(self, path: str | Path, problems: list[tuple[int | None, str]]) -> None:
        self.path = str(path)
        self.problems = problems
        self.files: list[tuple[str, list[tuple[int | None, str]]]] = [(self.path, problems)]
        lines = [f"{self.path}:{line}: {msg}" if line else f"{self.path}: {msg}" for line, msg in problems]
        super().__init__("\n".join(lines))

    @classmethod
    def many(cls, errors: list[SourceError]) -> SourceError:
        """One error naming every problem of several files (each line still names its file)."""
        if len(errors) == 1:
            return errors[0]
        combined = cls(errors[0].path, errors[0].problems)
        combined.args = ("\n".join(str(e) for e in errors),)
        combined.files = [(e.path, e.problems) for e in errors]
        return combined


class StoreError(ArchiverError):
    """The data directory or its database cannot be opened, read or written."""

    exit_code = 4


class LockedError(StoreError):
    """Another process holds the data directory's lock."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply try again later


class ArchiveServiceError(ArchiverError):
    """A web archive (the Wayback Machine) refused or failed in a way we cannot record as data."""

    exit_code = 5


class ArchiveUnreachable(ArchiveServiceError):
    """A web archive cannot be reached at all (refused, unknown name, repeated timeouts): said once
    per run, and what was meant for it is left for the next run."""

    def __init__(self, origin: str, reason: str) -> None:
        self.origin = origin
        self.reason = reason
        super().__init__(f"{origin} is unreachable ({reason})")


class BrokerError(ArchiverError):
    """The broker of distributed mode (Redis, ARCHIVER_BROKER_URL) cannot be reached or refused a command."""

    exit_code = 4
