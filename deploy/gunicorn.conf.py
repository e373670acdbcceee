"""gunicorn settings for wbs-engine in production: ``gunicorn -c deploy/gunicorn.conf.py`` (README, "Production").

Every value can be changed from the environment; the defaults suit a small office's 2-core server behind a
reverse proxy on the same machine. The app itself reads its own ``WBS_*`` settings (webapp/wsgi.py).

  WBS_WEB_BIND      where to listen                       (127.0.0.1:8000: only the proxy reaches it)
  WBS_WEB_WORKERS   worker processes                      (the number of CPUs, at least 2)
  WBS_WEB_THREADS   threads per worker                    (4)
  WBS_WEB_TIMEOUT   seconds a request may take            (60: a PDF recap or an export of a year)
  WBS_ACCESS_LOG    access log file, "-" for stdout       (-) ; the format never holds an address
  WBS_ERROR_LOG     error log file, "-" for stderr        (-)
"""

import os

from webapp.serverlog import ACCESS_LOG_FORMAT


def _int(name: str, default: int, low: int, high: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise SystemExit(f"{name} must be a whole number from {low} to {high}; not {value!r}")
    return int(value)


wsgi_app = "webapp.wsgi:app"
bind = os.environ.get("WBS_WEB_BIND", "").strip() or "127.0.0.1:8000"
# threads: a request waiting on the database (SQLite's one writer, a PostgreSQL lock) does not hold a process
worker_class = "gthread"
workers = _int("WBS_WEB_WORKERS", max(2, os.cpu_count() or 1), 1, 64)
threads = _int("WBS_WEB_THREADS", 4, 1, 64)
# a worker silent this long is killed and replaced; its transaction is rolled back by the database
timeout = _int("WBS_WEB_TIMEOUT", 60, 5, 3600)
# on SIGTERM/SIGHUP, requests already running get this long to finish
graceful_timeout = 30
keepalive = 5
# a fresh worker after this many requests (and a little jitter, so they do not all restart at once)
max_requests = 2000
max_requests_jitter = 200
# limits on what one request line and its headers may be (the body's limit is the app's MAX_CONTENT_LENGTH)
limit_request_line = 8190
limit_request_fields = 100

# logs: the logger blanks every atom that could hold an address or what a person typed, whatever the format
logger_class = "webapp.serverlog.PrivateLogger"
access_log_format = ACCESS_LOG_FORMAT
accesslog = os.environ.get("WBS_ACCESS_LOG", "").strip() or "-"
errorlog = os.environ.get("WBS_ERROR_LOG", "").strip() or "-"
loglevel = "info"
# the app's own address (WBS_PROXY_COUNT, ProxyFix in webapp/wsgi.py) decides what is trusted of X-Forwarded-*
proc_name = "wbs-engine"
# no control socket in $HOME: two servers on one machine would share it
control_socket_disable = True
