import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from retaguarda.catalog.imports import product_export, product_import
from retaguarda.catalog.models import Product, ProductTranslation
from retaguarda.catalog.testing import catalog_defaults_build, product_build
from retaguarda.common.errors import Conflict, PermissionDenied
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build, company_build

HEADER = "sku,barcode,name,description,kind,uom,tax_category,weight,list_price,standard_cost,ncm,is_active"


def csv_file(*lines: str, header: str = HEADER, name: str = "products.csv") -> io.BytesIO:
    data = io.BytesIO(("\n".join([header, *lines]) + "\n").encode())
    data.name = name
    return data


def xlsx_file(rows) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    data.name = "products.xlsx"
    return data


def product_state(product: Product) -> dict:
    return {
        "sku": product.sku,
        "barcode": product.barcode,
        "name": product.name,
        "description": product.description,
        "kind": product.kind,
        "uom": product.uom.code,
        "tax_category": product.tax_category.code,
        "weight": product.weight,
        "list_price": product.list_price,
        "standard_cost": product.standard_cost,
        "ncm": product.ncm,
        "is_active": product.is_active,
        "translations": {t.language: (t.name, t.description) for t in product.translations.order_by("language")},
    }


def imports_audited(company):
    return list(AuditLog.objects.filter(company=company, action="products.import").values_list("after", flat=True))


@pytest.fixture
def importer(company):
    catalog_defaults_build(company)
    return actor_build(company, Role.MANAGER)


def test_csv_import_creates_every_product_and_one_audit_row(company, importer):
    result = product_import(
        actor=importer,
        file=csv_file(
            "CAF-1,7891234567895,Café torrado 500 g,Arábica,goods,un,standard,0.5,24.90,12.35,0901.21.00,true",
            "SRV-1,,Instalação,,service,h,reduced,,80,,,false",
        ),
    )

    assert result.ok
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    products = {p.sku: product_state(p) for p in Product.objects.filter(company=company)}
    assert products == {
        "CAF-1": {
            "sku": "CAF-1",
            "barcode": "7891234567895",
            "name": "Café torrado 500 g",
            "description": "Arábica",
            "kind": "goods",
            "uom": "un",
            "tax_category": "standard",
            "weight": Decimal("0.500"),
            "list_price": Decimal("24.90"),
            "standard_cost": Decimal("12.35"),
            "ncm": "09012100",
            "is_active": True,
            "translations": {},
        },
        "SRV-1": {
            "sku": "SRV-1",
            "barcode": "",
            "name": "Instalação",
            "description": "",
            "kind": "service",
            "uom": "h",
            "tax_category": "reduced",
            "weight": None,
            "list_price": Decimal("80.00"),
            "standard_cost": Decimal("0.00"),
            "ncm": "",
            "is_active": False,
            "translations": {},
        },
    }
    assert imports_audited(company) == [{"rows": 2, "created": 2, "updated": 0, "file": "products.csv"}]


def test_semicolon_csv_with_bom_and_decimal_commas(company, importer):
    data = io.BytesIO(
        "\ufeffSKU;Name;UOM;Tax category;List price;Weight\nA-1;Azeite, 500 ml;un;standard;1.234,50;0,5\n".encode()
    )

    result = product_import(actor=importer, file=data, format="csv")

    assert result.ok, result.errors.as_list()
    product = Product.objects.get(company=company, sku="A-1")
    assert (product.name, product.list_price, product.weight) == (
        "Azeite, 500 ml",
        Decimal("1234.50"),
        Decimal("0.500"),
    )


