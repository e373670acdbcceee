"""gunicorn's logger for wbs-engine (``logger_class`` in deploy/gunicorn.conf.py): no address, ever.

Anonymous means anonymous (webapp/security.py): a reporter's address must not reach a log. gunicorn's own
logger can print it in three places, and all three are closed here, whatever ``access_log_format`` says:

* the access log: the atoms that could carry an address or what a person typed are ``-`` (``h`` the address,
  ``u`` a user, ``f`` the referrer, ``a`` the user agent, every ``{header}i``, ``{variable}e`` and
  ``{header}o``); ``q`` (the query string) is empty and ``r`` (the request line) is the method and the path
  without the query; a request that found no page (404) logs ``-`` as its path, since an unknown path may be
  whatever someone typed (a tracking code pasted into the address bar);
* a bad request: gunicorn warns ``Invalid request from ip=ADDRESS: ERROR`` (and the error may quote the
  request line): logged as ``Invalid request`` alone;
* a request that failed: ``Error handling request METHOD URI`` loses the query string of the URI.

A tracking code is never in a path (it is posted in a form and kept sealed in the session), so what remains is
the method, the path, the status, the time and the size: enough to run the server, nothing about who asked.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

#: the access log of deploy/gunicorn.conf.py: time, method, path (no query), status, bytes, microseconds
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(D)s'

#: atoms that can name a person or carry what they typed: always "-"
_BLANK = ("h", "l", "u", "f", "a")
#: atoms kept as gunicorn computes them
_KEEP = ("t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p")


class PrivateLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        full = super().atoms(resp, req, environ, request_time)
        safe = {k: full.get(k) for k in _KEEP}
        safe.update(dict.fromkeys(_BLANK, "-"))
        path = str(environ.get("PATH_INFO") or "-")
        if str(full.get("s")) == "404":
            path = "-"
        safe.update(U=path, q="", r=f"{full.get('m') or '-'} {path} {full.get('H') or '-'}")
        return safe  # every other atom (headers, environ, response headers) reads as "-"

    def warning(self, msg, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(msg, str) and msg.startswith("Invalid request from"):
            msg, args = "Invalid request", ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            args = tuple(a.split("?", 1)[0] if isinstance(a, str) else a for a in args)
        super().exception(msg, *args, **kwargs)
