from django.core.management.base import BaseCommand, CommandError

from retaguarda.common.errors import DomainError
from retaguarda.core.models import Company


class Command(BaseCommand):
    help = (
        "Run dunning (letters, late charges, blocks) for one company or all, as of today or a date; "
        "--schedule queues the worker's daily runs instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Company id (default: every company).")
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today).")
        parser.add_argument("--preview", action="store_true", help="Only record what would go out.")
        parser.add_argument("--schedule", action="store_true", help="Queue each company's daily run in the worker.")

    def handle(self, *args, company=None, as_of=None, preview=False, schedule=False, **options):
        from retaguarda.core.permissions import system_actor
        from retaguarda.dunning.services import dunning_run
        from retaguarda.dunning.tasks import dunning_daily_schedule

        companies = Company.objects.order_by("pk")
        if company is not None:
            companies = companies.filter(pk=company)
            if not companies.exists():
                raise CommandError(f"no company {company}")
        failed = 0
        for row in companies:
            if schedule:
                queued = dunning_daily_schedule(company_id=row.pk)
                self.stdout.write(f"company {row.pk}: {'daily run queued' if queued else 'daily run already queued'}")
                continue
            try:
                run = dunning_run(actor=system_actor(row), company=row, as_of=as_of, preview=preview)
            except DomainError as exc:
                failed += 1
                self.stderr.write(f"company {row.pk}: {exc.message}")
                continue
            self.stdout.write(
                f"company {row.pk}: run {run.pk} as of {run.as_of.isoformat()} ({run.status}): "
                f"{run.letter_count} letters, {run.blocked_count} blocked, {run.unblocked_count} unblocked, "
                f"{run.handover_count} handed over"
            )
        if failed:
            raise CommandError(f"{failed} companies failed")
