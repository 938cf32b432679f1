from django.core.management.base import BaseCommand, CommandError

from retaguarda.core.housekeeping import housekeeping_prune


class Command(BaseCommand):
    help = "Delete expired idempotency records and old failed log-ins (run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--idempotency-hours", type=int, default=24, help="Keep idempotency records this long.")

    def handle(self, *args, idempotency_hours, **options):
        if idempotency_hours < 1:
            raise CommandError("--idempotency-hours must be at least 1")
        counts = housekeeping_prune(idempotency_hours=idempotency_hours)
        self.stdout.write(
            f"deleted {counts['idempotency_records']} idempotency records, {counts['login_failures']} failed log-ins"
        )
