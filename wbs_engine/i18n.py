"""One message catalogue for everything a person reads: the CLI, the engine's errors, e-mails, and the web.

Messages are gettext messages whose *msgid* is the English text with ``{name}`` placeholders. They are
marked in the code with ``_`` (:func:`gettext_noop`) (and :func:`N_` for plurals) so that ``pybabel extract`` finds them
(``babel.cfg``), and rendered **at the edge** in the reader's language (``id``, the default, or ``en``)
with :func:`render` or :class:`Msg`. The catalogues are ``wbs_engine/translations/<lang>/LC_MESSAGES/
messages.po``; ``make install`` compiles them (``pybabel compile``), and a missing or older ``.mo`` is
compiled in memory from the ``.po`` so a checkout always works. ``tests/unit/test_catalogue.py`` fails
when a message has no Indonesian translation or the catalogue is stale.

Workflow labels are not here: they are an office's content and stay in the YAML files.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
DOMAIN = "messages"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def gettext_noop(msgid: str) -> str:
    """Mark ``msgid`` for extraction; it is translated when rendered (:func:`render`), not here.

    Modules import it as ``_`` (``from .i18n import gettext_noop as _``), the name ``pybabel extract``
    looks for; the import takes the public name, so no module takes another's private one."""
    return msgid


def N_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (gettext's conventional name)
    """Mark a singular/plural pair for extraction (rendered with :func:`render_plural`)."""
    return singular, plural


def lang_of(lang: str | None) -> str:
    return lang if lang in LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def catalogue_bytes(lang: str) -> bytes | None:
    """The compiled (``.mo``) catalogue of ``lang``: the file, or the ``.po`` compiled in memory when the
    ``.mo`` is missing or older (Babel is imported only then); None when ``lang`` has no catalogue."""
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        return mo.read_bytes()
    if not po.exists():
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


@lru_cache(maxsize=len(LOCALES))
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` read with the standard library's :mod:`gettext` (a command that prints one
    line does not import Babel). The web app reads the same bytes into Babel's class (webapp/i18n.py)."""
    data = catalogue_bytes(lang)
    return gettext.GNUTranslations(io.BytesIO(data)) if data is not None else gettext.NullTranslations()


def render(msgid: str, lang: str | None = None, /, **params: Any) -> str:
    """``msgid`` in ``lang`` with its ``{placeholders}`` filled."""
    text = translations(lang_of(lang)).gettext(msgid)
    return text.format(**params) if params else text


def render_plural(pair: tuple[str, str], n: int, lang: str | None = None, /, **params: Any) -> str:
    text = translations(lang_of(lang)).ngettext(pair[0], pair[1], n)
    return text.format(n=n, **params)


class Msg:
    """A message and its parameters, rendered later in the reader's language (errors carry these)."""

    __slots__ = ("msgid", "params", "plural", "n")

    def __init__(self, msgid: str, /, **params: Any):
        self.msgid = msgid
        self.params = params
        self.plural: str | None = None
        self.n: int | None = None

    @classmethod
    def count(cls, pair: tuple[str, str], n: int, /, **params: Any) -> Msg:
        m = cls(pair[0], **params)
        m.plural, m.n = pair[1], n
        return m

    def render(self, lang: str | None = None) -> str:
        params = {k: (v.render(lang) if isinstance(v, Msg) else v) for k, v in self.params.items()}
        if self.plural is not None and self.n is not None:
            return render_plural((self.msgid, self.plural), self.n, lang, **params)
        return render(self.msgid, lang, **params)

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)

    def __repr__(self) -> str:
        return f"Msg({self.msgid!r}, **{self.params!r})"
