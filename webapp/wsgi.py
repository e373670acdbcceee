"""The WSGI entry point for a real server: ``gunicorn -c deploy/gunicorn.conf.py`` serves ``webapp.wsgi:app``.

The app is built from the environment (``WBS_*``, :meth:`Settings.from_env`) once per worker. Behind a reverse
proxy, ``WBS_PROXY_COUNT`` (default 0) says how many proxies stand in front: Werkzeug's ``ProxyFix`` then
trusts that many ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port`` values, so the throttles see the client's
address (hashed, in memory only: webapp/security.py) and the app knows it is served over https. Never set it
higher than the number of proxies really in front, or a client can choose the address it is counted under.

The factory starts no scheduler, whatever ``WBS_SCHEDULER`` says: N workers must not be N schedulers; run
``wbs scheduler`` as its own process. A setting or database that cannot be used stops the server at start with
one line (gunicorn halts when a worker fails to boot), not a traceback per request.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from wbs_engine import textsafe
from wbs_engine.config import ConfigError
from wbs_engine.i18n import gettext_noop as _

#: gunicorn's exit code for a worker that failed to boot: the master stops instead of restarting it
WORKER_BOOT_ERROR = 3
#: the most proxies WBS_PROXY_COUNT accepts
MAX_PROXIES = 5


def proxy_count(env: Mapping[str, str]) -> int:
    """``WBS_PROXY_COUNT``: how many reverse proxies stand in front (0 to :data:`MAX_PROXIES`; empty: 0)."""
    value = env.get("WBS_PROXY_COUNT", "").strip() or "0"
    if not textsafe.digits(value) or int(value) > MAX_PROXIES:
        raise ConfigError(
            _("WBS_PROXY_COUNT must be a whole number from 0 to {max} (the reverse proxies in front); not {value!r}"),
            max=MAX_PROXIES,
            value=value,
        )
    return int(value)


def build(env: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The app for ``env`` (default: the process environment), wrapped in ``ProxyFix`` when proxies are set."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from wbs_engine.config import Settings

    from . import create_app

    env = os.environ if env is None else env
    proxies = proxy_count(env)
    app = create_app(Settings.from_env(env))
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)  # type: ignore[method-assign]
    return app


def _load():  # type: ignore[no-untyped-def]
    from wbs_engine.errors import WbsError

    try:
        return build()
    except (ConfigError, WbsError) as exc:
        line = f"wbs: {exc.message()}"
        log = logging.getLogger("gunicorn.error")  # gunicorn's error log (WBS_ERROR_LOG), when it serves
        if log.handlers:
            log.error(line)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        raise SystemExit(WORKER_BOOT_ERROR) from None


_app = None


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # ``webapp.wsgi:app`` is built when gunicorn asks for it (each worker), not when this module is imported
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = _load()
    return _app
