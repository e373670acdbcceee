"""gunicorn with the repository's own config (deploy/gunicorn.conf.py) as a subprocess, and a client that files
reports through the real public form: for the server and crash-safety tests.

The server runs in a session of its own (``start_new_session``), so :meth:`Gunicorn.kill` kills the master
and every worker at once with SIGKILL (the process group), as a power cut or the OOM killer would. Every wait
has a deadline; :meth:`Gunicorn.close` (call it in a ``finally``) always leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import REPO, _free_port

CONFIG = REPO / "deploy" / "gunicorn.conf.py"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FILING = re.compile(r'name="token" value="([^"]+)"')
RECEIPT = re.compile(r'id="kode" class="code" type="text" value="([^"]+)"')
NUMBER = re.compile(r'<strong class="number">([A-Z]+-\d{4}-\d{6})</strong>')
COMPLAINT = {
    "identitas": "anonim",
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}


def engine_env(engine, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``wbs`` or gunicorn process on ``engine``'s database and keyring; nothing else of
    the developer's WBS_* settings leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WBS_", "GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(
        PYTHONPATH=str(REPO),
        WBS_DATABASE_URL=engine.settings.db_url,
        WBS_KEYRING=str(engine.settings.keyring_path),
        WBS_INSTANCE_DIR=str(tmp_path / "served-instance"),
        WBS_WORKFLOWS_DIR=str(engine.settings.workflows_dir),
        WBS_ATTACHMENTS_DIR=str(engine.settings.attachments_path),
        WBS_SMTP_URL="",
        # every request here comes from one address: the abuse limits (tested on their own) stay out of the way
        WBS_RATE_LIMIT_FILING="off",
        WBS_RATE_LIMIT_TRACKING="off",
        WBS_RATE_LIMIT_VERIFY="off",
        WBS_RATE_LIMIT_SIGN_IN="off",
        WBS_RATE_LIMIT_API="off",
    )
    env.update(extra)
    return env


class Gunicorn:
    def __init__(self, env: dict[str, str], tmp_path: Path, *, workers: int = 2, threads: int = 4):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = tmp_path / f"access-{self.port}.log"
        self.error_log = tmp_path / f"error-{self.port}.log"
        self.env = {
            **env,
            "WBS_WEB_BIND": f"127.0.0.1:{self.port}",
            "WBS_WEB_WORKERS": str(workers),
            "WBS_WEB_THREADS": str(threads),
            "WBS_ACCESS_LOG": str(self.access_log),
            "WBS_ERROR_LOG": str(self.error_log),
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Gunicorn:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG)],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}:\n{self.errors()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout} s:\n{self.errors()}")

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else "(no error log)"

    def kill(self) -> None:
        """SIGKILL to the master and every worker (the whole process group)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 40) -> int | None:
        """A graceful stop (SIGTERM to the master: workers finish their requests); SIGKILL after ``timeout``."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def close(self) -> None:
        """Leave nothing running, whatever happened (for ``finally``)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the workers too, even if the master is gone
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


def file_report(base: str, http: requests.Session | None = None, **fields: str) -> tuple[str, str]:
    """File a complaint as a browser does: the form (its CSRF and filing tokens), the POST, the receipt page.
    Returns (case number, tracking code) read from the receipt page."""
    http = http or requests.Session()
    page = http.get(f"{base}/lapor/pengaduan?identitas=anonim", timeout=30).text
    form = {"csrf_token": CSRF.search(page).group(1), "token": FILING.search(page).group(1), **COMPLAINT, **fields}
    res = http.post(f"{base}/lapor/pengaduan", data=form, allow_redirects=False, timeout=30)
    assert res.status_code == 303 and res.headers["Location"].endswith("/tanda-terima"), (res.status_code, res.text)
    page = http.get(f"{base}/tanda-terima", timeout=30).text
    return NUMBER.search(page).group(1), RECEIPT.search(page).group(1)
