"""The `retaguarda` command line: a thin front over Django's management commands.

    retaguarda run                 development: migrate, load the demo once, serve + worker
    retaguarda serve               gunicorn (production), --workers N --bind HOST:PORT
    retaguarda worker              background task worker (django-tasks database backend)
    retaguarda migrate             create or update the database
    retaguarda demo --country BR   load a demo company (BR or ES)
    retaguarda user create …       create a user with a role in a company
    retaguarda token create|list|revoke …
    retaguarda backup FILE / restore FILE
    retaguarda company create|list …
    retaguarda check               configuration sanity (refuses unsafe production settings)
    retaguarda prune               daily housekeeping (expired idempotency records, old failed log-ins)
    retaguarda dunning_run         dunning letters, late charges, blocks (--preview, --as-of, --schedule)
    retaguarda import|export …     products and parties as CSV or XLSX

Any other Django management command is passed through.
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "check": "configcheck",
    "import": "importdata",
    "export": "exportdata",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command = ALIASES.get(argv[0], argv[0])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["retaguarda", command, *argv[1:]])


if __name__ == "__main__":
    main()
