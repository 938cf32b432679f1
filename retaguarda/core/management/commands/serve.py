import os
import sys

from django.core.management.base import BaseCommand

from retaguarda.core.configcheck import refuse_unsafe_production


def gunicorn_control_socket_off() -> list[str]:
    """gunicorn 27 opens one control socket per user in ~/.gunicorn by default: a second server
    on the machine (another worker set, a test, a benchmark) would take it over. We need none."""
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


class Command(BaseCommand):
    help = "Serve the web application and API with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("RETAGUARDA_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("RETAGUARDA_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("RETAGUARDA_THREADS", "4")))

    def handle(self, *args, bind, workers, threads, **options):
        refuse_unsafe_production()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "retaguarda.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            "-",
            "--timeout",
            "60",
            *gunicorn_control_socket_off(),
        ]
        os.execv(sys.executable, argv)
