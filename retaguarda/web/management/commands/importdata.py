"""`retaguarda importdata products|customers|suppliers FILE --company ID --user NAME`: import a
CSV or XLSX file, all rows or none, with a progress bar on stderr and the per-row errors."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from retaguarda.catalog.imports import product_import
from retaguarda.common.errors import DomainError
from retaguarda.core.management.commands.user import company_lookup
from retaguarda.core.models import User
from retaguarda.core.selectors import actor_for
from retaguarda.parties.imports import party_import
from retaguarda.parties.selectors import CUSTOMER, SUPPLIER

STAGES = {"validate": "checking", "write": "writing"}


class ProgressBars:
    """One tqdm bar per stage of an import, on stderr."""

    def __init__(self, stream, *, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                total=total, desc=STAGES.get(stage, stage), unit=" rows", file=self.stream, dynamic_ncols=True
            )
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Import products, customers or suppliers from a CSV or XLSX file. Every row is checked "
        "first; if any is bad nothing is written, the errors are printed and the exit status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["products", "customers", "suppliers"])
        parser.add_argument("file", help="A .csv or .xlsx file.")
        parser.add_argument("--company", required=True, help="Company id or tax id.")
        parser.add_argument("--user", required=True, help="The user the import is done as (and audited to).")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="Default: from the file name.")
        parser.add_argument(
            "--update", action="store_true", help="Update existing products (by SKU) or parties (by tax id)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, kind, file, **options):
        company = company_lookup(options["company"])
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        actor = actor_for(user, company.pk)
        if actor is None or actor.company.pk != company.pk:
            raise CommandError(f"{user.username} has no access to {company}")
        try:
            source = open(file, "rb")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}")
        # tqdm redraws its line with carriage returns: it writes to the stream itself, not
        # through Django's OutputWrapper, which would end every update with a newline.
        progress = ProgressBars(self.stderr._out, enabled=not options["no_progress"])
        common = dict(
            actor=actor,
            file=source,
            format=options["format"],
            name=os.path.basename(file),
            update_existing=options["update"],
            progress=progress,
        )
        with translation.override(user.language or company.default_language), source:
            try:
                if kind == "products":
                    result = product_import(**common)
                else:
                    result = party_import(**common, role=CUSTOMER if kind == "customers" else SUPPLIER)
            except DomainError as exc:
                raise CommandError(exc.message)
            finally:
                progress.close()
            if not result.ok:
                self.stderr.write(result.errors.as_text())
                raise CommandError(
                    f"{file} was rejected: {result.errors.total} errors in "
                    f"{len(result.errors.rows_with_errors)} rows; nothing was imported."
                )
        self.stdout.write(f"{file}: {result.rows} rows, {result.created} {kind} created, {result.updated} updated.")
