from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker (several may run at once; each job runs once)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--queue-name", default="*")

    def handle(self, *args, **options):
        kwargs = {"interval": options["interval"], "queue_name": options["queue_name"], "reload": False}
        if options["batch"]:
            kwargs["batch"] = True
            kwargs["startup_delay"] = False
        call_command("db_worker", **kwargs)
