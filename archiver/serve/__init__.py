"""`archiver serve`: a small web application over the store, and a Memento endpoint (RFC 7089) so
any Memento client can treat our store as one more web archive.

    /                          the dashboard: every citation, sortable and filterable, each linked
    /report                    the HTML health report (of the publication, or of `--article`)
    /citations/{id}            a citation's page: status, evidence, claim, checks, copies, versions,
                               and the review forms for a logged-in editor (id: 3 or ARTICLE:3)
    /login, /logout            an editor's session (only when credentials are configured)
    /memento/{14 digits}/{url} a version replayed as stored, with Memento-Datetime and Link headers
    /timegate/{url}            redirects to the version in force at Accept-Datetime (default: newest)
    /timemap/link/{url}        every version in link format
    /api/report                the JSON report;  /api/citations/{id}: one citation

- `app`      the request handler and `make_server`;   `server`: the bounded HTTP server
- `memento`  the Memento endpoint;   `auth`: the editor's password, sessions, CSRF and origin checks

Replays are served with a sandboxing Content-Security-Policy: archived scripts never run in our
origin. Everything that came from a page is escaped in our own pages.
"""

from archiver.serve.app import IDLE_TIMEOUT, MAX_CONNECTIONS, Editing, make_server
from archiver.serve.memento import memento_stamp

__all__ = ["IDLE_TIMEOUT", "MAX_CONNECTIONS", "Editing", "make_server", "memento_stamp"]
