"""`retaguarda exportdata products|parties|customers|suppliers FILE --company ID`: write every
product or party of a company as CSV or XLSX, with the columns `importdata` reads."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from retaguarda.catalog.imports import product_export
from retaguarda.common import tabular
from retaguarda.common.errors import DomainError
from retaguarda.core.management.commands.user import company_lookup
from retaguarda.core.models import User
from retaguarda.core.permissions import system_actor
from retaguarda.core.selectors import actor_for
from retaguarda.parties.imports import party_export
from retaguarda.parties.selectors import CUSTOMER, SUPPLIER

ROLES = {"parties": None, "customers": CUSTOMER, "suppliers": SUPPLIER}


class Command(BaseCommand):
    help = "Export products or customers and suppliers as CSV or XLSX (FILE '-' writes CSV to stdout)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["products", "parties", "customers", "suppliers"])
        parser.add_argument("file", help="A .csv or .xlsx file, or - for standard output.")
        parser.add_argument("--company", required=True, help="Company id or tax id.")
        parser.add_argument("--user", help="Export as this user (with their permissions); default: the system.")
        parser.add_argument("--format", choices=list(tabular.FORMATS), help="Default: from the file name.")

    def handle(self, *args, kind, file, **options):
        company = company_lookup(options["company"])
        actor = system_actor(company)
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            actor = actor_for(user, company.pk) if user else None
            if actor is None or actor.company.pk != company.pk:
                raise CommandError(f"{options['user']!r} has no access to {company}")
        format = options["format"] or (tabular.CSV if file == "-" else tabular.detect_format(file))
        if format not in tabular.FORMATS:
            raise CommandError("name the file .csv or .xlsx, or give --format")
        if file == "-" and format != tabular.CSV:
            raise CommandError("only CSV can be written to standard output")

        def write(stream) -> int:
            if kind == "products":
                return product_export(actor=actor, stream=stream, format=format)
            return party_export(actor=actor, stream=stream, format=format, role=ROLES[kind])

        try:
            if file == "-":
                count = write(sys.stdout.buffer)
                sys.stdout.flush()
                return
            # Written beside the target and renamed, so a failed export leaves no half file.
            partial = f"{file}.partial"
            try:
                with open(partial, "wb") as stream:
                    count = write(stream)
                os.replace(partial, file)
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
        except DomainError as exc:
            raise CommandError(exc.message)
        except OSError as exc:
            raise CommandError(f"cannot write {file}: {exc.strerror}")
        self.stderr.write(f"{file}: {count} {kind} written.")
