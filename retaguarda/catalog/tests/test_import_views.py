import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from retaguarda.catalog.models import Product
from retaguarda.catalog.testing import catalog_defaults_build, product_build
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.testing import client_for, user_build

GOOD = b"sku,name,uom,tax_category,list_price\nW-1,Caneca,un,standard,12.50\nW-2,Prato,un,reduced,7\n"
BAD = b"sku,name,uom,tax_category,list_price\nW-1,Caneca,un,standard,12.50\nW-2,Prato,crate,reduced,7.001\n"


def upload(content: bytes, name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def catalog(company):
    catalog_defaults_build(company)
    return company


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), (Role.SALES, 403), (Role.WAREHOUSE, 403), (Role.HR, 403), (Role.MANAGER, 302)],
)
def test_import_permissions(catalog, role, expected):
    user = user_build(catalog, role) if role else None
    audits_before = AuditLog.objects.count()

    response = client_for(user).post(reverse("catalog:product_import"), {"file": upload(GOOD)})

    assert response.status_code == expected
    if role is None:
        assert response["Location"].startswith(reverse("web:login"))
    if role == Role.MANAGER:
        assert response["Location"] == reverse("catalog:product_import")
        assert sorted(Product.objects.filter(company=catalog).values_list("sku", flat=True)) == ["W-1", "W-2"]
        assert AuditLog.objects.filter(company=catalog, action="products.import").count() == 1
    else:
        assert Product.objects.count() == 0
        assert AuditLog.objects.count() == audits_before


def test_import_page_shows_the_form_and_the_columns(catalog):
    response = client_for(user_build(catalog, Role.ADMINISTRATOR)).get(reverse("catalog:product_import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert "<code>tax_category</code>" in html
    assert f'href="{reverse("catalog:product_export")}?format=xlsx"' in html


def test_success_is_reported_after_the_redirect(catalog):
    client = client_for(user_build(catalog, Role.ADMINISTRATOR))
    response = client.post(reverse("catalog:product_import"), {"file": upload(GOOD)}, follow=True)
    assert response.status_code == 200
    assert "2 products created and 0 updated from products.csv." in response.content.decode()


def test_a_bad_row_shows_the_error_table_and_writes_nothing(catalog):
    client = client_for(user_build(catalog, Role.ADMINISTRATOR))

    response = client.post(reverse("catalog:product_import"), {"file": upload(BAD)})

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "The file has 2 errors; correct them and upload the file again." in html
    assert (
        '<td class="num" data-label="Row">3</td><td data-label="Column">list_price</td>'
        '<td data-label="Error">Use at most 2 decimal places.</td>'
    ) in html
    assert '<td data-label="Column">uom</td><td data-label="Error">Unknown unit of measure.</td>' in html
    assert Product.objects.count() == 0
    assert AuditLog.objects.filter(action="products.import").count() == 0


def test_errors_are_shown_in_the_language_of_the_user(catalog):
    client = client_for(user_build(catalog, Role.ADMINISTRATOR, language="es"))
    response = client.post(reverse("catalog:product_import"), {"file": upload(BAD)})
    assert response.status_code == 422
    assert "Unidad de medida desconocida." in response.content.decode()
    assert Product.objects.count() == 0


def test_an_xlsx_upload_is_imported(catalog):
    workbook = Workbook()
    workbook.active.append(["sku", "name", "uom", "tax_category", "list_price"])
    workbook.active.append(["X-1", "Copo", "un", "standard", 3.5])
    content = io.BytesIO()
    workbook.save(content)
    client = client_for(user_build(catalog, Role.ADMINISTRATOR))

    response = client.post(reverse("catalog:product_import"), {"file": upload(content.getvalue(), "p.xlsx")})

    assert response.status_code == 302
    assert str(Product.objects.get(company=catalog, sku="X-1").list_price) == "3.50"


def test_a_missing_file_is_a_form_error(catalog):
    client = client_for(user_build(catalog, Role.ADMINISTRATOR))
    response = client.post(reverse("catalog:product_import"), {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize(("role", "expected"), [(None, 302), (Role.HR, 403), (Role.WAREHOUSE, 200)])
def test_export_permissions(catalog, role, expected):
    product_build(catalog, sku="E-1")
    user = user_build(catalog, role) if role else None
    response = client_for(user).get(reverse("catalog:product_export"), {"format": "csv"})
    assert response.status_code == expected


def test_export_downloads_csv_and_xlsx(catalog):
    product_build(catalog, sku="E-1", name="Caneca", list_price="12.50")
    client = client_for(user_build(catalog, Role.SALES))

    response = client.get(reverse("catalog:product_export"), {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="products-{catalog.pk}-')
    body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0].startswith("sku,barcode,name,description,kind,uom,tax_category,weight,list_price")
    assert body[1].startswith("E-1,,Caneca,,goods,un,standard,,12.50,")

    response = client.get(reverse("catalog:product_export"), {"format": "xlsx"})
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[2]][:3] == ["E-1", None, "Caneca"]


def test_a_conflict_during_the_import_is_shown_on_the_page(catalog, monkeypatch):
    from retaguarda.catalog import views_import
    from retaguarda.common.errors import Conflict

    def conflicting_import(**kwargs):
        raise Conflict("Another user saved a product with the same SKU or barcode during the import. Try again.")

    monkeypatch.setattr(views_import, "product_import", conflicting_import)
    client = client_for(user_build(catalog, Role.ADMINISTRATOR))
    response = client.post(reverse("catalog:product_import"), {"file": upload(GOOD)})
    assert response.status_code == 409
    assert "during the import. Try again." in response.content.decode()
    assert Product.objects.count() == 0
