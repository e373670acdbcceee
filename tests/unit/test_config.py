"""Settings from the environment: every value checked once, one clear message naming the variable."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wbs_engine.config import PROJECT_ROOT, ConfigError, Settings


@pytest.mark.parametrize(
    "value, iana, label",
    [
        ("", "Asia/Jakarta", "WIB"),  # unset or empty: the default
        ("WIB", "Asia/Jakarta", "WIB"),
        ("wita", "Asia/Makassar", "WITA"),
        (" WIT ", "Asia/Jayapura", "WIT"),
        ("Asia/Makassar", "Asia/Makassar", "WITA"),
        ("asia/jayapura", "Asia/Jayapura", "WIT"),
    ],
)
def test_timezone_setting(value, iana, label):
    s = Settings.from_env({"WBS_TIMEZONE": value})
    assert s.timezone == iana and s.zone == ZoneInfo(iana) and s.zone_label == label


@pytest.mark.parametrize("value", ["UTC", "Asia/Jakata", "Europe/Amsterdam", "+07:00", "WIBB"])
def test_timezone_outside_indonesia_or_misspelt_is_refused(value):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"WBS_TIMEZONE": value})
    for text in (info.value.message("id"), info.value.message("en")):
        assert "WBS_TIMEZONE" in text and "WIB, WITA, WIT, Asia/Jakarta, Asia/Makassar, Asia/Jayapura" in text


def test_defaults_when_nothing_is_set():
    s = Settings.from_env({})
    assert (s.timezone, s.office_close, s.include_cuti_bersama, s.scheduler) == ("Asia/Jakarta", time(16), True, "off")
    assert s.db_url.startswith("sqlite:///") and s.sqlite_synchronous == "FULL"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/wbs/wbs.sqlite3",
        "sqlite:///relative.sqlite3",
        "postgresql+psycopg://wbs@db.kantor.go.id:5432/wbs",
        "postgresql://wbs:rahasia@localhost/wbs",
        "postgresql:///wbs",  # the local socket
    ],
)
def test_database_urls_the_engine_can_open(url):
    assert Settings.from_env({"WBS_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    "url", ["foo://bar", "mysql://u@h/db", "postgresql+psycopg2://u@h/db", "localhost/wbs", "sqlite://", "sqlite:///"]
)
def test_database_urls_the_engine_cannot_open(url):
    with pytest.raises(ConfigError, match="WBS_DATABASE_URL"):
        Settings.from_env({"WBS_DATABASE_URL": url})


def test_base_url_loses_its_trailing_slash():
    """Links are built as base_url + '/staf/...'; a trailing slash would double it."""
    assert Settings.from_env({"WBS_BASE_URL": "https://wbs.kantor.go.id/"}).base_url == "https://wbs.kantor.go.id"


def test_mail_from_with_a_display_name():
    value = "WBS Kantor <wbs@kantor.go.id>"
    assert Settings.from_env({"WBS_MAIL_FROM": value}).mail_from == value


def test_attachment_settings():
    s = Settings.from_env({})
    assert (s.max_attachment_mb, s.max_attachments) == (10, 10)
    assert s.attachments_path == s.instance_dir / "attachments"
    s = Settings.from_env(
        {"WBS_MAX_ATTACHMENT_MB": "25", "WBS_MAX_ATTACHMENTS": "0", "WBS_ATTACHMENTS_DIR": "/srv/wbs/f"}
    )
    assert (s.max_attachment_mb, s.max_attachments, s.attachments_path) == (25, 0, Path("/srv/wbs/f"))


@pytest.mark.parametrize(
    "name, value",
    [
        ("WBS_MAX_ATTACHMENT_MB", "0"),
        ("WBS_MAX_ATTACHMENT_MB", "101"),
        ("WBS_MAX_ATTACHMENT_MB", "2.5"),
        ("WBS_MAX_ATTACHMENTS", "-1"),
        ("WBS_MAX_ATTACHMENTS", "banyak"),
    ],
)
def test_attachment_limits_out_of_range_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_attachments_may_not_live_inside_the_web_app():
    with pytest.raises(ConfigError, match="WBS_ATTACHMENTS_DIR"):
        Settings.from_env({"WBS_ATTACHMENTS_DIR": str(PROJECT_ROOT / "webapp" / "static" / "files")})
