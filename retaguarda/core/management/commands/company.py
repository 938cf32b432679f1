from django.core.management.base import BaseCommand, CommandError

from retaguarda.common.errors import DomainError
from retaguarda.core.choices import Country, Currency, Language
from retaguarda.core.models import Company
from retaguarda.core.services import company_create

# The service's field names, as the options that carry them.
OPTION_OF_FIELD = {
    "legal_name": "--legal-name",
    "trade_name": "--trade-name",
    "tax_id": "--tax-id",
    "country": "--country",
    "base_currency": "--currency",
    "default_language": "--language",
}


def _error_text(exc: DomainError) -> str:
    """The refusal and, one per line, what is wrong with each option."""
    lines = [str(exc.message)]
    for name, messages in exc.fields.items():
        lines.extend(f"  {OPTION_OF_FIELD.get(name, name)}: {message}" for message in messages)
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Companies: `company create --legal-name N --tax-id T --country BR|ES|… [--currency] [--language]` "
        "(the tax id of the country: CNPJ, CIF or an autónomo's NIF, EU VAT number), `company list`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a company.")
        create.add_argument("--legal-name", required=True)
        create.add_argument("--trade-name", default="")
        create.add_argument("--tax-id", required=True)
        create.add_argument("--country", required=True, choices=Country.values)
        create.add_argument("--currency", choices=Currency.values, help="Default: BRL for BR, EUR otherwise.")
        create.add_argument("--language", choices=Language.values, help="Default: pt-br for BR, es for ES, else en.")
        sub.add_parser("list", help="List companies.")

    def handle(self, *args, action, **options):
        if action == "list":
            for c in Company.objects.order_by("pk"):
                self.stdout.write(f"{c.pk}\t{c.country}\t{c.tax_id}\t{c.legal_name}\t{c.base_currency}")
            return
        country = options["country"]
        currency = options["currency"] or ("BRL" if country == "BR" else "EUR")
        language = options["language"] or {"BR": "pt-br", "ES": "es"}.get(country, "en")
        try:
            company = company_create(
                legal_name=options["legal_name"],
                trade_name=options["trade_name"],
                tax_id=options["tax_id"],
                country=country,
                base_currency=currency,
                default_language=language,
            )
        except DomainError as exc:
            raise CommandError(_error_text(exc))
        self.stdout.write(self.style.SUCCESS(f"company {company.pk} created: {company}"))
