"""Products in and out as CSV or XLSX: every row is validated with the catalog's rules before
anything is written, then the whole file is written in one transaction in batches; the export
writes the columns the import reads."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common import tabular
from retaguarda.common.errors import ValidationFailed
from retaguarda.common.tabular import Column, ErrorReport, ImportResult
from retaguarda.core.bulk import bulk_insert
from retaguarda.core.choices import Language
from retaguarda.core.importing import BATCH_SIZE, ImportKind, Progress, import_check, import_file_name, import_write
from retaguarda.core.permissions import Actor, require

from .choices import ProductKind
from .models import Product, ProductTranslation, TaxCategory, UnitOfMeasure
from .services import FieldErrors, barcode_clean, product_clean, text_clean

# The product fields a row sets, in the order a validated row keeps them until it is written.
ROW_FIELDS = (
    "sku",
    "barcode",
    "name",
    "description",
    "kind",
    "uom",
    "tax_category",
    "weight",
    "list_price",
    "standard_cost",
    "ncm",
    "is_active",
)
_FOREIGN_KEYS = {"uom": "uom_id", "tax_category": "tax_category_id"}
_KIND = ImportKind(
    object_type="catalog.product",
    action="products.import",
    event="products.imported",
    conflict_message=gettext_lazy(
        "Another user saved a product with the same SKU or barcode during the import. Try again."
    ),
)


def translation_columns() -> list[tuple[str, str, str]]:
    """(language, name column, description column) for each language a product can be named in."""
    return [(code, f"name_{code}", f"description_{code}") for code in Language.values]


# Columns a new product cannot do without; with `update_existing` a file may leave them out
# when it only changes existing products.
_NEEDED_FOR_NEW = ("name", "uom", "tax_category")


def product_columns(*, update_existing: bool = False) -> list[Column]:
    """The columns of a product file, in the order the export writes them."""
    number = tabular.parse_decimal_text
    needed = not update_existing
    columns = [
        Column("sku", required=True),
        Column("barcode", default=""),
        Column("name", required=needed, default=""),
        Column("description", default=""),
        Column("kind", parse=str.lower, default=ProductKind.GOODS),
        Column("uom", required=needed, default=""),
        Column("tax_category", required=needed, default=""),
        Column("weight", parse=number),
        Column("list_price", parse=number, default=Decimal(0)),
        Column("standard_cost", parse=number, default=Decimal(0)),
        Column("ncm", default=""),
        Column("is_active", parse=tabular.boolean, default=True),
    ]
    for _language, name_column, description_column in translation_columns():
        columns += [Column(name_column, default=""), Column(description_column, default="")]
    return columns


def _report_fields(report: ErrorReport, row: int, fields: dict) -> None:
    """A service's field errors as report lines; translations.<lang>.<field> -> <field>_<lang>."""
    for field, messages in fields.items():
        column = field
        if field.startswith("translations."):
            parts = field.split(".")
            column = f"{parts[2]}_{parts[1]}" if len(parts) == 3 else f"name_{parts[1]}"
        for message in messages:
            report.add(row, column, message)


def _sku_clean(value: str, errors: FieldErrors) -> str:
    sku = text_clean(value, "sku", errors, max_length=64, required=True)
    # The rule of catalog.services.product_clean, which checks it together with a query.
    if sku and any(ch.isspace() for ch in sku):
        errors.add("sku", _("A SKU has no spaces."))
    return sku


