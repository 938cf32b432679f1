import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from retaguarda.common.errors import Conflict, PermissionDenied
from retaguarda.common.taxids import tax_id_example
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build, company_build
from retaguarda.parties.imports import party_export, party_import
from retaguarda.parties.models import Address, Party, PaymentTerm
from retaguarda.parties.services import payment_term_create
from retaguarda.parties.testing import party_build

HEADER = (
    "legal_name,trade_name,kind,tax_country,tax_id,email,phone,language,payment_term,credit_limit,notes,"
    "billing_street,billing_number,billing_city,billing_postal_code"
)


def csv_file(*lines: str, header: str = HEADER, name: str = "parties.csv") -> io.BytesIO:
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
    data.name = "parties.xlsx"
    return data


def dni(seed: int) -> str:
    return tax_id_example(country="ES", kind="person", seed=seed)


def cif(seed: int) -> str:
    return tax_id_example(country="ES", kind="company", seed=seed)


def party_state(party: Party) -> dict:
    return {
        "legal_name": party.legal_name,
        "trade_name": party.trade_name,
        "kind": party.kind,
        "is_customer": party.is_customer,
        "is_supplier": party.is_supplier,
        "tax_country": party.tax_country,
        "tax_id": party.tax_id,
        "email": party.email,
        "phone": party.phone,
        "language": party.language,
        "payment_term": party.payment_term.name if party.payment_term_id else None,
        "credit_limit": party.credit_limit,
        "notes": party.notes,
        "is_active": party.is_active,
        "addresses": [
            (
                a.kind,
                a.street,
                a.number,
                a.complement,
                a.district,
                a.city,
                a.state,
                a.postal_code,
                a.country,
                a.is_default,
            )
            for a in party.addresses.order_by("kind")
        ],
    }


def imports_audited(company):
    return list(AuditLog.objects.filter(company=company, action="parties.import").values_list("after", flat=True))


@pytest.fixture
def importer(company):
    payment_term_create(actor=system_actor(company), name="30 días", days=30)
    return actor_build(company, Role.MANAGER)


def test_csv_import_creates_customers_with_their_addresses_and_one_audit_row(company, importer):
    result = party_import(
        actor=importer,
        file=csv_file(
            f"Ana García,,person,ES,{dni(1)},ana@example.com,+34 600 000 001,es,30 DÍAS,1500.50,VIP,"
            "Calle Mayor,1,Madrid,28013",
            f"Distribuciones Norte SL,Norte,company,,{cif(2)},,,,,,,,,,",
        ),
        role="customer",
    )

    assert result.ok, result.errors.as_list()
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    parties = [party_state(p) for p in Party.objects.filter(company=company).order_by("legal_name")]
    assert parties == [
        {
            "legal_name": "Ana García",
            "trade_name": "",
            "kind": "person",
            "is_customer": True,
            "is_supplier": False,
            "tax_country": "ES",
            "tax_id": dni(1),
            "email": "ana@example.com",
            "phone": "+34 600 000 001",
            "language": "es",
            "payment_term": "30 días",
            "credit_limit": Decimal("1500.50"),
            "notes": "VIP",
            "is_active": True,
            "addresses": [("billing", "Calle Mayor", "1", "", "", "Madrid", "", "28013", "ES", True)],
        },
        {
            "legal_name": "Distribuciones Norte SL",
            "trade_name": "Norte",
            "kind": "company",
            "is_customer": True,
            "is_supplier": False,
            "tax_country": "ES",
            "tax_id": cif(2),
            "email": "",
            "phone": "",
            "language": "es",
            "payment_term": None,
            "credit_limit": Decimal("0.00"),
            "notes": "",
            "is_active": True,
            "addresses": [],
        },
    ]
    assert imports_audited(company) == [
        {"rows": 2, "created": 2, "updated": 0, "file": "parties.csv", "role": "customer"}
    ]


def test_suppliers_file_makes_suppliers_and_tax_ids_are_stored_compact(company_br):
    actor = actor_build(company_br, Role.ADMINISTRATOR)
    result = party_import(
        actor=actor,
        file=csv_file(
            "Fornecedora Ltda;11.222.333/0001-81;sp;Av. Paulista;São Paulo;01310100",
            header="legal_name;tax_id;billing_state;billing_street;billing_city;billing_postal_code",
        ),
        role="supplier",
    )
    assert result.ok, result.errors.as_list()
    party = Party.objects.get(company=company_br)
    assert (party.is_customer, party.is_supplier, party.kind) == (False, True, "company")
    assert (party.tax_country, party.tax_id, party.language) == ("BR", "11222333000181", "pt-br")
    assert list(party.addresses.values_list("kind", "state", "postal_code", "country", "city")) == [
        ("billing", "SP", "01310-100", "BR", "São Paulo")
    ]


