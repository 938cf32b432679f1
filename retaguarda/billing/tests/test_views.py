"""Billing pages: the invoice list (filters, htmx fragment, pinned queries), the invoice page and
its actions, credit note and supplier bill forms, the tax pages, the order page's invoicing
panel, the customer page's invoices and the dashboard widget; refusals shown with their status
and nothing changed; roles (403) and other companies (404)."""

import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from retaguarda.billing import views
from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import credit_note_create, invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.core.choices import Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.fulfilment.testing import shipped_build
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.models import JournalEntry
from retaguarda.parties.testing import party_build
from retaguarda.sales.models import SalesOrderLine
from retaguarda.sales.testing import order_build

D = Decimal


def eur(amount: str) -> str:
    return format_currency(Decimal(amount), "EUR", locale="en_US")


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def everything(company):
    return (
        sorted(Invoice.objects.filter(company=company).values_list("pk", "status", "number", "residual")),
        InvoiceLine.objects.filter(company=company).count(),
        JournalEntry.objects.filter(company=company).count(),
        sorted(SalesOrderLine.objects.filter(company=company).values_list("pk", "quantity_invoiced")),
    )


@pytest.fixture
def shop(company):
    warehouse = warehouse_build(company, code="MAIN")
    mug = stocked_product(company, warehouse=warehouse, quantity="50", sku="MUG", name="Blue mug", list_price="10.00")
    return {"warehouse": warehouse, "mug": mug, "customer": party_build(company, legal_name="Bar Pepe SL")}


def shipped_order(company, shop, quantity="2"):
    order = order_build(
        company, warehouse=shop["warehouse"], customer=shop["customer"], lines=[(shop["mug"], quantity)]
    )
    shipped_build(company, warehouse=shop["warehouse"], order_ids=[order.pk])
    return order


def client_as(company, role):
    return client_for(user_build(company, role))


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_and_filters_invoices(company, admin_client):
    ana = party_build(company, legal_name="Ana Ribeiro SL")
    issued = invoice_build(company, party=ana)
    draft = invoice_build(company, post=False)
    html = admin_client.get("/billing/invoices/").content.decode()
    assert f'<a href="/billing/invoices/{issued.pk}/">{issued.number}</a>' in html
    assert f'<a href="/billing/invoices/{draft.pk}/">Draft {draft.pk}</a>' in html
    assert eur("121.00") in html
    html = admin_client.get("/billing/invoices/?status=draft").content.decode()
    assert issued.number not in html and f"Draft {draft.pk}" in html
    html = admin_client.get(f"/billing/invoices/?party={ana.pk}").content.decode()
    assert issued.number in html and f"Draft {draft.pk}" not in html
    assert f'name="party" value="{ana.pk}">Ana Ribeiro SL' in html
    html = admin_client.get("/billing/invoices/?q=nobody").content.decode()
    assert "No invoices match." in html
    assert 'href="/billing/supplier-bills/new/"' in admin_client.get("/billing/invoices/").content.decode()


