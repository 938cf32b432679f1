"""Customers and suppliers in and out as CSV or XLSX: every row is validated with the parties'
own rules (tax ids by country, addresses, e-mail, phone) before anything is written, then the
whole file is written in one transaction in batches; the export writes the columns the import
reads."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common import tabular
from retaguarda.common.tabular import Column, ErrorReport, ImportResult
from retaguarda.common.taxids import tax_id_compact
from retaguarda.core.bulk import bulk_insert
from retaguarda.core.importing import BATCH_SIZE, ImportKind, Progress, import_check, import_file_name, import_write
from retaguarda.core.permissions import Actor, require

from .choices import AddressKind, PartyKind
from .models import Address, Party, PaymentTerm
from .selectors import CUSTOMER, SUPPLIER
from .services import PARTY_FIELDS, FieldErrors, address_apply, party_apply

# Party fields a row sets (the services' editable fields), in the order a validated row keeps
# them until it is written; the file names the payment term by its name, not its id.
PARTY_COLUMNS = tuple("payment_term" if f == "payment_term_id" else f for f in PARTY_FIELDS)
ADDRESS_PARTS = ("street", "number", "complement", "district", "city", "state", "postal_code", "country")
ADDRESS_KINDS = (AddressKind.BILLING, AddressKind.SHIPPING)
_KIND = ImportKind(
    object_type="parties.party",
    action="parties.import",
    event="parties.imported",
    conflict_message=gettext_lazy(
        "Another user saved a customer or supplier with the same tax id during the import. Try again."
    ),
)


def address_columns(kind: str) -> list[str]:
    return [f"{kind}_{part}" for part in ADDRESS_PARTS]


def party_columns(*, role: str | None = None, update_existing: bool = False) -> list[Column]:
    """The columns of a party file, in the order the export writes them. `role` ("customer" or
    "supplier") sets what a row without is_customer / is_supplier columns is."""
    columns = [
        # An empty legal name is refused by the parties' own rule, with the row's other errors.
        Column("legal_name", header_required=not update_existing, default=""),
        Column("trade_name", default=""),
        Column("kind", parse=str.lower, default=PartyKind.COMPANY),
        Column("is_customer", parse=tabular.boolean, default=role != SUPPLIER),
        Column("is_supplier", parse=tabular.boolean, default=role == SUPPLIER),
        Column("tax_country", parse=str.upper, default=""),
        Column("tax_id", default=""),
        Column("email", default=""),
        Column("phone", default=""),
        Column("language", parse=str.lower, default=""),
        Column("payment_term", default=""),
        Column("credit_limit", parse=tabular.parse_decimal_text, default=None),
        Column("notes", default=""),
        Column("is_active", parse=tabular.boolean, default=True),
    ]
    for kind in ADDRESS_KINDS:
        columns += [Column(name, default="") for name in address_columns(kind)]
    return columns


def _report_fields(report: ErrorReport, row: int, fields: dict) -> None:
    for field, messages in fields.items():
        column = "payment_term" if field == "payment_term_id" else field
        for message in messages:
            report.add(row, column, message)


class _RowChecker:
    """Checks one record after another against the parties' rules, the file's other rows and
    the company's parties, loaded once; keeps the validated rows while no error is found."""

    def __init__(self, actor: Actor, report: ErrorReport, *, update_existing: bool):
        company = actor.company
        self.actor = actor
        self.report = report
        self.update_existing = update_existing
        self.payment_terms = {
            name.casefold(): pk for pk, name in PaymentTerm.objects.filter(company=company).values_list("pk", "name")
        }
        active = Party.objects.filter(company=company, is_active=True).exclude(tax_id="")
        # (tax country, tax id) -> the active party holding it.
        self.existing: dict[tuple[str, str], Party] = {
            (p.tax_country, p.tax_id): p
            for p in (
                active if update_existing else active.only("pk", "tax_country", "tax_id", "legal_name", "trade_name")
            )
        }
        self.file_tax_ids: dict[tuple[str, str], int] = {}
        # (party pk or None, values in PARTY_FIELDS order, [(kind, address values)])
        self.rows: list[tuple[int | None, tuple, list]] = []

    def check(self, row: int, record: dict, present: set[str]) -> None:
        report = self.report
        actor = self.actor
        errors = FieldErrors()
        data = {c: record[c] for c in PARTY_COLUMNS if c != "payment_term"}
        data["tax_country"] = data["tax_country"] or actor.company.country
        payment_term_id = None
        if record["payment_term"]:
            payment_term_id = self.payment_terms.get(record["payment_term"].casefold())
            if payment_term_id is None:
                errors.add("payment_term", _("Choose one of this company's payment terms."))

        target = self._match(data) if self.update_existing else None
        if target is not None:
            # An update changes only what the file has columns for, on a copy of the party.
            party = Party(**{f.attname: getattr(target, f.attname) for f in Party._meta.concrete_fields})
            data = {field: value for field, value in data.items() if field in present}
        else:
            party = Party(company=actor.company)
        # party_apply checks the payment term with a query; it is checked above from a dict.
        party_apply(errors, actor, party, data)
        if "payment_term" in present or target is None:
            party.payment_term_id = payment_term_id

        addresses = []
        if target is None:
            for kind in ADDRESS_KINDS:
                names = address_columns(kind)
                values = {part: record[name] for part, name in zip(ADDRESS_PARTS, names, strict=True)}
                if not any(values.values()):
                    continue
                values["country"] = values["country"] or party.tax_country
                address = Address(company=actor.company)
                address_errors = FieldErrors(prefix=f"{kind}_")
                address_apply(address_errors, address, {**values, "kind": kind, "is_default": True}, partial=False)
                errors.merge(address_errors)
                addresses.append((kind, tuple(getattr(address, part) for part in ADDRESS_PARTS)))
        elif any(record[name] for kind in ADDRESS_KINDS for name in address_columns(kind)):
            errors.add(
                "billing_street",
                _("An import adds addresses to new customers and suppliers only; change this one's on its page."),
            )
        _report_fields(report, row, errors.fields)
        if not errors.fields:
            self._check_duplicate(row, party, target)

        if report:
            # Nothing will be written: keep checking to report every error, but keep no rows.
            self.rows.clear()
            return
        values = tuple(getattr(party, field) for field in PARTY_FIELDS)
        self.rows.append((target.pk if target is not None else None, values, addresses))

    def _match(self, data: dict) -> Party | None:
        """The active party an update row names by its tax id (as written or compact), if any."""
        if not data.get("tax_id"):
            return None
        return self.existing.get((data["tax_country"], tax_id_compact(data["tax_country"], data["tax_id"])))

    def _check_duplicate(self, row: int, party: Party, target: Party | None) -> None:
        if not (party.is_active and party.tax_id):
            return
        key = (party.tax_country, party.tax_id)
        if key in self.file_tax_ids:
            self.report.add(
                row,
                "tax_id",
                _("The tax id %(tax_id)s is also in row %(row)s.")
                % {"tax_id": party.tax_id_display, "row": self.file_tax_ids[key]},
            )
            return
        self.file_tax_ids[key] = row
        other = self.existing.get(key)
        if other is not None and (target is None or other.pk != target.pk):
            self.report.add(row, "tax_id", _("%(name)s already has this tax id.") % {"name": other.display_name})


