from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from retaguarda.core.backup import BackupError, restore_database


class Command(BaseCommand):
    help = "Restore the database from a backup FILE made by `retaguarda backup` (replaces all data)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, file, yes=False, **options):
        if not yes:
            answer = input("This replaces every row in the database. Type 'restore' to go on: ")
            if answer.strip() != "restore":
                raise CommandError("cancelled")
        try:
            restore_database(Path(file))
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"database restored from {file}"))