def test_xlsx_import_with_numeric_cells(company, importer):
    result = product_import(
        actor=importer,
        file=xlsx_file(
            [
                ["sku", "barcode", "name", "uom", "tax_category", "list_price", "is_active", "name_en"],
                ["X-1", 7891234567895, "Caneca", "un", "standard", 19.9, True, "Mug"],
                [1002, None, "Prato", "un", "exempt", 7, False, None],
            ]
        ),
    )

    assert result.ok, result.errors.as_list()
    assert result.created == 2
    mug = Product.objects.get(company=company, sku="X-1")
    plate = Product.objects.get(company=company, sku="1002")
    assert (mug.barcode, mug.list_price, mug.is_active) == ("7891234567895", Decimal("19.90"), True)
    assert list(mug.translations.values_list("language", "name")) == [("en", "Mug")]
    assert (plate.list_price, plate.is_active, plate.tax_category.code) == (Decimal("7.00"), False, "exempt")


def test_every_bad_row_is_reported_and_nothing_is_written(company, importer):
    product_build(company, sku="TAKEN", barcode="4006381333931")
    products_before = Product.objects.count()
    audits_before = AuditLog.objects.count()

    result = product_import(
        actor=importer,
        file=csv_file(
            "OK-1,,Good,,goods,un,standard,,1.00,,,true",
            "OK-1,,Twice in the file,,goods,un,standard,,1.00,,,true",
            "TAKEN,,Already in the database,,goods,un,standard,,1.00,,,true",
            "BAD UNIT,,Bad unit,,goods,crate,standard,,1.00,,,true",
            "BAD-TAX,,Bad tax,,goods,un,luxury,,1.00,,,true",
            "BAD-EAN,7891234567890,Bad barcode,,goods,un,standard,,1.00,,,true",
            "BAD-PRICE,,Bad price,,goods,un,standard,,12.345,-1,,true",
            "NOT-NUM,,Not a number,,goods,un,standard,heavy,abc,,,maybe",
            "EAN-2,4006381333931,Barcode of TAKEN,,goods,un,standard,,1.00,,,true",
            "EAN-3,7891234567895,First,,goods,un,standard,,1.00,,,true",
            "EAN-4,789-1234567895,Second with same barcode,,gift,un,standard,,1.00,,123,true",
            ",,,,goods,,,,,,,",
        ),
    )

    assert not result.ok
    assert result.rows == 12
    assert result.errors.as_list() == [
        {"row": 3, "column": "sku", "message": "The SKU OK-1 is also in row 2."},
        {"row": 4, "column": "sku", "message": "Another product already has this SKU."},
        {"row": 5, "column": "sku", "message": "A SKU has no spaces."},
        {"row": 5, "column": "uom", "message": "Unknown unit of measure."},
        {"row": 6, "column": "tax_category", "message": "Unknown tax category."},
        {
            "row": 7,
            "column": "barcode",
            "message": "Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode (check the check digit).",
        },
        {"row": 8, "column": "list_price", "message": "Use at most 2 decimal places."},
        {"row": 8, "column": "standard_cost", "message": "Enter a number that is not negative."},
        {"row": 9, "column": "is_active", "message": "Enter yes or no (true or false, 1 or 0)."},
        {"row": 9, "column": "list_price", "message": "Enter a number."},
        {"row": 9, "column": "weight", "message": "Enter a number."},
        {"row": 10, "column": "barcode", "message": "Another product already has this barcode."},
        {"row": 12, "column": "barcode", "message": "The barcode 7891234567895 is also in row 11."},
        {"row": 12, "column": "kind", "message": "Choose goods or service."},
        {"row": 12, "column": "ncm", "message": "An NCM code has 8 digits, such as 8471.30.12."},
        {"row": 13, "column": "name", "message": "This value is required."},
        {"row": 13, "column": "sku", "message": "This value is required."},
        {"row": 13, "column": "tax_category", "message": "This value is required."},
        {"row": 13, "column": "uom", "message": "This value is required."},
    ]
    assert Product.objects.count() == products_before
    assert AuditLog.objects.count() == audits_before
    assert imports_audited(company) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_one_bad_row_among_many_rejects_the_whole_file(company, importer, fmt):
    rows = [
        [f"P-{i:04d}", "", f"Product {i}", "", "goods", "un", "standard", "", "9.99", "", "", "true"]
        for i in range(600)
    ]
    rows[417][8] = "9.999"  # a price with three decimals in row 419 of the file
    header = HEADER.split(",")
    if fmt == "csv":
        data = csv_file(*[",".join(r) for r in rows])
    else:
        data = xlsx_file([header, *rows])

    result = product_import(actor=importer, file=data, format=fmt)

    assert result.errors.as_list() == [{"row": 419, "column": "list_price", "message": "Use at most 2 decimal places."}]
    assert result.rows == 600
    assert Product.objects.filter(company=company).count() == 0
    assert imports_audited(company) == []


