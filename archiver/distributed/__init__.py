"""Past one machine (`ARCHIVER_BROKER_URL`): the store in PostgreSQL, Celery workers on a Redis broker.

- `queue`     the Celery app, its one task (a citation's check, through the same pipeline as a local
              pass) and the worker process
- `dispatch`  the dispatcher: `archiver daemon` queuing what is due, finishing passes
- `lease`     the per-host limit across machines (a lease semaphore in Redis)
- `status`    the queue, the workers and their throughput, for `archiver status`
"""
