"""The billing API through the test client with bearer tokens: invoicing an order, issuing,
deleting drafts, credit notes, supplier bills, the list's filters, the PDF and the tax set-up;
error shapes, roles (403 and nothing changed), other companies (404), pinned query counts."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import invoice_settle
from retaguarda.billing.testing import invoice_build
from retaguarda.core.choices import Role
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.fulfilment.testing import shipped_build
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.models import JournalEntry
from retaguarda.parties.testing import party_build
from retaguarda.sales.models import SalesOrderLine
from retaguarda.sales.testing import order_build

URL = "/api/v1/billing"
D = Decimal


@pytest.fixture
def shop(company):
    warehouse = warehouse_build(company, code="MAIN")
    mug = stocked_product(company, warehouse=warehouse, quantity="50", sku="MUG", name="Blue mug", list_price="10.00")
    tea = stocked_product(
        company,
        warehouse=warehouse,
        quantity="50",
        sku="TEA",
        name="Green tea",
        list_price="4.35",
        tax_category="reduced",
    )
    customer = party_build(company, legal_name="Bar Pepe SL", language="es")
    return {"warehouse": warehouse, "mug": mug, "tea": tea, "customer": customer}


def shipped_order(company, shop, *lines):
    order = order_build(company, warehouse=shop["warehouse"], customer=shop["customer"], lines=list(lines))
    shipped_build(company, warehouse=shop["warehouse"], order_ids=[order.pk])
    return order


def post(client, path, body=None):
    return client.post(URL + path, data=json.dumps(body if body is not None else {}), content_type="application/json")


def everything(company):
    """What a refused request must leave as it was."""
    return (
        sorted(Invoice.objects.filter(company=company).values_list("pk", "status", "number", "residual")),
        InvoiceLine.objects.filter(company=company).count(),
        JournalEntry.objects.filter(company=company).count(),
        sorted(SalesOrderLine.objects.filter(company=company).values_list("pk", "quantity_invoiced")),
    )


# --- invoicing an order -------------------------------------------------------------------------


def test_draft_then_issue_the_invoice_of_a_shipped_order(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "3"), (shop["tea"], "7"))

    response = post(admin_api, "/invoices", {"order_id": order.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    invoice = Invoice.objects.get(company=company)
    assert body["id"] == invoice.pk
    assert (body["kind"], body["status"], body["number"], body["order_id"], body["actions"]) == (
        "customer_invoice",
        "draft",
        "",
        order.pk,
        ["post", "delete"],
    )
    # 3 × 10.00 = 30.00 at 21 % = 6.30; 7 × 4.35 = 30.45 at 10 % = 3.05 (3.045 half up)
    assert (body["net_total"], body["tax_total"], body["grand_total"], body["payable"], body["residual"]) == (
        "60.45",
        "9.35",
        "69.80",
        "69.80",
        "0.00",
    )
    assert [
        (ln["description"], ln["quantity"], ln["unit_price"], ln["net_amount"], ln["tax_amount"])
        for ln in body["lines"]
    ] == [
        ("Blue mug", "3.000", "10.0000", "30.00", "6.30"),
        ("Green tea", "7.000", "4.3500", "30.45", "3.05"),
    ]
    assert body["lines"][0]["taxes"] == [
        {
            "code": "IVA21",
            "family": "IVA",
            "rate": "21.0000",
            "base": "30.00",
            "amount": "6.30",
            "withheld": False,
            "included": False,
        }
    ]
    assert [(t["code"], t["rate"], t["base"], t["amount"]) for t in body["taxes"]] == [
        ("IVA10", "10.0000", "30.45", "3.05"),
        ("IVA21", "21.0000", "30.00", "6.30"),
    ]
    assert body["party"] == {"id": shop["customer"].pk, "name": "Bar Pepe SL", "tax_id": shop["customer"].tax_id}
    assert body["party_snapshot"]["name"] == "Bar Pepe SL" and body["language"] == "es"

    response = post(admin_api, f"/invoices/{invoice.pk}/post")

    assert response.status_code == 200, response.content
    body = response.json()
    year = date.today().year
    assert (body["status"], body["number"], body["residual"], body["payment_status"]) == (
        "posted",
        f"F{year}-000001",
        "69.80",
        "not_paid",
    )
    assert body["actions"] == ["credit_note"]
    assert [ln["creditable"] for ln in body["lines"]] == ["3.000", "7.000"]
    assert admin_api.get(f"{URL}/invoices/{invoice.pk}").json() == body


def test_issue_at_once_and_nothing_is_invoiced_twice(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "2"))
    response = post(admin_api, "/invoices", {"order_id": order.pk, "post": True})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["payable"]) == ("posted", "24.20")
    before = everything(company)

    response = post(admin_api, "/invoices", {"order_id": order.pk})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_invoice"
    assert everything(company) == before


def test_an_unknown_basis_is_a_field_error(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "1"))
    before = everything(company)
    response = post(admin_api, "/invoices", {"order_id": order.pk, "basis": "wished"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"basis": ["Not valid."]}
    assert everything(company) == before


def test_ordered_basis_invoices_what_has_not_shipped(company, shop, admin_api):
    order = order_build(company, warehouse=shop["warehouse"], customer=shop["customer"], lines=[(shop["mug"], "4")])
    assert post(admin_api, "/invoices", {"order_id": order.pk}).status_code == 409
    response = post(admin_api, "/invoices", {"order_id": order.pk, "basis": "ordered"})
    assert response.status_code == 201
    assert response.json()["net_total"] == "40.00"


# --- deleting -----------------------------------------------------------------------------------


def test_a_draft_is_deleted_and_an_issued_invoice_is_not(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "2"))
    draft_id = post(admin_api, "/invoices", {"order_id": order.pk}).json()["id"]
    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("2.000")

    response = admin_api.delete(f"{URL}/invoices/{draft_id}")

    assert response.status_code == 204
    assert not Invoice.objects.filter(pk=draft_id).exists()
    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("0.000")

    issued_id = post(admin_api, "/invoices", {"order_id": order.pk, "post": True}).json()["id"]
    before = everything(company)
    response = admin_api.delete(f"{URL}/invoices/{issued_id}")
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "invalid_transition",
            "message": "This cannot be done while the document is Posted.",
            "fields": {},
        }
    }
    assert everything(company) == before
    assert post(admin_api, f"/invoices/{issued_id}/post").status_code == 409
    assert everything(company) == before


# --- credit notes -------------------------------------------------------------------------------


def test_a_credit_note_for_part_of_an_invoice(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "3"), (shop["tea"], "7"))
    invoice = post(admin_api, "/invoices", {"order_id": order.pk, "post": True}).json()
    mug_line = invoice["lines"][0]["id"]

    response = post(
        admin_api,
        f"/invoices/{invoice['id']}/credit-notes",
        {"lines": [{"line_id": mug_line, "quantity": "1"}], "reason": "Broken on arrival"},
    )

    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["kind"], note["status"], note["corrected_invoice_id"], note["corrected_invoice_number"]) == (
        "customer_credit_note",
        "draft",
        invoice["id"],
        invoice["number"],
    )
    # 1 × 10.00 + 21 % = 12.10
    assert (note["correction_reason"], note["net_total"], note["tax_total"], note["payable"]) == (
        "Broken on arrival",
        "10.00",
        "2.10",
        "12.10",
    )
    assert [(ln["corrected_line_id"], ln["quantity"]) for ln in note["lines"]] == [(mug_line, "1.000")]
    detail = admin_api.get(f"{URL}/invoices/{invoice['id']}").json()
    assert [ln["creditable"] for ln in detail["lines"]] == ["2.000", "7.000"]
    assert [c["id"] for c in detail["corrections"]] == [note["id"]]

    posted = post(admin_api, f"/invoices/{note['id']}/post").json()
    assert posted["number"] == f"R{date.today().year}-000001"
    assert admin_api.get(f"{URL}/invoices/{invoice['id']}").json()["residual"] == "57.70"


def test_crediting_more_than_was_invoiced_is_refused(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "2"))
    invoice = post(admin_api, "/invoices", {"order_id": order.pk, "post": True}).json()
    line = invoice["lines"][0]["id"]
    before = everything(company)

    response = post(
        admin_api,
        f"/invoices/{invoice['id']}/credit-notes",
        {"lines": [{"line_id": line, "quantity": "2.5"}], "reason": "Too much"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "lines": [f"Line {line}: credit at most what was invoiced and not credited yet."]
    }
    response = post(admin_api, f"/invoices/{invoice['id']}/credit-notes", {"reason": "  "})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"reason": ["This field is required."]}
    assert everything(company) == before


def test_a_draft_cannot_be_credited(company, shop, admin_api):
    order = shipped_order(company, shop, (shop["mug"], "1"))
    draft = post(admin_api, "/invoices", {"order_id": order.pk}).json()
    before = everything(company)
    response = post(admin_api, f"/invoices/{draft['id']}/credit-notes", {"reason": "Wrong"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_correctable"
    assert everything(company) == before


# --- supplier bills -----------------------------------------------------------------------------


def test_a_supplier_bill_is_recorded_once(company, admin_api):
    supplier = party_build(company, legal_name="Cerámicas Norte SA", is_customer=False, is_supplier=True)
    body = {
        "supplier_id": supplier.pk,
        "supplier_reference": "FN-2026/77",
        "issue_date": "2026-03-02",
        "due_date": "2026-04-01",
        "lines": [
            {"description": "Mugs", "quantity": "100", "unit_price": "2.5", "account_role": "inventory"},
            {"description": "Transport", "quantity": 1, "unit_price": "30.00", "tax_category": "service"},
        ],
    }

    response = post(admin_api, "/supplier-bills", body)

    assert response.status_code == 201, response.content
    bill = response.json()
    # 250.00 + 30.00 = 280.00; IVA 21 % = 58.80
    assert (bill["kind"], bill["status"], bill["supplier_reference"], bill["issue_date"], bill["due_date"]) == (
        "supplier_bill",
        "draft",
        "FN-2026/77",
        "2026-03-02",
        "2026-04-01",
    )
    assert (bill["net_total"], bill["tax_total"], bill["payable"]) == ("280.00", "58.80", "338.80")
    assert [(ln["description"], ln["net_amount"], ln["tax_category"]) for ln in bill["lines"]] == [
        ("Mugs", "250.00", "standard"),
        ("Transport", "30.00", "service"),
    ]
    before = everything(company)

    response = post(admin_api, "/supplier-bills", body)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_supplier_reference"
    assert everything(company) == before


def test_a_supplier_bill_with_bad_lines_names_them(company, admin_api):
    supplier = party_build(company, is_customer=False, is_supplier=True)
    customer = party_build(company)
    before = everything(company)
    body = {
        "supplier_id": customer.pk,
        "supplier_reference": "",
        "issue_date": "2026-03-02",
        "lines": [{"description": "", "quantity": "1", "unit_price": "5"}],
    }
    response = post(admin_api, "/supplier-bills", body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "supplier_id": ["Choose a supplier."],
        "supplier_reference": ["Enter the supplier's invoice number."],
        "lines": ["Line 1: enter a description, a quantity and a price."],
    }
    body.update(supplier_id=supplier.pk, supplier_reference="X-1", issue_date="9999-12-31")
    assert post(admin_api, "/supplier-bills", body).status_code == 422
    assert everything(company) == before


# --- the list -----------------------------------------------------------------------------------


def test_the_list_filters_like_the_page(company, admin_api):
    today = date.today()
    ana = party_build(company, legal_name="Ana Ribeiro SL")
    old = invoice_build(company, party=ana, issue_date=today - timedelta(days=60), due_days=30)
    paid = invoice_build(company, issue_date=today - timedelta(days=40), due_days=10)
    invoice_settle(invoice_id=paid.pk, amount=paid.payable, paid_on=today)
    draft = invoice_build(company, post=False)
    bill = invoice_build(company, kind="supplier_bill", post=False)

    def ids(query=""):
        response = admin_api.get(f"{URL}/invoices{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids() == [bill.pk, draft.pk, paid.pk, old.pk]  # newest first
    assert ids("?overdue=yes") == [old.pk]
    assert ids("?overdue=no") == [bill.pk, draft.pk, paid.pk]
    assert ids("?status=draft&kind=customer_invoice") == [draft.pk]
    assert ids("?payment=paid") == [paid.pk]
    assert ids(f"?party={ana.pk}") == [old.pk]
    assert ids("?q=ribeiro") == [old.pk]
    assert ids(f"?q={old.number}") == [old.pk]
    assert ids(f"?issued_from={(today - timedelta(days=45)).isoformat()}&issued_to={today.isoformat()}") == [
        bill.pk,
        draft.pk,
        paid.pk,
    ]
    assert ids("?sort=total&kind=bogus&issued_from=not-a-date&overdue=maybe") == [old.pk, paid.pk, draft.pk, bill.pk]
    row = admin_api.get(f"{URL}/invoices?overdue=yes").json()["items"][0]
    assert (row["overdue"], row["residual"], row["party"]["name"]) == (True, "121.00", "Ana Ribeiro SL")
    page = admin_api.get(f"{URL}/invoices?limit=2&offset=1").json()
    assert page["count"] == 4 and [r["id"] for r in page["items"]] == [draft.pk, paid.pk]


@pytest.mark.parametrize("count", [1, 6])
def test_the_list_reads_a_fixed_number_of_rows(company, admin_api, django_assert_num_queries, count):
    for _ in range(count):
        invoice_build(company)
    admin_api.get(f"{URL}/invoices")
    # token with its user and membership, the page of invoices with parties, the count
    with django_assert_num_queries(4):
        response = admin_api.get(f"{URL}/invoices")
    assert len(response.json()["items"]) == count


def test_the_detail_reads_a_fixed_number_of_rows(company, admin_api, django_assert_num_queries):
    small = invoice_build(company)
    big = invoice_build(company, lines=[(D("1"), D("1.00"), "standard"), (D("2"), D("3.00"), "reduced")] * 6)
    admin_api.get(f"{URL}/invoices/{small.pk}")  # the token's last use is stamped once
    for invoice in (small, big):
        # token, invoice with party, company, corrected invoice and order, lines, taxes,
        # corrections, credited quantities
        with django_assert_num_queries(7):
            response = admin_api.get(f"{URL}/invoices/{invoice.pk}")
        assert response.status_code == 200
    assert len(response.json()["lines"]) == 12


# --- the PDF and the tax set-up -----------------------------------------------------------------


def test_the_pdf_download(company, admin_api):
    invoice = invoice_build(company)
    response = admin_api.get(f"{URL}/invoices/{invoice.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="invoice-{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_taxes_and_rules(company, admin_api):
    taxes = {t["code"]: t for t in admin_api.get(f"{URL}/taxes").json()}
    assert {k: taxes["IVA21"][k] for k in ("family", "rate", "withheld", "price_included", "category")} == {
        "family": "IVA",
        "rate": "21.0000",
        "withheld": False,
        "price_included": False,
        "category": "S",
    }
    assert taxes["IRPF15"]["withheld"] is True
    assert taxes["IVA0_EU"]["legal_mention"].startswith("Exempt intra-Community supply of goods")
    rules = admin_api.get(f"{URL}/tax-rules").json()
    assert {"tax_category": "standard", "fiscal_position": "*", "tax_codes": ["IVA21"]}.items() <= next(
        r for r in rules if r["tax_category"] == "standard" and r["fiscal_position"] == "*"
    ).items()


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.HR])
def test_only_finance_writes_and_nothing_changes(company, shop, role):
    order = shipped_order(company, shop, (shop["mug"], "2"))
    issued = invoice_build(company)
    draft = invoice_build(company, post=False)
    supplier = party_build(company, is_customer=False, is_supplier=True)
    client = api_client_for(user_build(company, role), company)
    before = everything(company)

    responses = [
        post(client, "/invoices", {"order_id": order.pk, "post": True}),
        post(client, f"/invoices/{draft.pk}/post"),
        client.delete(f"{URL}/invoices/{draft.pk}"),
        post(client, f"/invoices/{issued.pk}/credit-notes", {"reason": "No"}),
        post(
            client,
            "/supplier-bills",
            {
                "supplier_id": supplier.pk,
                "supplier_reference": "S-1",
                "issue_date": "2026-01-01",
                "lines": [{"description": "X", "quantity": "1", "unit_price": "1"}],
            },
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert responses[0].json()["error"]["code"] == "permission_denied"
    assert everything(company) == before


@pytest.mark.parametrize(("role", "status"), [(Role.SALES, 200), (Role.FINANCE, 200), (Role.WAREHOUSE, 403)])
def test_who_may_read_invoices(company, role, status):
    invoice = invoice_build(company)
    client = api_client_for(user_build(company, role), company)
    assert client.get(f"{URL}/invoices").status_code == status
    assert client.get(f"{URL}/invoices/{invoice.pk}").status_code == status
    assert client.get(f"{URL}/taxes").status_code == status


def test_another_companys_invoice_is_not_found(company, admin_api):
    other = company_build(country="ES")
    invoice = invoice_build(other)
    draft = invoice_build(other, post=False)
    before = everything(other)
    assert admin_api.get(f"{URL}/invoices/{invoice.pk}").status_code == 404
    assert admin_api.get(f"{URL}/invoices/{invoice.pk}/pdf").status_code == 404
    assert post(admin_api, f"/invoices/{draft.pk}/post").status_code == 404
    assert admin_api.delete(f"{URL}/invoices/{draft.pk}").status_code == 404
    assert post(admin_api, f"/invoices/{invoice.pk}/credit-notes", {"reason": "x"}).status_code == 404
    assert admin_api.get(f"{URL}/invoices").json()["count"] == 0
    assert everything(other) == before