def test_errors_are_in_the_language_of_the_user(company, importer):
    with translation.override("es"):
        result = product_import(actor=importer, file=csv_file("A,,x,,goods,crate,standard,,1,,,true"))
    assert result.errors.as_list() == [{"row": 2, "column": "uom", "message": "Unidad de medida desconocida."}]


def test_file_errors_write_nothing(company, importer):
    result = product_import(actor=importer, file=csv_file("A,b", header="sku,colour"))
    assert result.errors.as_list() == [
        {
            "row": 1,
            "column": "colour",
            "message": "Unknown column; the columns are: sku, barcode, name, description, kind, uom, tax_category, "
            "weight, list_price, standard_cost, ncm, is_active, name_en, description_en, name_pt-br, "
            "description_pt-br, name_es, description_es.",
        },
        {"row": 1, "column": "name", "message": "Required column missing."},
        {"row": 1, "column": "tax_category", "message": "Required column missing."},
        {"row": 1, "column": "uom", "message": "Required column missing."},
    ]
    empty = product_import(actor=importer, file=csv_file())
    assert empty.errors.as_list() == [{"row": 0, "column": "", "message": "The file has no rows to import."}]
    assert Product.objects.count() == 0
    assert imports_audited(company) == []


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.FINANCE, Role.HR])
def test_roles_without_catalog_import_are_refused_and_nothing_changes(company, role):
    catalog_defaults_build(company)
    actor = actor_build(company, role)
    audits_before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        product_import(actor=actor, file=csv_file("A,,x,,goods,un,standard,,1,,,true"))
    assert Product.objects.count() == 0
    assert AuditLog.objects.count() == audits_before


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER])
def test_roles_with_catalog_import_may_import(company, role):
    catalog_defaults_build(company)
    result = product_import(actor=actor_build(company, role), file=csv_file("A,,x,,goods,un,standard,,1,,,true"))
    assert result.created == 1