class _RowChecker:
    """Checks one record after another against the catalog's rules, the file's other rows and
    the company's products, loaded once; keeps the validated rows while no error is found."""

    def __init__(self, actor: Actor, report: ErrorReport, *, update_existing: bool):
        company = actor.company
        self.actor = actor
        self.report = report
        self.update_existing = update_existing
        self.units = {u.code: u for u in UnitOfMeasure.objects.filter(company=company)}
        self.categories = {c.code: c for c in TaxCategory.objects.filter(company=company)}
        products = Product.objects.filter(company=company)
        self.existing_skus = dict(products.values_list("sku", "pk"))
        self.existing_barcodes = dict(products.exclude(barcode="").values_list("barcode", "pk"))
        # Given a product to change, product_clean checks only the fields it is given and runs
        # no query for them; SKU and barcode uniqueness are checked here against the sets above.
        self.unsaved = Product(company=company)
        self.languages = translation_columns()
        self.file_skus: dict[str, int] = {}
        self.file_barcodes: dict[str, int] = {}
        # (product pk or None, values in ROW_FIELDS order, {language: (name, description)})
        self.rows: list[tuple[int | None, tuple, dict]] = []

    def check(self, row: int, record: dict, present: set[str]) -> None:
        report = self.report
        sku_errors = FieldErrors()
        sku = _sku_clean(record["sku"], sku_errors)
        _report_fields(report, row, sku_errors.fields)
        product_pk = self._check_sku_unique(row, sku) if sku and not sku_errors.fields else None

        data = {
            "name": record["name"],
            "description": record["description"],
            "kind": record["kind"],
            "uom": self.units.get(record["uom"]),
            "tax_category": self.categories.get(record["tax_category"]),
            "weight": record["weight"],
            "list_price": record["list_price"],
            "standard_cost": record["standard_cost"],
            "ncm": record["ncm"],
            "is_active": record["is_active"],
            "translations": {
                language: {"name": record[name_column], "description": record[description_column]}
                for language, name_column, description_column in self.languages
                if record[name_column] or record[description_column]
            },
        }
        if product_pk is not None:
            # An update changes only what the file has columns for.
            has_translations = any(n in present or d in present for _l, n, d in self.languages)
            data = {
                field: value
                for field, value in data.items()
                if field in present or (field == "translations" and has_translations)
            }
        if self.update_existing:
            # Columns that may be left out of the file, but not left empty where they apply.
            for field in _NEEDED_FOR_NEW:
                if (product_pk is None or field in present) and not record[field]:
                    report.add(row, field, _("This value is required."))
                    data.pop(field)
        try:
            cleaned = product_clean(self.actor, data, self.unsaved)
        except ValidationFailed as exc:
            _report_fields(report, row, exc.fields)
            cleaned = None
        barcode = self._check_barcode(row, record["barcode"], product_pk)

        if report:
            # Nothing will be written: keep checking to report every error, but keep no rows.
            self.rows.clear()
            return
        cleaned.update(sku=sku, barcode=barcode)
        for field in ("uom", "tax_category"):
            if cleaned.get(field) is not None:
                cleaned[field] = cleaned[field].pk
        translations = cleaned.get("translations", {})
        self.rows.append((product_pk, tuple(cleaned.get(f) for f in ROW_FIELDS), translations))

    def _check_sku_unique(self, row: int, sku: str) -> int | None:
        """The pk of the product the row updates, if any; reports duplicates."""
        if sku in self.file_skus:
            self.report.add(
                row, "sku", _("The SKU %(sku)s is also in row %(row)s.") % {"sku": sku, "row": self.file_skus[sku]}
            )
            return None
        self.file_skus[sku] = row
        product_pk = self.existing_skus.get(sku)
        if product_pk is not None and not self.update_existing:
            self.report.add(row, "sku", _("Another product already has this SKU."))
            return None
        return product_pk

    def _check_barcode(self, row: int, barcode: str, product_pk: int | None) -> str:
        if not barcode:
            return barcode
        try:
            barcode = barcode_clean(barcode)
        except ValueError as exc:
            self.report.add(row, "barcode", str(exc))
            return barcode
        if barcode in self.file_barcodes:
            self.report.add(
                row,
                "barcode",
                _("The barcode %(barcode)s is also in row %(row)s.")
                % {"barcode": barcode, "row": self.file_barcodes[barcode]},
            )
            return barcode
        self.file_barcodes[barcode] = row
        owner = self.existing_barcodes.get(barcode)
        if owner is not None and owner != product_pk:
            self.report.add(row, "barcode", _("Another product already has this barcode."))
        return barcode