def test_xlsx_import(company, importer):
    result = party_import(
        actor=importer,
        file=xlsx_file(
            [
                ["Legal name", "Kind", "Tax id", "Credit limit", "Is supplier", "Shipping street", "Shipping city"],
                ["Juan Pérez", "person", dni(5), 250.75, True, "Gran Vía 2", "Madrid"],
            ]
        ),
    )
    assert result.ok, result.errors.as_list()
    party = Party.objects.get(company=company)
    assert (party.legal_name, party.tax_id, party.credit_limit) == ("Juan Pérez", dni(5), Decimal("250.75"))
    assert (party.is_customer, party.is_supplier) == (True, True)
    assert list(party.addresses.values_list("kind", "street", "city", "country", "is_default")) == [
        ("shipping", "Gran Vía 2", "Madrid", "ES", True)
    ]


def test_every_bad_row_is_reported_and_nothing_is_written(company, importer):
    holder = party_build(company, legal_name="Titular SL", tax_id=cif(9))
    parties_before = Party.objects.count()
    addresses_before = Address.objects.count()
    audits_before = AuditLog.objects.count()

    result = party_import(
        actor=importer,
        file=csv_file(
            f"Good SL,,company,ES,{cif(3)},,,,,,,,,,",
            f"Twice SL,,company,ES,{cif(3)},,,,,,,,,,",
            f"Taken SL,,company,ES,{cif(9)},,,,,,,,,,",
            "Bad Letter,,person,ES,12345678A,,,,,,,,,,",
            "Company Id For Person,,person,BR,11.222.333/0001-81,,,,,,,,,,",
            "Repeated,,person,BR,111.111.111-11,,,,,,,,,,",
            f"Bad Fields,,person,ES,{dni(7)},not-an-email,call me,fr,60 days,-5,,,,,",
            ",,company,ES,,,,,,,,Calle,,Madrid,99999",
            f"Precise,,person,ES,{dni(8)},,,,,1.005,,,,,",
        ),
    )

    assert not result.ok
    assert result.rows == 9
    assert result.errors.as_list() == [
        {"row": 3, "column": "tax_id", "message": f"The tax id {cif(3)} is also in row 2."},
        {"row": 4, "column": "tax_id", "message": "Titular SL already has this tax id."},
        {"row": 5, "column": "tax_id", "message": "The check letter does not match: this is not a valid DNI."},
        {
            "row": 6,
            "column": "tax_id",
            "message": "This is a CNPJ, the number of a company: a person's tax id in Brazil is the CPF.",
        },
        {"row": 7, "column": "tax_id", "message": "A number with every digit the same is not a valid tax id."},
        {"row": 8, "column": "credit_limit", "message": "The credit limit cannot be negative."},
        {"row": 8, "column": "email", "message": "Enter a valid email address."},
        {"row": 8, "column": "language", "message": "Choose English, Português (Brasil) or Español."},
        {"row": 8, "column": "payment_term", "message": "Choose one of this company's payment terms."},
        {"row": 8, "column": "phone", "message": "Enter a phone number: digits, spaces and + ( ) - . / only."},
        {"row": 9, "column": "billing_postal_code", "message": "Enter a valid postal code, like 28013."},
        {"row": 9, "column": "legal_name", "message": "Enter the legal name."},
        {"row": 10, "column": "credit_limit", "message": "Use at most 2 decimal places."},
    ]
    assert Party.objects.count() == parties_before
    assert Address.objects.count() == addresses_before
    assert AuditLog.objects.count() == audits_before
    assert list(Party.objects.filter(company=company).values_list("pk", flat=True)) == [holder.pk]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_one_bad_row_among_many_rejects_the_whole_file(company, importer, fmt):
    rows = [[f"Cliente {i}", "person", dni(100 + i), f"c{i}@example.com"] for i in range(400)]
    rows[250][2] = "00000000T"  # row 252 of the file
    header = ["legal_name", "kind", "tax_id", "email"]
    data = (
        csv_file(*[",".join(r) for r in rows], header=",".join(header)) if fmt == "csv" else xlsx_file([header, *rows])
    )

    result = party_import(actor=importer, file=data, format=fmt, role="customer")

    assert result.errors.as_list() == [
        {"row": 252, "column": "tax_id", "message": "A number with every digit the same is not a valid tax id."}
    ]
    assert Party.objects.filter(company=company).count() == 0
    assert imports_audited(company) == []


def test_errors_are_in_the_language_of_the_user(company, importer):
    with translation.override("es"):
        result = party_import(actor=importer, file=csv_file(",,company,ES,,,,,,,,,,,"))
    assert result.errors.as_list() == [{"row": 2, "column": "legal_name", "message": "Introduzca la razón social."}]


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.WAREHOUSE, Role.SUPPORT])
def test_roles_without_parties_import_are_refused_and_nothing_changes(company, role):
    actor = actor_build(company, role)
    audits_before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        party_import(actor=actor, file=csv_file(f"X SL,,company,ES,{cif(4)},,,,,,,,,,"))
    assert Party.objects.count() == 0
    assert AuditLog.objects.count() == audits_before