@pytest.mark.parametrize("count", [1, 5])
def test_the_list_takes_a_fixed_number_of_queries(company, admin_client, django_assert_num_queries, count):
    for _ in range(count):
        invoice_build(company)
    admin_client.get("/billing/invoices/")
    # session, user, membership, count, page of invoices with parties, companies for the switcher
    with django_assert_num_queries(6):
        response = admin_client.get("/billing/invoices/")
    assert len(response.context["object_list"]) == count
    with django_assert_num_queries(5):
        fragment = admin_client.get("/billing/invoices/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()


@pytest.mark.parametrize(("role", "status"), [(Role.SALES, 200), (Role.FINANCE, 200), (Role.WAREHOUSE, 403)])
def test_who_sees_the_invoice_pages(company, role, status):
    invoice = invoice_build(company)
    client = client_as(company, role)
    for url in ("/billing/invoices/", f"/billing/invoices/{invoice.pk}/", "/billing/taxes/", "/billing/tax-rules/"):
        assert client.get(url).status_code == status, url


# --- the invoice page ---------------------------------------------------------------------------


def test_a_draft_page_offers_to_issue_and_delete(company, admin_client, monkeypatch):
    monkeypatch.setattr(views, "DOCUMENT_DOWNLOADS", [lambda inv: [("UBL", f"/x/{inv.pk}.xml")]])
    draft = invoice_build(company, post=False)
    html = admin_client.get(f"/billing/invoices/{draft.pk}/").content.decode()
    assert f'action="/billing/invoices/{draft.pk}/post/"' in html
    assert f'action="/billing/invoices/{draft.pk}/delete/"' in html
    assert "/credit-note/" not in html
    assert f'<a class="button secondary" href="/billing/invoices/{draft.pk}/pdf/">PDF</a>' in html
    assert f'<a class="button secondary" href="/x/{draft.pk}.xml">UBL</a>' in html
    assert f'<dd class="num" id="payable"><strong>{eur("121.00")}</strong></dd>' in html


def test_an_issued_invoice_page(company, admin_client):
    customer = party_build(company, legal_name="Dupont SARL", tax_country="FR")
    customer.fiscal_position = "intra_eu_b2b"
    customer.save(update_fields=["fiscal_position"])
    invoice = invoice_build(company, party=customer, lines=((D("3"), D("10.00"), "standard"),))
    html = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f"Invoice {invoice.number}" in html
    assert "Dupont SARL" in html
    assert f'<dd id="open-amount">{eur("30.00")}</dd>' in html
    assert "Exempt intra-Community supply of goods" in html
    assert "<td>IVA0_EU</td>" in html
    assert f'href="/billing/invoices/{invoice.pk}/credit-note/"' in html
    assert "/post/" not in html and "/delete/" not in html
    # invoice_build drafts without the service, so only the posting is in the timeline
    assert re.findall(r"<li><strong[^>]*>([^<]+)</strong>", html) == ["Posted"]


def test_the_page_takes_a_fixed_number_of_queries(company, admin_client, django_assert_num_queries):
    small = invoice_build(company)
    big = invoice_build(company, lines=[(D("1"), D("1.00"), "standard"), (D("2"), D("3.00"), "reduced")] * 6)
    for invoice in (small, big):
        # session, user, membership, invoice with party, company, corrected invoice and order,
        # lines, taxes, corrections, credited quantities, timeline, companies for the switcher
        with django_assert_num_queries(10):
            response = admin_client.get(f"/billing/invoices/{invoice.pk}/")
        assert response.status_code == 200
    assert len(response.context["lines"]) == 12


def test_another_companys_invoice_is_not_found(company, admin_client):
    other = company_build(country="ES")
    invoice = invoice_build(other)
    draft = invoice_build(other, post=False)
    before = everything(other)
    assert admin_client.get(f"/billing/invoices/{invoice.pk}/").status_code == 404
    assert admin_client.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 404
    assert admin_client.get(f"/billing/invoices/{invoice.pk}/credit-note/").status_code == 404
    assert admin_client.post(f"/billing/invoices/{draft.pk}/post/").status_code == 404
    assert admin_client.post(f"/billing/invoices/{draft.pk}/delete/").status_code == 404
    assert everything(other) == before


# --- actions ------------------------------------------------------------------------------------


def test_issue_a_draft(company, admin_client):
    draft = invoice_build(company, post=False)
    response = admin_client.post(f"/billing/invoices/{draft.pk}/post/")
    draft.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == f"/billing/invoices/{draft.pk}/"
    assert (draft.status, draft.number) == ("posted", f"F{draft.issue_date.year}-000001")
    assert _messages(response) == [f"{draft.number} issued and posted to the books."]


def test_delete_a_draft_but_not_an_issued_invoice(company, admin_client):
    draft = invoice_build(company, post=False)
    response = admin_client.post(f"/billing/invoices/{draft.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/billing/invoices/"
    assert not Invoice.objects.filter(pk=draft.pk).exists()

    issued = invoice_build(company)
    before = everything(company)
    response = admin_client.post(f"/billing/invoices/{issued.pk}/delete/")
    assert response.status_code == 409
    assert "This cannot be done while the document is Posted." in response.content.decode()
    assert everything(company) == before
    assert admin_client.get(f"/billing/invoices/{issued.pk}/delete/").status_code == 405


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.MANAGER])
def test_only_finance_issues_deletes_and_credits(company, role):
    draft = invoice_build(company, post=False)
    issued = invoice_build(company)
    line = InvoiceLine.objects.get(invoice=issued)
    client = client_as(company, role)
    before = everything(company)
    responses = [
        client.post(f"/billing/invoices/{draft.pk}/post/"),
        client.post(f"/billing/invoices/{draft.pk}/delete/"),
        client.get(f"/billing/invoices/{issued.pk}/credit-note/"),
        client.post(f"/billing/invoices/{issued.pk}/credit-note/", {f"line_{line.pk}": "1", "reason": "x"}),
        client.get("/billing/supplier-bills/new/"),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert everything(company) == before


# --- credit notes -------------------------------------------------------------------------------


def test_draft_a_credit_note_from_the_form(company, admin_client):
    invoice = invoice_build(company, lines=((D("3"), D("10.00"), "standard"), (D("1"), D("5.00"), "reduced")))
    first, second = InvoiceLine.objects.filter(invoice=invoice).order_by("position")
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/credit-note/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="line_{first.pk}" value="3.000"' in html and f'name="line_{second.pk}" value="1.000"' in html

    response = admin_client.post(
        f"/billing/invoices/{invoice.pk}/credit-note/",
        {f"line_{first.pk}": "2", f"line_{second.pk}": "", "reason": "Two mugs broken"},
    )

    note = Invoice.objects.get(corrected_invoice=invoice)
    assert response.status_code == 302 and response["Location"] == f"/billing/invoices/{note.pk}/"
    # 2 × 10.00 + 21 % = 24.20
    assert (note.status, note.payable, note.correction_reason) == ("draft", D("24.20"), "Two mugs broken")
    assert list(InvoiceLine.objects.filter(invoice=note).values_list("corrected_line_id", "quantity")) == [
        (first.pk, D("2.000"))
    ]
    html = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f'<a href="/billing/invoices/{note.pk}/">Draft {note.pk}</a>' in html


def test_a_credit_note_form_refuses_too_much_or_no_reason(company, admin_client):
    invoice = invoice_build(company, lines=((D("3"), D("10.00"), "standard"),))
    line = InvoiceLine.objects.get(invoice=invoice)
    before = everything(company)
    url = f"/billing/invoices/{invoice.pk}/credit-note/"

    response = admin_client.post(url, {f"line_{line.pk}": "4", "reason": "Broken"})
    assert response.status_code == 422
    assert "Ensure this value is less than or equal to 3.000." in response.content.decode()
    response = admin_client.post(url, {f"line_{line.pk}": "0", "reason": "Broken"})
    assert response.status_code == 422
    assert "Enter a quantity to credit on at least one line." in response.content.decode()
    response = admin_client.post(url, {f"line_{line.pk}": "1", "reason": ""})
    assert response.status_code == 422
    assert everything(company) == before


def test_an_invoice_credited_in_full_offers_no_credit_note(company, admin_client):
    invoice = invoice_build(company)
    actor = system_actor(company)
    invoice_post(actor=actor, invoice_id=credit_note_create(actor=actor, invoice_id=invoice.pk, reason="All").pk)
    assert "/credit-note/" not in admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    response = admin_client.get(f"/billing/invoices/{invoice.pk}/credit-note/")
    assert response.status_code == 302
    assert _messages(response) == ["Only issued customer invoices with something left to credit can be corrected."]


# --- supplier bills -----------------------------------------------------------------------------


def _bill_post(supplier, reference="FN-1", **rows):
    data = {
        "supplier": str(supplier.pk),
        "supplier_reference": reference,
        "issue_date": "2026-03-02",
        "due_date": "",
        "line-TOTAL_FORMS": "5",
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "50",
    }
    for i in range(5):
        data.update({f"line-{i}-account_role": "purchases", f"line-{i}-tax_category": "standard"})
    data.update(rows)
    return data


def test_record_a_supplier_bill(company, admin_client):
    supplier = party_build(company, legal_name="Cerámicas Norte SA", is_customer=False, is_supplier=True)
    page = admin_client.get("/billing/supplier-bills/new/").content.decode()
    assert f'<option value="{supplier.pk}">Cerámicas Norte SA</option>' in page

    response = admin_client.post(
        "/billing/supplier-bills/new/",
        _bill_post(
            supplier,
            **{
                "line-0-description": "Mugs",
                "line-0-quantity": "100",
                "line-0-unit_price": "2.50",
                "line-0-account_role": "inventory",
                "line-2-description": "Transport",
                "line-2-quantity": "1",
                "line-2-unit_price": "30",
                "line-2-tax_category": "service",
            },
        ),
    )

    bill = Invoice.objects.get(company=company, kind="supplier_bill")
    assert response.status_code == 302 and response["Location"] == f"/billing/invoices/{bill.pk}/"
    # 250.00 + 30.00 = 280.00; IVA 21 % = 58.80
    assert (bill.supplier_reference, bill.net_total, bill.tax_total, bill.payable) == (
        "FN-1",
        D("280.00"),
        D("58.80"),
        D("338.80"),
    )
    assert list(InvoiceLine.objects.filter(invoice=bill).values_list("description", "tax_category")) == [
        ("Mugs", "standard"),
        ("Transport", "service"),
    ]


def test_a_supplier_bill_with_errors_is_shown_again(company, admin_client):
    supplier = party_build(company, is_customer=False, is_supplier=True)
    before = everything(company)
    response = admin_client.post(
        "/billing/supplier-bills/new/",
        _bill_post(supplier, **{"line-0-description": "Mugs", "line-0-unit_price": "2"}),
    )
    assert response.status_code == 422
    assert "Line 1: enter a description, a quantity and a price." in response.content.decode()
    response = admin_client.post("/billing/supplier-bills/new/", _bill_post(supplier))
    assert response.status_code == 422
    assert "Add at least one line." in response.content.decode()
    assert everything(company) == before


# --- PDF and taxes ------------------------------------------------------------------------------


def test_the_pdf_and_the_tax_pages(company, admin_client):
    invoice = invoice_build(company)
    response = admin_client.get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    html = admin_client.get("/billing/taxes/").content.decode()
    assert '<td data-label="Code">IVA21</td>' in html and "Withheld by the customer" in html
    html = admin_client.get("/billing/tax-rules/").content.decode()
    assert "IVA0_EU" in html and "intra_eu_b2b" in html


# --- the order page -----------------------------------------------------------------------------


def test_the_order_page_loads_its_invoices_for_who_may_see_them(company, shop, admin_client):
    order = shipped_order(company, shop)
    html = admin_client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert f'hx-get="/billing/orders/{order.pk}/invoices/" hx-trigger="load"' in html
    html = client_as(company, Role.WAREHOUSE).get(f"/sales/orders/{order.pk}/").content.decode()
    assert "/billing/" not in html


def test_the_order_panel_offers_to_invoice_what_shipped(company, shop, admin_client):
    order = shipped_order(company, shop)
    url = f"/billing/orders/{order.pk}/invoices/"
    html = admin_client.get(url).content.decode()
    assert f'action="/billing/orders/{order.pk}/invoice/"' in html
    assert "No invoices yet." in html
    assert 'id="order-invoice"' not in client_as(company, Role.SALES).get(url).content.decode()
    assert client_as(company, Role.WAREHOUSE).get(url).status_code == 403

    response = admin_client.post(f"/billing/orders/{order.pk}/invoice/")

    invoice = Invoice.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == f"/billing/invoices/{invoice.pk}/"
    assert (invoice.status, invoice.net_total) == ("draft", D("20.00"))
    html = admin_client.get(url).content.decode()
    assert 'id="order-invoice"' not in html
    assert f'<a href="/billing/invoices/{invoice.pk}/">Draft {invoice.pk}</a>' in html

    before = everything(company)
    response = admin_client.post(f"/billing/orders/{order.pk}/invoice/")
    assert response.status_code == 302 and response["Location"] == f"/sales/orders/{order.pk}/"
    assert _messages(response)[-1] == "Nothing of this order is left to invoice."
    assert everything(company) == before

    admin_client.post(f"/billing/invoices/{invoice.pk}/post/")
    html = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert re.findall(r"<li><strong[^>]*>([^<]+)</strong>", html) == ["Posted", "Created"]


def test_an_unshipped_order_has_no_invoice_button(company, shop, admin_client):
    order = order_build(company, warehouse=shop["warehouse"], customer=shop["customer"], lines=[(shop["mug"], "1")])
    assert 'id="order-invoice"' not in admin_client.get(f"/billing/orders/{order.pk}/invoices/").content.decode()


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE])
def test_only_finance_invoices_an_order(company, shop, role):
    order = shipped_order(company, shop)
    before = everything(company)
    assert client_as(company, role).post(f"/billing/orders/{order.pk}/invoice/").status_code == 403
    assert everything(company) == before


