"""The ``wbs`` console script: the engine's commands (``wbs_engine.cli``) plus ``wbs run``.

``run`` lives here because it needs the web app, and ``wbs_engine`` never imports the web layer.
"""

from __future__ import annotations

import click

from wbs_engine.cli import Ctx, cli
from wbs_engine.cli import main as engine_main
from wbs_engine.i18n import gettext_noop as _


@cli.command(
    help=_(
        "Serve the web app (development server; use gunicorn in production)."
        "\n\nWith WBS_SCHEDULER=embedded (the default of `make run`) the same process also runs the SLA "
        "scheduler."
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help=_("The address to listen on."))
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help=_("The port to listen on.")
)
@click.option("--debug", is_flag=True, help=_("Flask debug mode (never in production)."))
@click.pass_obj
def run(obj: Ctx, host: str, port: int, debug: bool) -> None:
    from webapp import create_app
    from webapp.security import QuietRequestHandler

    # obj.engine() fails with one line now if the database is not set up, not with a traceback per request
    engine = obj.engine()
    app = create_app(obj.settings, engine=engine)
    if obj.settings.scheduler == "embedded":
        # one process only (make run, a single-office install); several web nodes use `wbs scheduler`
        from wbs_engine.scheduler import build_scheduler

        build_scheduler(engine, blocking=False).start()
    # the access log prints no client address (webapp/security.py: anonymous means anonymous)
    app.run(host=host, port=port, debug=debug, use_reloader=False, request_handler=QuietRequestHandler)


def main() -> None:
    engine_main()


if __name__ == "__main__":
    main()
