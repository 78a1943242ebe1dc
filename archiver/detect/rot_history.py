"""Rot over a history of checks: when failures become rot. A permanent signal (404, 410, soft 404,
redirect home, parked domain) is rot at once; transient ones (timeouts, 5xx, 429, resets, DNS) only
after enough failed checks spread over days (`RotPolicy`), as Wikipedia's InternetArchiveBot waits;
until then the citation is `failing`. A healthy check clears it, and the recovery is kept; a blocked
check (a refusal) says nothing of the page; a check in an offline pass counts for nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from archiver.models import HealthStatus, RotPolicy, RotVerdict, Severity, Signal


@dataclass(frozen=True)
class Observation:
    """One recorded check, as the rot verdict needs it."""

    at: datetime
    signal: Signal
    offline: bool = False  # the pass could reach no host at all: says nothing of this citation


DEFAULT_POLICY = RotPolicy()


def assess(observations: Sequence[Observation], policy: RotPolicy = DEFAULT_POLICY) -> RotVerdict:
    """The rot verdict of a citation from its checks, oldest first."""
    if not observations:
        return RotVerdict(HealthStatus.UNCHECKED)
    online = [o for o in observations if not o.offline]
    if not online:
        return RotVerdict(HealthStatus.OFFLINE, evidence="no check has reached the network yet")
    latest = online[-1]
    run: list[Observation] = []  # the trailing failures, since the last healthy or blocked check
    for obs in reversed(online):
        if not obs.signal.severity.failed:
            break
        run.append(obs)
    run.reverse()
    if latest.signal.severity == Severity.HEALTHY:
        before = online[-2] if len(online) > 1 else None
        recovered = before is not None and before.signal.severity.failed
        evidence = latest.signal.evidence
        if recovered and before is not None:
            evidence = f"recovered after {before.signal.kind}" + (f"; {evidence}" if evidence else "")
        return RotVerdict(
            HealthStatus.OK,
            evidence=evidence,
            recovered_at=latest.at.isoformat() if recovered else "",
            moved_to=latest.signal.moved_to,
        )
    if latest.signal.severity == Severity.BLOCKED:
        since = latest.at
        for obs in reversed(online):
            if obs.signal.severity != Severity.BLOCKED:
                break
            since = obs.at
        return RotVerdict(HealthStatus.BLOCKED, latest.signal.kind, since.isoformat(), evidence=latest.signal.evidence)
    confirmed = is_confirmed([o.at for o in run], policy)
    permanent = latest.signal.severity == Severity.PERMANENT
    status = HealthStatus.ROTTEN if permanent or confirmed else HealthStatus.FAILING
    return RotVerdict(
        status,
        latest.signal.kind,
        run[0].at.isoformat(),
        confirmed,
        len(run),
        failure_evidence(latest.signal, [o.at for o in run], policy),
        moved_to=latest.signal.moved_to,
    )


def is_confirmed(failures: Sequence[datetime], policy: RotPolicy) -> bool:
    """Enough failed checks, the first and the last far enough apart (times oldest first)."""
    return len(failures) >= policy.failures and failures[-1] - failures[0] >= policy.span


def failure_evidence(signal: Signal, failures: Sequence[datetime], policy: RotPolicy) -> str:
    """What is known of a failing or rotten citation, in plain words: what the site answers, since
    when and over how many checks, and whether that is confirmed or what would confirm it."""
    first, last = failures[0], failures[-1]
    count = len(failures)
    checks = "1 check" if count == 1 else f"{count} checks over {_duration(last - first)}"
    known = f"{signal.evidence}, since {_stamp(first)} ({checks})"
    if is_confirmed(failures, policy):
        return f"{known}; confirmed: at least {policy.failures} failed checks over {_duration(policy.span)}"
    more = policy.failures - count
    after = _stamp(first + policy.span)
    if more > 0 and last - first < policy.span:
        condition = f"if {more} more check{'s' if more > 1 else ''} fail, the last on or after {after}"
    elif more > 0:
        condition = f"if {more} more check{'s' if more > 1 else ''} fail"
    else:
        condition = f"if a check on or after {after} still fails"
    if signal.severity == Severity.PERMANENT:
        return f"{known}; reported at once, not confirmed yet: it will be {condition}"
    return f"{known}; not rot yet, it may pass: it becomes rot {condition}"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at.tzinfo else at.strftime("%Y-%m-%d %H:%M")


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 86400:
        days = round(seconds / 86400, 1)
        return f"{days:g} day{'s' if days != 1 else ''}"
    if seconds >= 3600:
        hours = round(seconds / 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
