"""gunicorn settings for Sportello:  gunicorn -c gunicorn.conf.py "portal:create_app()"

Every setting can be changed from the environment (SPORTELLO_* below) or on the command line.
"""
import os


def _env_int(name, default):
    return int(os.environ.get(name) or default)


def _env_bool(name, default=False):
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


bind = os.environ.get("SPORTELLO_BIND", "127.0.0.1:8000")
# Each worker holds its own copy of the embedding model (~100 MB for MiniLM), so the default
# is one worker per core plus one rather than gunicorn's 2n+1; threads cover requests waiting on
# I/O. The extra worker matters: a worker runs Python on one core at a time (the GIL), and with
# one per core a core idled whenever its worker waited (15% of 2 cores under bench/load.py's mixed
# run; one more worker served 30% more requests there, at half the median latency).
workers = _env_int("SPORTELLO_WORKERS", max(2, (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = _env_int("SPORTELLO_THREADS", 4)
# Every worker encodes queries on its own OpenMP pool: workers x threads above the core count
# fight as soon as two workers encode at once, and on 2 cores one thread encodes a query as
# fast as two (~22 ms for e5-small-nano). An OMP_NUM_THREADS set by hand wins.
os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
# Preloading imports the app once in the master and forks it: faster start, shared pages.
# Off by default: torch's thread pools do not survive fork() reliably, so each worker builds
# the app itself and loads the model once, right after it starts (post_worker_init).
preload_app = _env_bool("SPORTELLO_PRELOAD", False)
timeout = _env_int("SPORTELLO_TIMEOUT", 60)  # a reindex runs in the CLI, never in a request
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so that slow leaks cannot grow without bound. Not too often: a new
# worker loads the model again and starts with empty page caches (at 5,000, a loaded 2-core
# server replaced a worker every few seconds).
max_requests = _env_int("SPORTELLO_MAX_REQUESTS", 100_000)
max_requests_jitter = max_requests // 10
limit_request_line = 8190
limit_request_field_size = 8190

accesslog = os.environ.get("SPORTELLO_ACCESS_LOG", "-")  # "-" is stdout; empty string turns it off
errorlog = os.environ.get("SPORTELLO_ERROR_LOG", "-")
loglevel = os.environ.get("SPORTELLO_LOG_LEVEL", "info")
# Client, time, request line, status, size, duration in microseconds, user agent.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'
if not accesslog:
    accesslog = None

# gunicorn 24+ opens a control socket at one fixed path per user: several servers on one machine
# (tests, load runs) would fight over it. Set SPORTELLO_CONTROL_SOCKET=PATH to have one.
control_socket = os.environ.get("SPORTELLO_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket

# Which proxies may set X-Forwarded-*; the app trusts them only with SPORTELLO_PROXY_FIX too.
forwarded_allow_ips = os.environ.get("SPORTELLO_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """A preloaded app's database connections belong to the master: drop them in the child."""
    app = getattr(server.app, "callable", None)
    engine = getattr(app, "extensions", {}).get("sportello.engine")
    if engine is not None:
        engine.dispose(close=False)


def post_worker_init(worker):
    """Check the index and load the model now, so that no customer waits for it."""
    app = worker.wsgi
    service = getattr(app, "extensions", {}).get("sportello.search")
    if service is None:
        return
    try:
        with app.test_request_context("/"):
            service.search("warm up", limit=1)  # index check on first use + the encoder's load
    except Exception:  # a cold model is slow, not fatal: the first search loads it
        worker.log.exception("search warm-up failed; the model loads on first use")


def worker_exit(server, worker):
    """Write the views and searches the worker still holds, so that a clean exit loses none."""
    app = getattr(worker, "wsgi", None)
    buffer = getattr(app, "extensions", {}).get("sportello.tracking")
    if buffer is not None:
        buffer.close()
