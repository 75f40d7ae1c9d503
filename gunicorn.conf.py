"""gunicorn's production settings, read from the working directory: `gunicorn config.wsgi`.

Threaded workers: a request that waits (on PostgreSQL, on Redis, or on a sign-in's Argon2 hash,
which runs outside the GIL) does not hold up the requests queued behind it, as it would with one
request per process. On the REL-7 load run (2 cores, 4 workers) the cheap pages then stop waiting
behind sign-ins and the coordinator's queue. Each thread keeps its own database connection
(CONN_MAX_AGE), so PostgreSQL sees up to workers x threads connections per web server.
WEB_CONCURRENCY, WEB_THREADS and WEB_KEEPALIVE size it; they are gunicorn's, read here only.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Django is set up once in the master and shared by the forked workers (faster starts, less memory).
preload_app = True
# Behind the TLS proxy, connections are reused between requests: they stay open longer than the
# proxy's own idle timeout would close them, so a request never races the server's close.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
# A 10,000-row case import is confirmed in one request (about 20 s); larger ones run as a task.
timeout = 120
# A request line (path and query) over 4 KB is refused (414) before Django sees it. gunicorn's
# default, set here on purpose: an admin list repeats its query in each of its filter and page
# links, so the size of a query is multiplied into the size of its page.
limit_request_line = 4094