def test_another_companys_order_is_not_found(company, admin_client):
    other = company_build(country="ES")
    warehouse = warehouse_build(other)
    order = order_build(other, warehouse=warehouse, lines=[(stocked_product(other, warehouse=warehouse), "1")])
    assert admin_client.get(f"/billing/orders/{order.pk}/invoices/").status_code == 404
    assert admin_client.post(f"/billing/orders/{order.pk}/invoice/").status_code == 404
    assert not Invoice.objects.filter(company=other).exists()


# --- the customer page and the dashboard --------------------------------------------------------


def test_the_customer_page_loads_the_customers_invoices(company, admin_client):
    customer = party_build(company, legal_name="Bar Pepe SL")
    first = invoice_build(company, party=customer)
    invoice_build(company, party=customer, lines=((D("2"), D("100.00"), "standard"),))
    actor = system_actor(company)
    invoice_post(actor=actor, invoice_id=credit_note_create(actor=actor, invoice_id=first.pk, reason="Returned").pk)

    page = admin_client.get(f"/parties/{customer.pk}/").content.decode()
    assert f'hx-get="/billing/parties/{customer.pk}/invoices/" hx-trigger="load"' in page

    html = admin_client.get(f"/billing/parties/{customer.pk}/invoices/").content.decode()
    # 121.00 + 242.00 issued, 121.00 credited back
    assert f'<strong id="party-open-amount">{eur("242.00")}</strong>' in html
    assert len(re.findall(r'<a href="/billing/invoices/\d+/">', html)) == 3

    support = client_as(company, Role.SUPPORT)
    assert "/billing/" not in support.get(f"/parties/{customer.pk}/").content.decode()
    assert support.get(f"/billing/parties/{customer.pk}/invoices/").status_code == 403


