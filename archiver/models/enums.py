"""The words of the archiver's vocabulary: every status, kind and state a record can hold.

Inside the package they travel as these enums; they become strings only at the JSON and SQL edges
(a StrEnum compares equal to its value, so rows read back compare as written)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What one fetch came to, before any verdict is drawn from it."""

    OK = "ok"  # a 2xx response with a body
    NOT_MODIFIED = "not_modified"  # 304 to a conditional request
    HTTP_ERROR = "http_error"  # a 4xx or 5xx status
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"  # refused, unreachable
    RESET = "reset"  # connection dropped mid-exchange
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"  # body (after decompression) or headers over the cap
    REFUSED_ADDRESS = "refused_address"  # the address guard refused the resolved address
    BAD_URL = "bad_url"  # unsupported scheme or unparseable URL
    PROTOCOL_ERROR = "protocol_error"  # the server spoke broken HTTP
    EXTRACT_TIMEOUT = "extract_timeout"  # the page came, its text took too long to extract: not rot
    EXTRACT_FAILED = "extract_failed"  # the page came, the extraction worker died on it: not rot

    @property
    def before_http(self) -> bool:
        """The failure happened before any HTTP exchange: what a machine without network sees."""
        return self in {Outcome.DNS_ERROR, Outcome.CONNECT_ERROR}


class FetchedBy(StrEnum):
    """Which fetcher produced a FetchResult."""

    HTTP = "http"  # archiver.fetch: the page as served
    BROWSER = "browser"  # archiver.browser: the page's DOM after its scripts ran


class BrowserMode(StrEnum):
    """When the headless browser fetches a page (ARCHIVER_BROWSER)."""

    NEVER = "never"
    AUTO = "auto"  # only pages whose HTML is a JavaScript shell or a challenge a browser passes
    ALWAYS = "always"

    @classmethod
    def _missing_(cls, value: object) -> BrowserMode:
        text = str(value).strip().lower()
        for mode in cls:
            if mode.value == text:
                return mode
        raise ValueError("must be never, auto or always")


class Severity(StrEnum):
    """What one check says of a page: fine, a failure that may pass, one that will not, or a refusal."""

    HEALTHY = "healthy"
    TRANSIENT = "transient"  # timeouts, 5xx, 429, resets, DNS: may pass
    PERMANENT = "permanent"  # 404, 410, soft 404, redirect home, parked: reported at once
    BLOCKED = "blocked"  # 401, 403, bot walls: we were refused, which says nothing of the page

    @property
    def failed(self) -> bool:
        return self in (Severity.TRANSIENT, Severity.PERMANENT)


class HealthStatus(StrEnum):
    """A citation's status, most serious first: a citation takes the first that applies."""

    ROTTEN = "rotten"
    FAILING = "failing"
    DRIFTED = "drifted"
    PAYWALLED = "paywalled"
    BLOCKED = "blocked"
    OFFLINE = "offline"
    OK = "ok"
    UNCHECKED = "unchecked"

    @property
    def worse(self) -> bool:
        """Something an editor should look at (what alerts count as "for the worse")."""
        return self in _WORSE


_WORSE = frozenset(
    {HealthStatus.ROTTEN, HealthStatus.FAILING, HealthStatus.DRIFTED, HealthStatus.PAYWALLED, HealthStatus.BLOCKED}
)


class Flag(StrEnum):
    """The report's flags: each means one thing."""

    LINK_ROT = "link_rot"  # rot, and nothing else (status `rotten`)
    FAILING = "failing"  # a failure not confirmed yet
    PAYWALL = "paywall"
    DRIFT = "drift"  # a version that changed a fact or was rewritten
    CLAIM_DRIFT = "claim_drift"  # a fact of the claim the source no longer carries


class PaywallKind(StrEnum):
    NONE = "none"
    HARD = "hard"
    METERED = "metered"
    REGISTRATION = "registration"


class DriftClass(StrEnum):
    """How a version differs from another, mildest first (see `detect.drift`)."""

    UNCHANGED = "unchanged"
    COSMETIC = "cosmetic"
    BOILERPLATE = "boilerplate"
    MINOR_EDIT = "minor_edit"
    FACT_CHANGE = "fact_change"
    MAJOR_REWRITE = "major_rewrite"


class ClaimKind(StrEnum):
    """What the source says of the claim that cites it."""

    CLAIM_DRIFT = "claim_drift"  # a fact the baseline carried is gone
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    NOTHING_TO_CHECK = "nothing_to_check"


class Decision(StrEnum):
    """An editor's review decision on a citation (see `detect.health` for what each suppresses)."""

    ACCEPT = "accept"  # the current version becomes the citation's baseline for drift and claim drift
    NOT_ROT = "not_rot"  # a false alarm of one rot kind, on the watched page, while its content is unchanged
    IGNORE = "ignore"  # stop watching this citation; its history stays


class OutboxState(StrEnum):
    """Where a capture request stands in the outbox."""

    QUEUED = "queued"
    SUBMITTED = "submitted"  # a job id is held: polled, never submitted again
    DONE = "done"
    FAILED = "failed"

    @property
    def pending(self) -> bool:
        return self in (OutboxState.QUEUED, OutboxState.SUBMITTED)