def test_the_query_count_does_not_grow_with_the_rows(company, importer):
    def queries(count):
        lines = [f"Q{count}-{i},,n,,goods,un,standard,,1,,,true" for i in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert product_import(actor=importer, file=csv_file(*lines)).created == count
        # A batch of products is one INSERT (SQLite) or one draw of keys and a COPY (PostgreSQL).
        inserts = [
            q
            for q in captured.captured_queries
            if q["sql"].startswith('INSERT INTO "catalog_product"') or "nextval(" in q["sql"]
        ]
        return len(captured.captured_queries) - len(inserts), len(inserts)

    # Reads of units, tax categories, SKUs and barcodes; savepoint in and out; the audit row,
    # the event and its webhook subscriptions. Products go in batches, never one by one.
    assert queries(3) == (9, 1)
    others, inserts = queries(1500)
    assert others == 9
    assert 1 <= inserts <= 1500 // 50


def test_a_product_saved_during_the_import_is_a_conflict_and_nothing_is_written(company, importer):
    def progress(stage, done, total):
        if stage == "validate" and done == 2:
            product_build(company, sku="RACE")

    with pytest.raises(Conflict):
        product_import(
            actor=importer,
            file=csv_file("OTHER,,x,,goods,un,standard,,1,,,true", "RACE,,y,,goods,un,standard,,1,,,true"),
            progress=progress,
        )
    assert list(Product.objects.filter(company=company).values_list("sku", flat=True)) == ["RACE"]
    assert imports_audited(company) == []


def test_update_existing_changes_only_the_columns_in_the_file(company, importer):
    product = product_build(
        company, sku="UPD", name="Old name", description="Kept", list_price="5.00", translations={"en": {"name": "Old"}}
    )
    result = product_import(
        actor=importer,
        file=csv_file(
            "UPD,Renamed,kg,standard,6.50,New",
            "NEW,Created,un,reduced,1,",
            header="sku,name,uom,tax_category,list_price,name_en",
        ),
        update_existing=True,
    )
    assert result.ok, result.errors.as_list()
    assert (result.created, result.updated) == (1, 1)
    product.refresh_from_db()
    assert (product.name, product.description, product.list_price) == ("Renamed", "Kept", Decimal("6.50"))
    assert (product.uom.code, product.tax_category.code) == ("kg", "standard")
    assert list(product.translations.values_list("language", "name")) == [("en", "New")]
    created = Product.objects.get(company=company, sku="NEW")
    assert (created.name, created.uom.code, created.tax_category.code) == ("Created", "un", "reduced")
    assert imports_audited(company) == [{"rows": 2, "created": 1, "updated": 1, "file": "products.csv"}]


def test_update_existing_still_needs_name_unit_and_tax_category_for_new_products(company, importer):
    product_build(company, sku="UPD", name="Old name")
    result = product_import(
        actor=importer, file=csv_file("UPD,7.00", "NEW,1", header="sku,list_price"), update_existing=True
    )
    assert result.errors.as_list() == [
        {"row": 3, "column": "name", "message": "This value is required."},
        {"row": 3, "column": "tax_category", "message": "This value is required."},
        {"row": 3, "column": "uom", "message": "This value is required."},
    ]
    emptied = product_import(actor=importer, file=csv_file("UPD,", header="sku,name"), update_existing=True)
    assert emptied.errors.as_list() == [{"row": 2, "column": "name", "message": "This value is required."}]
    assert Product.objects.get(company=company, sku="UPD").list_price == Decimal("10.00")
    assert imports_audited(company) == []


def test_progress_reports_both_stages(company, importer):
    calls = []
    lines = [f"G-{i},,n,,goods,un,standard,,1,,,true" for i in range(2500)]
    product_import(actor=importer, file=csv_file(*lines), progress=lambda *a: calls.append(a))
    assert calls[-3:] == [("validate", 2500, 2500), ("write", 2000, 2500), ("write", 2500, 2500)]
    assert calls[0] == ("validate", 1000, 2500)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_another_company_gives_equal_data(company, fmt):
    source = system_actor(company)
    catalog_defaults_build(company)
    product_build(
        company,
        sku="RT-1",
        barcode="7891234567895",
        name="=Fórmula? não",
        description='Linha 1\nLinha 2; com vírgula, e aspas "',
        weight="1.250",
        list_price="1234567.89",
        standard_cost="0.10",
        ncm="09012100",
        translations={"en": {"name": "Coffee", "description": "Roasted"}, "pt-br": {"name": "Café"}},
    )
    product_build(company, sku="RT-2", name="-5 graus", kind="service", uom="h", tax_category="exempt", is_active=False)
    product_build(company, sku="0012", name="Zero à esquerda", list_price="0")
    stream = io.BytesIO()
    assert product_export(actor=source, stream=stream, format=fmt) == 3
    stream.seek(0)

    other = company_build(country="ES")
    catalog_defaults_build(other)
    result = product_import(actor=actor_build(other, Role.ADMINISTRATOR), file=stream, format=fmt)

    assert result.ok, result.errors.as_list()
    assert result.created == 3

    def state(c):
        return [product_state(p) for p in Product.objects.filter(company=c).order_by("sku")]

    assert state(other) == state(company)
    assert ProductTranslation.objects.filter(product__company=other).count() == 2


def test_export_requires_catalog_view(company):
    with pytest.raises(PermissionDenied):
        product_export(actor=actor_build(company, Role.HR), stream=io.BytesIO(), format="csv")