def product_import(
    *,
    actor: Actor,
    file,
    format: str | None = None,
    name: str | None = None,
    update_existing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create the products of a CSV or XLSX file in the actor's company: all of them or none.

    Every row is checked first with the catalog's own rules (SKU, barcode, unit, tax category,
    prices, NCM, translations), SKUs and barcodes also against the other rows and the database.
    With any error nothing is written and the result carries the per-row report in the active
    language. A SKU that exists already is an error, unless `update_existing`: then that row
    updates the product (only the columns the file has). `progress(stage, done, total)` is
    called during the "validate" and "write" stages.
    """
    require(actor, "catalog.import")
    result = ImportResult()
    checker = _RowChecker(actor, result.errors, update_existing=update_existing)
    present = import_check(
        file=file,
        columns=product_columns(update_existing=update_existing),
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
    insert_columns = ["company", *ROW_FIELDS, "created_at", "updated_at"]
    update_fields = [f for f in ROW_FIELDS if f != "sku" and f in present]
    update_columns = [_FOREIGN_KEYS.get(f, f) for f in update_fields] + ["updated_at"]
    update_languages = [
        language
        for language, name_column, description_column in checker.languages
        if name_column in present or description_column in present
    ]

    def write_batch(batch: list) -> tuple[int, int]:
        new = [(company.pk, *values, now, now) for pk, values, _t in batch if pk is None]
        new_ids = bulk_insert(Product, insert_columns, new)
        new_translations = [translations for pk, _v, translations in batch if pk is None]
        changed = [
            Product(
                company=company,
                pk=pk,
                updated_at=now,
                **{_FOREIGN_KEYS.get(f, f): v for f, v in zip(ROW_FIELDS, values, strict=True)},
            )
            for pk, values, _t in batch
            if pk is not None
        ]
        if changed:
            Product.objects.bulk_update(changed, update_columns)
            ProductTranslation.objects.filter(product__in=changed, language__in=update_languages).delete()
        changed_translations = [translations for pk, _v, translations in batch if pk is not None]
        bulk_insert(
            ProductTranslation,
            ["product", "language", "name", "description"],
            (
                (product_id, language, tr_name, tr_description)
                for product_id, translations in zip(
                    [*new_ids, *(p.pk for p in changed)],
                    [*new_translations, *changed_translations],
                    strict=True,
                )
                for language, (tr_name, tr_description) in translations.items()
                if tr_name
            ),
        )
        return len(new_ids), len(changed)

    summary_extra = {"file": import_file_name(file, name)}
    import_write(actor, checker.rows, result, progress, write_batch, kind=_KIND, summary_extra=summary_extra)
    return result


# ---------------------------------------------------------------------------------------------
# Export


def product_export(*, actor: Actor, stream, format: str) -> int:
    """Write every product of the actor's company to a binary stream as CSV or XLSX, with the
    columns `product_import` reads; returns the number of products written."""
    require(actor, "catalog.view")
    company = actor.company
    columns = [c.name for c in product_columns()]
    languages = translation_columns()
    translations: dict[int, dict[str, tuple[str, str]]] = {}
    for product_id, language, tr_name, tr_description in ProductTranslation.objects.filter(
        product__company=company
    ).values_list("product_id", "language", "name", "description"):
        translations.setdefault(product_id, {})[language] = (tr_name, tr_description)
    products = (
        Product.objects.filter(company=company)
        .order_by("sku")
        .values_list(
            "pk",
            *[f"{f}__code" if f in _FOREIGN_KEYS else f for f in ROW_FIELDS],
        )
    )
    writer = tabular.table_writer(stream, format, columns)
    for pk, *values in products.iterator(chunk_size=BATCH_SIZE):
        own = translations.get(pk, {})
        extra = []
        for language, _n, _d in languages:
            extra.extend(own.get(language, ("", "")))
        writer.writerow([*values, *extra])
    writer.close()
    return writer.rows
