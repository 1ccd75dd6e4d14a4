"""gunicorn settings shared by `make run`, the container and the benchmark.

Everything can still be overridden with GUNICORN_CMD_ARGS or the variables below
(HOST, PORT, WEB_CONCURRENCY, GUNICORN_TIMEOUT, ACCESS_LOG, PROMETHEUS_MULTIPROC_DIR).
"""

import glob
import os
import shutil
import tempfile

# Metrics: every worker writes its values to files in one directory and /metrics sums them.
# prometheus_client reads this variable when first imported, so it is set before anything
# imports the app. A given directory is cleared of the last run's files at start-up (stale
# counters would otherwise be added to the new ones); by default a fresh one is made.
_made_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = tempfile.mkdtemp(prefix="comments-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers: requests are short database round trips, and a worker per request keeps
# SQLAlchemy sessions and the rate limiter simple. Scale with WEB_CONCURRENCY (2-4 per core).
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (a rolling deploy) workers finish the requests they have within this time.
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, jittered so they do not all restart at once.
max_requests = 10000
max_requests_jitter = 1000
# Nobody needs to reach into a running instance: no control socket (gunicorn >= 25.1).
control_socket_disable = True

# Logs: JSON lines on stderr (service.observability.GunicornJsonLogger formats gunicorn's
# own lines like the app's). The app logs one "request" line per request (request id, route,
# status, duration), which serves as the access log; gunicorn's access log would repeat it,
# so it is off unless ACCESS_LOG names a file ("-" for stdout), and then JSON too.
logger_class = "service.observability.GunicornJsonLogger"
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("COMMENTS_LOG_LEVEL", "info").lower()


def on_starting(server):
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    # A dead worker's live gauges must not be summed any more (its counters stay: they
    # still count what it did).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