def party_import(
    *,
    actor: Actor,
    file,
    format: str | None = None,
    name: str | None = None,
    role: str | None = None,
    update_existing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create the customers and suppliers of a CSV or XLSX file in the actor's company: all or none.

    Every row is checked first with the parties' own rules (tax id by country and kind, e-mail,
    phone, language, payment term, credit limit, billing and shipping address), active tax ids
    also against the other rows and the database. With any error nothing is written and the
    result carries the per-row report in the active language. `role` ("customer" or "supplier")
    is what rows without is_customer / is_supplier columns are. With `update_existing`, a row
    whose tax id belongs to an active party updates that party (only the columns the file has).
    `progress(stage, done, total)` is called during the "validate" and "write" stages.
    """
    require(actor, "parties.import")
    if role not in (None, CUSTOMER, SUPPLIER):
        raise ValueError(f"unknown role {role!r}")
    result = ImportResult()
    checker = _RowChecker(actor, result.errors, update_existing=update_existing)
    present = import_check(
        file=file,
        columns=party_columns(role=role, update_existing=update_existing),
        checker=checker,
        result=result,
        format=format,
        name=name,
        progress=progress,
    )
    if present is None:
        return result
    company = actor.company
    now = timezone.now()  # neither bulk_insert nor bulk_update stamps auto_now fields
    update_fields = [field for column, field in zip(PARTY_COLUMNS, PARTY_FIELDS, strict=True) if column in present]
    update_columns = [*update_fields, "updated_at"]
    insert_columns = ["company", *PARTY_FIELDS, "created_at", "updated_at"]
    address_insert_columns = ["company", "party", "kind", "is_default", *ADDRESS_PARTS]

    def write_batch(batch: list) -> tuple[int, int]:
        new_ids = bulk_insert(
            Party,
            insert_columns,
            ((company.pk, *values, now, now) for pk, values, _a in batch if pk is None),
        )
        new_addresses = [addresses for pk, _v, addresses in batch if pk is None]
        bulk_insert(
            Address,
            address_insert_columns,
            (
                (company.pk, party_id, kind, True, *values)
                for party_id, addresses in zip(new_ids, new_addresses, strict=True)
                for kind, values in addresses
            ),
        )
        changed = [
            Party(company=company, pk=pk, updated_at=now, **dict(zip(PARTY_FIELDS, values, strict=True)))
            for pk, values, _a in batch
            if pk is not None
        ]
        if changed:
            Party.objects.bulk_update(changed, update_columns)
        return len(new_ids), len(changed)

    summary_extra = {"file": import_file_name(file, name), "role": role or ""}
    import_write(actor, checker.rows, result, progress, write_batch, kind=_KIND, summary_extra=summary_extra)
    return result


# ---------------------------------------------------------------------------------------------
# Export


def party_export(*, actor: Actor, stream, format: str, role: str | None = None) -> int:
    """Write the customers and suppliers of the actor's company (only customers or suppliers
    with `role`) to a binary stream as CSV or XLSX, with the columns `party_import` reads;
    returns the number of parties written."""
    require(actor, "parties.view")
    company = actor.company
    parties = Party.objects.filter(company=company)
    if role == CUSTOMER:
        parties = parties.filter(is_customer=True)
    elif role == SUPPLIER:
        parties = parties.filter(is_supplier=True)
    addresses: dict[tuple[int, str], list] = {}
    for party_id, kind, *parts in (
        Address.objects.filter(company=company, is_default=True, party__in=parties)
        .values_list("party_id", "kind", *ADDRESS_PARTS)
        .iterator(chunk_size=BATCH_SIZE)
    ):
        addresses[(party_id, kind)] = parts
    empty = [""] * len(ADDRESS_PARTS)
    fields = ["payment_term__name" if c == "payment_term" else c for c in PARTY_COLUMNS]
    writer = tabular.table_writer(stream, format, [c.name for c in party_columns()])
    for pk, *values in parties.order_by("pk").values_list("pk", *fields).iterator(chunk_size=BATCH_SIZE):
        row = ["" if v is None else v for v in values]
        for kind in ADDRESS_KINDS:
            row += addresses.get((pk, kind), empty)
        writer.writerow(row)
    writer.close()
    return writer.rows
