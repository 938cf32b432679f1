"""Verify a company's invoice register (Verifactu chain) and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from retaguarda.core.models import Company
from retaguarda.einvoicing.register import register_verify


class Command(BaseCommand):
    help = "Verify the invoice register chain of a company (or of every Spanish company)."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="company id; default: every Spanish company")

    def handle(self, *args, **options):
        companies = Company.objects.filter(country="ES").order_by("pk")
        if options.get("company"):
            companies = Company.objects.filter(pk=options["company"])
            if not companies.exists():
                raise CommandError(_("No such company."))
        broken = False
        for company in companies:
            check = register_verify(company.pk)
            line = f"{company.pk} {company.legal_name}: {check.message}"
            if check.ok:
                self.stdout.write(line)
            else:
                broken = True
                self.stderr.write(line)
        if broken:
            raise CommandError(_("The invoice register is broken."))