def test_partner_is_refused(company):
    actor = actor_build(company, Role.PARTNER, areas=["parties", "accounting"])
    with pytest.raises(PermissionDenied):
        party_import(actor=actor, file=csv_file(f"X SL,,company,ES,{cif(4)},,,,,,,,,,"))
    assert Party.objects.count() == 0


def test_the_query_count_does_not_grow_with_the_rows(company, importer):
    def queries(count, offset):
        lines = [f"P{i},,person,ES,{dni(offset + i)},,,,,,,Rua {i},,Madrid,28013" for i in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert party_import(actor=importer, file=csv_file(*lines)).created == count
        # A batch is one INSERT (SQLite) or one draw of keys and a COPY (PostgreSQL) per table.
        inserts = [
            q
            for q in captured.captured_queries
            if q["sql"].startswith('INSERT INTO "parties_') or "nextval(" in q["sql"]
        ]
        return len(captured.captured_queries) - len(inserts), len(inserts)

    # Reads of payment terms and active tax ids; savepoint in and out; the audit row, the
    # event and its webhook subscriptions. Parties and addresses go in batches.
    assert queries(3, 1000) == (7, 2)
    others, inserts = queries(1200, 2000)
    assert others == 7
    assert 2 <= inserts <= 2400 // 40


def test_a_party_saved_during_the_import_is_a_conflict_and_nothing_is_written(company, importer):
    def progress(stage, done, total):
        if stage == "validate" and done == 2:
            party_build(company, legal_name="Fast", tax_id=cif(11))

    with pytest.raises(Conflict):
        party_import(
            actor=importer,
            file=csv_file(f"A SL,,company,ES,{cif(10)},,,,,,,,,,", f"B SL,,company,ES,{cif(11)},,,,,,,,,,"),
            progress=progress,
        )
    assert list(Party.objects.filter(company=company).values_list("legal_name", flat=True)) == ["Fast"]
    assert imports_audited(company) == []


def test_update_existing_by_tax_id_changes_only_the_columns_in_the_file(company, importer):
    party = party_build(company, legal_name="Old SL", tax_id=cif(20), email="old@example.com", notes="kept")
    result = party_import(
        actor=importer,
        file=csv_file(
            f"{cif(20)},New SL,,1000",
            f"{cif(21)},Fresh SL,new@example.com,",
            header="tax_id,legal_name,email,credit_limit",
        ),
        update_existing=True,
    )
    assert result.ok, result.errors.as_list()
    assert (result.created, result.updated) == (1, 1)
    party.refresh_from_db()
    assert (party.legal_name, party.email, party.notes, party.credit_limit) == (
        "New SL",
        "",
        "kept",
        Decimal("1000.00"),
    )
    assert Party.objects.get(company=company, tax_id=cif(21)).email == "new@example.com"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_another_company_gives_equal_data(company, fmt):
    source = system_actor(company)
    payment_term_create(actor=source, name="60 días", days=60)
    party_build(
        company,
        legal_name='=Ana; "García", SL',
        kind="person",
        tax_id=dni(30),
        email="ana@example.com",
        phone="+34 600 000 030",
        language="en",
        payment_term_id=PaymentTerm.objects.get(company=company, name="60 días").pk,
        credit_limit="1234567.89",
        notes="Line 1\nLine 2",
        addresses=[
            {
                "kind": "billing",
                "street": "Calle Mayor",
                "number": "1",
                "city": "Madrid",
                "postal_code": "28013",
                "country": "ES",
                "state": "Madrid",
                "district": "Centro",
                "complement": "2º B",
            },
            {"kind": "shipping", "street": "Rua Augusta", "city": "Lisboa", "postal_code": "1100-048", "country": "PT"},
        ],
    )
    party_build(company, legal_name="Proveedor SA", is_customer=False, is_supplier=True, tax_id=cif(31))
    party_build(company, legal_name="Sin NIF", tax_id="")
    stream = io.BytesIO()
    assert party_export(actor=source, stream=stream, format=fmt) == 3
    stream.seek(0)

    other = company_build(country="ES")
    payment_term_create(actor=system_actor(other), name="60 DÍAS", days=60)
    result = party_import(actor=actor_build(other, Role.ADMINISTRATOR), file=stream, format=fmt)

    assert result.ok, result.errors.as_list()
    assert result.created == 3

    def state(c):
        return [party_state(p) for p in Party.objects.filter(company=c).order_by("legal_name")]

    expected = state(company)
    expected[0]["payment_term"] = "60 DÍAS"
    assert state(other) == expected


def test_export_of_customers_only_and_permission(company):
    party_build(company, legal_name="Customer", is_customer=True)
    party_build(company, legal_name="Supplier", is_customer=False, is_supplier=True)
    stream = io.BytesIO()
    assert party_export(actor=system_actor(company), stream=stream, format="csv", role="customer") == 1
    assert b"Customer" in stream.getvalue() and b"Supplier" not in stream.getvalue()
    with pytest.raises(PermissionDenied):
        party_export(actor=actor_build(company, Role.WAREHOUSE), stream=io.BytesIO(), format="csv")
