import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from retaguarda.common.taxids import tax_id_example
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.testing import client_for, user_build
from retaguarda.parties.models import Party
from retaguarda.parties.testing import party_build

DNI_1 = tax_id_example(country="ES", kind="person", seed=1)
DNI_2 = tax_id_example(country="ES", kind="person", seed=2)
GOOD = f"legal_name;kind;tax_id\nAna García;person;{DNI_1}\nLuis Gómez;person;{DNI_2}\n".encode()
BAD = f"legal_name;kind;tax_id\nAna García;person;{DNI_1}\nLuis Gómez;person;12345678A\n".encode()


def upload(content: bytes, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), (Role.SALES, 403), (Role.FINANCE, 403), (Role.LEGAL, 403), (Role.ADMINISTRATOR, 302)],
)
def test_import_permissions(company, role, expected):
    user = user_build(company, role) if role else None
    audits_before = AuditLog.objects.count()

    response = client_for(user).post(reverse("parties:party_import"), {"file": upload(GOOD), "role": "customer"})

    assert response.status_code == expected
    if role is None:
        assert response["Location"].startswith(reverse("web:login"))
    if role == Role.ADMINISTRATOR:
        assert response["Location"] == reverse("parties:party_import")
        assert sorted(Party.objects.filter(company=company).values_list("legal_name", flat=True)) == [
            "Ana García",
            "Luis Gómez",
        ]
        assert AuditLog.objects.filter(company=company, action="parties.import").count() == 1
    else:
        assert Party.objects.count() == 0
        assert AuditLog.objects.count() == audits_before


def test_partner_cannot_import(company):
    partner = user_build(company, Role.PARTNER, areas=["parties"])
    response = client_for(partner).post(reverse("parties:party_import"), {"file": upload(GOOD)})
    assert response.status_code == 403
    assert Party.objects.count() == 0


def test_suppliers_role_from_the_form(company):
    client = client_for(user_build(company, Role.MANAGER))
    response = client.post(reverse("parties:party_import"), {"file": upload(GOOD), "role": "supplier"}, follow=True)
    assert response.status_code == 200
    assert "2 customers or suppliers created and 0 updated from customers.csv." in response.content.decode()
    assert set(Party.objects.values_list("is_customer", "is_supplier")) == {(False, True)}


def test_a_bad_row_shows_the_error_table_in_the_users_language_and_writes_nothing(company):
    client = client_for(user_build(company, Role.ADMINISTRATOR, language="es"))

    response = client.post(reverse("parties:party_import"), {"file": upload(BAD), "role": "customer"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "La letra de control no coincide: este no es un DNI válido." in html
    assert '<td class="num" data-label="Fila">3</td><td data-label="Columna">tax_id</td>' in html
    assert Party.objects.count() == 0
    assert AuditLog.objects.filter(action="parties.import").count() == 0


def test_import_page_preselects_the_role_from_the_query(company):
    client = client_for(user_build(company, Role.ADMINISTRATOR))
    response = client.get(reverse("parties:party_import"), {"role": "supplier"})
    assert response.status_code == 200
    assert '<option value="supplier" selected>' in response.content.decode()


@pytest.mark.parametrize(("role", "expected"), [(None, 302), (Role.WAREHOUSE, 403), (Role.SALES, 200)])
def test_export_permissions(company, role, expected):
    party_build(company, legal_name="Exported")
    user = user_build(company, role) if role else None
    response = client_for(user).get(reverse("parties:party_export"), {"format": "xlsx"})
    assert response.status_code == expected


def test_export_of_suppliers_as_xlsx(company):
    party_build(company, legal_name="Customer SL")
    party_build(company, legal_name="Supplier SL", is_customer=False, is_supplier=True)
    client = client_for(user_build(company, Role.FINANCE))

    response = client.get(reverse("parties:party_export"), {"format": "xlsx", "role": "supplier"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="suppliers-{company.pk}-')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("legal_name", "trade_name", "kind")
    assert [r[0] for r in rows[1:]] == ["Supplier SL"]
