import os
import time

from django.core.management.base import BaseCommand, CommandError

from retaguarda.common.errors import DomainError
from retaguarda.demo.data import COUNTRIES
from retaguarda.demo.services import DemoRefused, UnknownCountry, demo_load, demo_logins_text


class Command(BaseCommand):
    help = (
        "Load a demo company: an online store in Brazil (BR) or Spain (ES) with one login per role, "
        "~200 products, ~500 customers and ~40 suppliers. Does nothing if that demo is already loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--country",
            default=os.environ.get("RETAGUARDA_DEMO_COUNTRY", "BR"),
            help=f"One of {', '.join(COUNTRIES)} (default: $RETAGUARDA_DEMO_COUNTRY or BR).",
        )

    def handle(self, *args, country, **options):
        started = time.monotonic()
        try:
            result = demo_load(country=country.upper())
        except UnknownCountry as exc:
            raise CommandError(str(exc))
        except DemoRefused as exc:
            raise CommandError(f"the demo data was refused (nothing was written): {exc}")
        except DomainError as exc:
            # A service refused demo data: a bug in the demo, reported with the fields at fault.
            raise CommandError(f"the demo data was refused (nothing was written): {exc.message} {exc.fields or ''}")
        company = result.company
        if not result.created:
            self.stdout.write(
                f"The {result.country} demo company is already loaded: {company.legal_name} (id {company.pk}). "
                "Nothing to do."
            )
            return
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the {result.country} demo in {time.monotonic() - started:.1f} s: "
                f"{company.legal_name} (id {company.pk}, tax id {company.tax_id})"
            )
        )
        self.stdout.write(
            f"  {counts['products']} products, {counts['customers']} customers, {counts['suppliers']} suppliers, "
            f"{counts['payment_terms']} payment terms, 1 price list with {counts['price_list_items']} prices, "
            f"{counts['users']} users"
        )
        self.stdout.write(demo_logins_text(result.staff, company))
