from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from retaguarda.core.configcheck import production_problems


class Command(BaseCommand):
    help = "Check the configuration: database reachable, production settings safe, Django's checks."

    def handle(self, *args, **options):
        from django.conf import settings

        self.stdout.write(f"mode: {settings.MODE}  debug: {settings.DEBUG}")
        self.stdout.write(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        try:
            connection.ensure_connection()
        except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
            raise CommandError(f"database unreachable: {exc}")
        call_command("check", deploy=settings.MODE == "production", fail_level="ERROR")
        problems = production_problems()
        if problems:
            for problem in problems:
                self.stderr.write(f"  - {problem}")
            raise CommandError("unsafe production configuration (see above)")
        self.stdout.write(self.style.SUCCESS("configuration OK"))
