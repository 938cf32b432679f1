import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from retaguarda.common.errors import DomainError
from retaguarda.core.choices import Area, Role
from retaguarda.core.models import Company
from retaguarda.core.services import user_create


class Command(BaseCommand):
    help = "Manage users: `user create USERNAME --company ID --role ROLE [--areas a,b] [--password P]`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a user (or grant a role to an existing one).")
        create.add_argument("username")
        create.add_argument("--company", required=True, help="Company id or tax id.")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--areas", default="", help=f"Partner areas, comma-separated: {', '.join(Area.values)}")
        create.add_argument("--email", default="")
        create.add_argument("--password", help="Asked for when omitted.")
        sub.add_parser("list", help="List users and their roles.")

    def handle(self, *args, action, **options):
        if action == "list":
            from retaguarda.core.models import Membership

            for m in Membership.objects.select_related("user", "company").order_by("company_id", "user__username"):
                self.stdout.write(f"{m.company_id}\t{m.company}\t{m.user.username}\t{m.role}\t{','.join(m.areas)}")
            return
        company = company_lookup(options["company"])
        areas = [a.strip() for a in options["areas"].split(",") if a.strip()]
        unknown = [a for a in areas if a not in Area.values]
        if unknown:
            raise CommandError(f"unknown areas: {', '.join(unknown)}")
        password = options["password"]
        if password is None:
            password = getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages))
        try:
            user = user_create(
                username=options["username"],
                password=password,
                company=company,
                role=options["role"],
                areas=areas,
                email=options["email"],
            )
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(self.style.SUCCESS(f"user {user.username} is {options['role']} in {company}"))


def company_lookup(value: str) -> Company:
    company = None
    if value.isdigit():
        company = Company.objects.filter(pk=int(value)).first()
    company = company or Company.objects.filter(tax_id=value).first()
    if company is None:
        raise CommandError(f"no company {value!r}")
    return company
