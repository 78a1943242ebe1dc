"""Web archives: finding, requesting and verifying archived copies of the watched URLs.

Pure, importable without a network library (serve and the report use them):
- `selection`   which capture to offer, which version was in force at a date
- `spn`         the Wayback Machine's answers, read (Save Page Now refusals, CDX lines, addresses)
- `memento`     the Memento protocol: link format, HTTP dates, archives by host

Talking to the archives, within one run's time budget:
- `session`     every request, bounded (deadline, body cap), and archives found down
- `wayback`     the Wayback Machine's client;   `aggregator`: Memento endpoints
- `outbox`      submitting, polling and recording capture requests
- `verify`      whether a capture holds our text
- `step`        the archiving step of a run;    `unwatched`: copies of a URL we do not watch

This face imports nothing, so a pure module can be imported without the clients.
"""