def test_the_customer_section_lists_the_latest_ten(company, admin_client, django_assert_num_queries):
    customer = party_build(company)
    for _ in range(11):
        invoice_build(company, party=customer)
    admin_client.get(f"/billing/parties/{customer.pk}/invoices/")
    # session, user, membership, the latest invoices, the open amount
    with django_assert_num_queries(5):
        html = admin_client.get(f"/billing/parties/{customer.pk}/invoices/").content.decode()
    assert len(re.findall(r'<a href="/billing/invoices/\d+/">', html)) == 10
    assert "Older invoices" in html


def test_the_dashboard_widget(company, shop, admin_client):
    invoiced = shipped_order(company, shop)
    shipped_order(company, shop, quantity="3")
    order_build(company, warehouse=shop["warehouse"], customer=shop["customer"], lines=[(shop["mug"], "1")])
    admin_client.post(f"/billing/orders/{invoiced.pk}/invoice/")
    invoice_post(actor=system_actor(company), invoice_id=Invoice.objects.get(order=invoiced).pk)

    html = admin_client.get("/dashboard/widgets/billing/").content.decode()

    assert '<p class="stat" id="shipped-not-invoiced">1</p>' in html
    # 2 × 10.00 + 21 % = 24.20 open
    assert f">{eur('24.20')}</a>" in html
    assert client_as(company, Role.WAREHOUSE).get("/dashboard/widgets/billing/").status_code == 403
