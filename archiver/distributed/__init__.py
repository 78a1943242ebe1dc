"""Past one machine (`ARCHIVER_BROKER_URL`): the store in PostgreSQL, Celery workers on a Redis broker.

- `queue`     the Celery app, its one task (a citation's check, through the same pipeline as a local
              pass) and the worker process
- `dispatch`  the dispatcher: `archiver daemon` queuing what is due, finishing passes
- `lease`     the per-host limit across machines (a lease semaphore in Redis)
- `status`    the queue, the workers and their throughput, for `archiver status`
"""

from __future__ import annotations

from archiver.errors import ConfigError


def not_installed(exc: ImportError) -> ConfigError:
    """The error for a module of this package that cannot be imported: Celery, redis and psycopg are an
    extra (`pip install 'citation-archiver[distributed]'`), so that `pip install .` runs without them."""
    return ConfigError(
        f"distributed mode (ARCHIVER_BROKER_URL) needs {exc.name or 'Celery'}, which is not installed: "
        "pip install 'citation-archiver[distributed]'"
    )
