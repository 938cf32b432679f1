from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retaguarda.core.backup import BackupError, backup_database


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup, or pg_dump for PostgreSQL) to FILE."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="Default: var/backups/retaguarda-<timestamp>.<ext>")

    def handle(self, *args, file=None, **options):
        from django.db import connection

        if not file:
            ext = "sqlite3" if connection.vendor == "sqlite" else "dump"
            file = Path(settings.VAR_DIR) / "backups" / f"retaguarda-{datetime.now():%Y%m%d-%H%M%S}.{ext}"
        try:
            path = backup_database(Path(file))
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"backup written to {path}"))
