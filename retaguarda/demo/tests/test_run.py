"""`retaguarda run` as a developer runs it: a subprocess with its own SQLite file and port."""

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from retaguarda.demo.data import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[3]

# The subprocess always uses its own SQLite file, whatever database the suite runs on, so the
# test runs once: in the SQLite pass of `make test`.
pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="runs in the SQLite pass only: `retaguarda run` uses its own SQLite file",
)

ROLES = ["admin", "manager", "sales", "warehouse", "finance", "hr", "support", "legal", "partner"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "State:\tZ" not in status.read_text()
    return True


class Run:
    def __init__(self, var_dir: Path, port: int, log: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RETAGUARDA_DEMO_COUNTRY")}
        env.update(RETAGUARDA_MODE="development", RETAGUARDA_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
        self.log = log
        self.handle = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "retaguarda", "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            if text in output:
                return output
            if self.process.poll() is not None:
                pytest.fail(f"`retaguarda run` exited ({self.process.returncode}) before {text!r}:\n{output}")
            time.sleep(0.2)
        pytest.fail(f"no {text!r} after {timeout} s:\n{self.output()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            self.handle.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.handle.close()


def get(opener, url: str):
    with opener.open(url, timeout=10) as response:
        return response.status, response.geturl(), response.read().decode()


def test_run_migrates_loads_the_demo_serves_and_stops_its_children(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run = Run(tmp_path, port, tmp_path / "run-1.log")
    try:
        # The first run migrates and loads a year of the demo store, its books included.
        output = run.wait_for("Press Ctrl-C to stop.", timeout=300)
        assert "applying" in output and "migrations" in output
        assert "loading the BR demo" in output
        assert f"retaguarda is running at {base}/" in output
        assert f"password for all: {DEMO_PASSWORD}" in output
        announced = output.split("Demo logins, one per role:")[1]
        for username in ROLES:
            assert re.search(rf"^\s+{username}\s+\S", announced, re.M), username
        children = [int(pid) for pid in re.findall(r"Started the (?:web server|worker) \(pid (\d+)\)", output)]
        assert len(children) == 2

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, _url, page = get(opener, f"{base}/login/")
        assert status == 200
        # The printed login works.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "admin", "password": DEMO_PASSWORD})
        with opener.open(f"{base}/login/", data=form.encode(), timeout=10) as response:
            assert response.status == 200
            assert urllib.parse.urlsplit(response.geturl()).path == "/"
        web_workers = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", run.output())]
        assert web_workers

        assert run.stop() == 0
        assert "Stopped the web server and the worker." in run.output()
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in children + web_workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in children + web_workers if alive(pid)] == []
    finally:
        run.kill()

    database = tmp_path / "retaguarda.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from core_company").fetchone() == (1,)
        assert db.execute("select count(*) from catalog_product").fetchone() == (200,)

    # Again: nothing to migrate, the demo is not loaded twice, and it serves at once.
    started = time.monotonic()
    run = Run(tmp_path, port, tmp_path / "run-2.log")
    try:
        output = run.wait_for("Press Ctrl-C to stop.", timeout=30)
        assert time.monotonic() - started < 25
        assert "up to date" in output
        assert "loading the" not in output
        assert "Casa Aurora (BR)" in output
        status, _url, _page = get(urllib.request.build_opener(), f"{base}/login/")
        assert status == 200
        assert run.stop() == 0
    finally:
        run.kill()
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from core_company").fetchone() == (1,)
        assert db.execute("select count(*) from catalog_product").fetchone() == (200,)
