"""`retaguarda run`: everything a developer needs on one machine, in one command.

Migrates the database, loads the demo company when the database has no company yet, then
runs the web server (gunicorn) and the background worker as child processes until Ctrl-C or
SIGTERM, and stops both. Development only: production runs `retaguarda serve` and
`retaguarda worker` under a process supervisor.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from retaguarda.core.management.commands.serve import gunicorn_control_socket_off
from retaguarda.core.models import Company
from retaguarda.demo.data import COUNTRIES
from retaguarda.demo.services import demo_logins, demo_logins_text

READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Own process group, so a Ctrl-C reaches only `run`, which then stops the children in
    # order; and on Linux, die with `run` even if it is killed without a chance to clean up.
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Development: migrate, load the demo company if there is no company, then run the web server "
        "and the background worker until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--country",
            default=os.environ.get("RETAGUARDA_DEMO_COUNTRY", "BR"),
            help="Demo to load into an empty database: BR or ES (default: $RETAGUARDA_DEMO_COUNTRY or BR).",
        )
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("RETAGUARDA_PORT", "8000")), help="Default 8000."
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo into an empty database.")
        parser.add_argument("--reload", action="store_true", help="Restart the web workers when the code changes.")

    def handle(self, *args, country, host, port, no_demo, reload, **options):
        if settings.MODE != "development":
            raise CommandError(
                "`retaguarda run` is for development: set RETAGUARDA_MODE=development (`make run` does). "
                "In production run `retaguarda serve` and `retaguarda worker`."
            )
        country = country.upper()
        if country not in COUNTRIES:
            raise CommandError(f"no demo for country {country!r}; choose one of {', '.join(COUNTRIES)}")
        self._port_free_or_fail(host, port)
        self._database_ready()
        if not no_demo and not Company.objects.exists():
            self.stdout.write(f"No company yet: loading the {country} demo (once).")
            call_command("demo", country=country, stdout=self.stdout)
        logins = demo_logins()
        connections.close_all()
        self._serve(host, port, reload, logins)

    def _port_free_or_fail(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port")

    def _database_ready(self) -> None:
        if connection.vendor == "sqlite":
            Path(connection.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        where = connection.settings_dict["NAME"] if connection.vendor == "sqlite" else connection.vendor
        if pending:
            self.stdout.write(f"Database {where}: applying {len(pending)} migrations…")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            self.stdout.write(f"Database {where}: up to date.")

    def _serve(self, host: str, port: int, reload: bool, logins) -> None:
        env = dict(os.environ, RETAGUARDA_MODE="development", PYTHONUNBUFFERED="1")
        # Plain http on this machine: secure-only cookies would never come back and log-in
        # would fail, even with RETAGUARDA_DEBUG=0 (as `make test` sets it).
        env.setdefault("RETAGUARDA_SECURE_COOKIES", "0")
        web_argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "retaguarda.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
        ]
        if reload:
            web_argv.append("--reload")
        web_argv += gunicorn_control_socket_off()
        worker_argv = [sys.executable, "-m", "retaguarda", "worker"]
        stop = {"signal": None}

        def on_signal(signum, frame):
            stop["signal"] = signum

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        children: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            children["web server"] = subprocess.Popen(web_argv, env=env, preexec_fn=_child_setup)  # noqa: S603
            children["worker"] = subprocess.Popen(worker_argv, env=env, preexec_fn=_child_setup)  # noqa: S603
            for name, child in children.items():
                self.stdout.write(f"Started the {name} (pid {child.pid}).")
            url = f"http://{host}:{port}/"
            if self._wait_until_listening(host, port, children, stop):
                self._announce(url, logins)
            while stop["signal"] is None:
                ended = [name for name, child in children.items() if child.poll() is not None]
                if ended:
                    self.stderr.write(f"The {ended[0]} stopped unexpectedly (exit {children[ended[0]].returncode}).")
                    exit_code = 1
                    break
                time.sleep(0.3)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exit_code:
            raise CommandError("stopped because a child process ended")
        self.stdout.write("Stopped the web server and the worker.")

    def _wait_until_listening(self, host, port, children, stop) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and stop["signal"] is None:
            if any(child.poll() is not None for child in children.values()):
                return False
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex((host, port)) == 0:
                    return True
            time.sleep(0.2)
        return False

    def _announce(self, url: str, logins) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"retaguarda is running at {url}"))
        if logins:
            self.stdout.write("Demo logins, one per role:")
            for _spec, company, staff in logins:
                self.stdout.write(demo_logins_text(staff, company))
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGTERM each child's process group, wait, then SIGKILL whatever is left."""
        for child in children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} did not stop in {STOP_TIMEOUT_SECONDS} s: killing it.")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
