"""The message catalogue is whole: every message the code marks is in the catalogues, the Indonesian one
translates each of them with the same placeholders, nothing stale is left, and no message bypasses it.

What ``make messages`` does (``pybabel extract`` with babel.cfg, then ``pybabel update``) is repeated here
in memory, so a message added without running it fails the suite with its text named."""

from __future__ import annotations

import ast
import re
from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from wbs_engine import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": (1, 2)}
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}(?!\})")
#: the placeholders of messages in Jinja templates ({% trans name=… %}…{{ name }}…), as Babel extracts them
JINJA_PLACEHOLDER = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid the code marks (like ``pybabel extract -F babel.cfg -k N_:1,2``) -> where it is."""
    cfg = ConfigParser()
    cfg.read(ROOT / "babel.cfg")
    method_map = [(section.split(":", 1)[1].strip(), section.split(":", 1)[0]) for section in cfg.sections()]
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, {}, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def catalogue(lang: str):
    with (i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) | {f"%({n})s" for n in JINJA_PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def code_messages():
    return extracted()


def test_the_code_marks_messages(code_messages):
    assert len(code_messages) > 100, "pybabel extract finds (almost) nothing: is babel.cfg still right?"


@pytest.mark.parametrize("lang", i18n.LOCALES)
def test_catalogue_holds_exactly_the_messages_of_the_code(code_messages, lang):
    cat = catalogue(lang)
    in_po = {m.id if isinstance(m.id, str) else tuple(m.id) for m in cat if m.id}
    missing = sorted(str(k) for k in code_messages.keys() - in_po)
    stale = sorted(str(k) for k in in_po - code_messages.keys())
    assert not missing, f"messages in the code but not in {lang}/messages.po (run make messages): {missing[:10]}"
    assert not stale, f"messages in {lang}/messages.po that the code no longer has (run make messages): {stale[:10]}"


def test_every_message_has_an_indonesian_translation_with_the_same_placeholders():
    problems = []
    for m in catalogue("id"):
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        if m.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set().union(*(placeholders(i) for i in ids))
        for s in strings:
            if placeholders(s) != wanted and not (len(ids) > 1 and placeholders(s) == wanted - {"n"}):
                problems.append(f"placeholders differ: {ids[0]!r} {sorted(wanted)} vs {s!r}")
    assert not problems, "\n".join(problems[:20])


def test_english_catalogue_keeps_placeholders_where_it_rewords():
    for m in catalogue("en"):
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        for s in filter(None, strings):
            assert placeholders(s) <= set().union(*(placeholders(i) for i in ids)), (m.id, s)


def test_every_message_renders_in_both_languages(code_messages):
    """Formatting each message with its own placeholders works (no stray brace breaks ``str.format``)."""
    for key in code_messages:
        msgid = key if isinstance(key, str) else key[0]
        names = PLACEHOLDER.findall(msgid if isinstance(key, str) else " ".join(key))
        params = {name: "X" for name in names}
        for lang in i18n.LOCALES:
            if isinstance(key, str):
                i18n.render(msgid, lang, **params)
            else:
                i18n.render_plural(key, 2, lang, **{k: v for k, v in params.items() if k != "n"})


ERROR_CLASSES = {
    "WbsError", "NotFound", "NotAllowed", "InvalidTransition", "GuardFailed", "ConfigError", "OutsideCalendarRange",
    "CryptoError", "Msg",
}
#: error classes whose message is not their first argument: the class -> the argument's position
MESSAGE_ARGUMENT = {"AttachmentRejected": 1}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def test_no_message_bypasses_the_catalogue():
    """Errors take one msgid marked with ``_`` (not an Indonesian/English pair, not an f-string that cannot
    be looked up), and no code chooses a text by ``lang == "en"``: the catalogue does."""
    problems = []
    for path in sorted(p for top in ("wbs_engine", "webapp", "db") for p in (ROOT / top).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                at = MESSAGE_ARGUMENT.get(name, 0 if name in ERROR_CLASSES else None)
                if at is not None and len(node.args) > at and _is_text(node.args[at]):
                    problems.append(f"{rel}:{node.lineno}: {name}(…) with unmarked text")
                if name == "t" and len(node.args) >= 2 and all(_is_text(a) for a in node.args[:2]):
                    problems.append(f"{rel}:{node.lineno}: ctx.t(id, en) pair")
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value == "en" for c in node.comparators
            ):
                problems.append(f"{rel}:{node.lineno}: chooses text by lang == 'en'")
    assert not problems, "\n".join(problems)
