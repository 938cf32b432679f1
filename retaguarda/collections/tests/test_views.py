"""The collections pages: payments list, registration with allocations, payment page and
cancellation, bank accounts and statement upload, the reconciliation screen, aging, and the
customer page's section; by role, refusals that change nothing, pinned query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retaguarda.billing.choices import PaymentStatus
from retaguarda.collections.choices import StatementLineStatus
from retaguarda.collections.models import BankAccount, BankStatement, Payment
from retaguarda.collections.services import statement_import
from retaguarda.collections.testing import (
    CUSTOMER_IBANS,
    Movement,
    bank_account_build,
    camt053_file,
    invoice_of,
    ledger_balance,
    payment_build,
)
from retaguarda.core.choices import Role
from retaguarda.core.testing import client_for, user_build
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.parties.testing import party_build

from .helpers import state

D = Decimal
TODAY = datetime.date.today()
VIEWERS = [Role.ADMINISTRATOR, Role.FINANCE, Role.MANAGER]
NO_ACCESS = [Role.SALES, Role.WAREHOUSE, Role.HR, Role.SUPPORT, Role.LEGAL]
PAGES = ["/collections/payments/", "/collections/reconciliation/", "/collections/bank-accounts/", "/collections/aging/"]


def client_as(company, role, areas=()):
    return client_for(user_build(company, role, areas=areas))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def table_rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", table, re.S).group(1)
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture
def bank(company):
    return bank_account_build(company)


@pytest.fixture
def statement(company, admin_actor, bank, customer):
    invoice = invoice_of(company, customer, "64.00")
    data = camt053_file(
        [
            Movement(TODAY, D("64.00"), "DISTRIBUCIONES GARCIA", CUSTOMER_IBANS[0], f"Fra {invoice.number}", "V-1"),
            Movement(TODAY, D("-3.50"), "", "", "Comisión", "V-2"),
        ],
        statement_id="VIEW-1",
    )
    return statement_import(actor=admin_actor, bank_account_id=bank.pk, data=data, filename="view.xml")


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", VIEWERS)
def test_viewers_see_every_page(company, role):
    client = client_as(company, role)
    for page in PAGES:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("role", NO_ACCESS)
def test_other_roles_get_403(company, role):
    client = client_as(company, role)
    for page in [*PAGES, "/collections/payments/new/"]:
        assert client.get(page).status_code == 403, page


def test_an_accounting_partner_sees_but_does_not_change(company, customer):
    client = client_as(company, Role.PARTNER, areas=("accounting",))
    assert client.get("/collections/aging/").status_code == 200
    assert client.get("/collections/payments/new/").status_code == 403


def test_anonymous_users_go_to_the_log_in_page(db):
    response = client_for(None).get("/collections/payments/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- payments -------------------------------------------------------------------------------------


def test_payment_list_shows_payments_and_filters(company, admin_client, customer, other_customer):
    payment_build(company, party=customer, amount="10.00")
    payment_build(company, party=other_customer, amount="20.00", method="card")
    html = admin_client.get("/collections/payments/", {"sort": "amount"}).content.decode()
    rows = table_rows(html, "payments")
    assert len(rows) == 2
    assert "Distribuciones García SL" in rows[0] and "€10.00" in rows[0]
    assert "Hostal Brisa SL" in rows[1] and "Card" in rows[1]
    card = admin_client.get("/collections/payments/", {"method": "card"}).content.decode()
    assert len(table_rows(card, "payments")) == 1


def test_payment_list_query_count_is_pinned(company, admin_client, customer, django_assert_num_queries):
    payment_build(company, party=customer, amount="10.00")
    admin_client.get("/collections/payments/")
    # session, user, membership, count, page of payments (with party and bank account), the
    # companies of the switcher
    with django_assert_num_queries(6):
        admin_client.get("/collections/payments/")
    for n in range(15):
        payment_build(company, party=customer, amount=f"{n + 1}.00")
    with django_assert_num_queries(6):
        response = admin_client.get("/collections/payments/")
    assert len(table_rows(response.content.decode(), "payments")) == 16


def test_the_form_finds_the_customer_and_lists_its_open_invoices(company, customer, other_customer):
    client = client_as(company, Role.FINANCE)
    paid = invoice_of(company, customer, "5.00")
    payment_build(company, party=customer, amount="5.00")
    open_invoice = invoice_of(company, customer, "121.00")
    found = client.get("/collections/payments/new/", {"q": "garcía"}).content.decode()
    assert f'href="?direction=in&amp;party={customer.pk}"' in found
    assert f"party={other_customer.pk}" not in found
    page = client.get("/collections/payments/new/", {"party": customer.pk}).content.decode()
    rows = table_rows(page, "allocations")
    assert len(rows) == 1 and open_invoice.number in rows[0] and "€121.00" in rows[0]
    assert paid.number not in page


def test_registering_with_ticked_invoices(company, customer):
    client = client_as(company, Role.FINANCE)
    a = invoice_of(company, customer, "100.00")
    b = invoice_of(company, customer, "50.00")
    response = client.post(
        "/collections/payments/new/",
        {
            "party": customer.pk,
            "direction": "in",
            "date": TODAY.isoformat(),
            "amount": "80,00",
            "currency": "EUR",
            "method": "transfer",
            "reference": "TRF 9",
            "invoice": [str(b.pk)],
            f"amount-{b.pk}": "50.00",
            f"amount-{a.pk}": "100.00",
            "allocate": "ticked",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/collections/payments/{payment.pk}/"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (payment.amount, payment.unapplied, a.residual, b.residual) == (
        D("80.00"),
        D("30.00"),
        D("100.00"),
        D("0.00"),
    )
    page = client.get(response["Location"]).content.decode()
    assert b.number in text_of(page) and "€30.00" in text_of(page)


def test_registering_oldest_first(company, admin_client, customer):
    a = invoice_of(company, customer, "100.00")
    response = admin_client.post(
        "/collections/payments/new/",
        {
            "party": customer.pk,
            "direction": "in",
            "date": TODAY.isoformat(),
            "amount": "60",
            "currency": "EUR",
            "method": "cash",
            "allocate": "oldest",
        },
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.residual, a.payment_status) == (D("40.00"), PaymentStatus.PARTIALLY_PAID)
    assert ledger_balance(company, R.CASH) == D("60.00")


def test_form_errors_are_shown_and_nothing_is_written(company, admin_client, customer):
    a = invoice_of(company, customer, "100.00")
    before = state()
    response = admin_client.post(
        "/collections/payments/new/",
        {
            "party": customer.pk,
            "direction": "in",
            "date": TODAY.isoformat(),
            "amount": "abc",
            "currency": "EUR",
            "method": "transfer",
            "invoice": [str(a.pk)],
            f"amount-{a.pk}": "150.00",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a number." in html
    assert f"Only 100.00 is open on invoice {a.number}." in html
    assert state() == before


def test_people_who_may_only_look_cannot_post(company, customer):
    invoice_of(company, customer, "10.00")
    payment = payment_build(company, party=customer, amount="10.00")
    bank = bank_account_build(company)
    client = client_as(company, Role.MANAGER)
    before = state()
    for url, data in [
        ("/collections/payments/new/", {"party": customer.pk, "amount": "1", "method": "cash"}),
        (f"/collections/payments/{payment.pk}/cancel/", {"reason": "No"}),
        ("/collections/bank-accounts/", {"name": "New", "currency": "EUR"}),
        (f"/collections/bank-accounts/{bank.pk}/upload/", {"file": SimpleUploadedFile("s.xml", camt053_file([]))}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert state() == before


def test_cancel_from_the_payment_page(company, admin_client, customer):
    invoice = invoice_of(company, customer, "10.00")
    payment = payment_build(company, party=customer, amount="10.00")
    page = admin_client.get(f"/collections/payments/{payment.pk}/").content.decode()
    assert 'id="payment-cancel"' in page
    refused = admin_client.post(f"/collections/payments/{payment.pk}/cancel/", {"reason": ""})
    assert refused.status_code == 422
    response = admin_client.post(f"/collections/payments/{payment.pk}/cancel/", {"reason": "Bounced"})
    assert response.status_code == 302
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, invoice.residual) == ("cancelled", D("10.00"))
    again = admin_client.get(f"/collections/payments/{payment.pk}/").content.decode()
    assert 'id="payment-cancel"' not in again and "Bounced" in again


# --- bank accounts, statements, reconciliation ---------------------------------------------------------


def test_bank_accounts_are_added_and_statements_uploaded(company, admin_client, customer):
    response = admin_client.post(
        "/collections/bank-accounts/", {"name": "Caixa", "iban": "ES91 2100 0418 4502 0005 1332", "currency": "EUR"}
    )
    assert response.status_code == 302
    bad = admin_client.post("/collections/bank-accounts/", {"name": "Other", "iban": "ES00 1234", "currency": "EUR"})
    assert (bad.status_code, "Enter a valid IBAN." in bad.content.decode()) == (422, True)
    bank = BankAccount.objects.get(company=company)
    data = camt053_file([Movement(TODAY, D("12.00"), "X", "", "Y", "U-1")], statement_id="UP-1")
    uploaded = admin_client.post(
        f"/collections/bank-accounts/{bank.pk}/upload/", {"file": SimpleUploadedFile("up.xml", data)}
    )
    statement = BankStatement.objects.get()
    assert uploaded.status_code == 302 and uploaded["Location"] == f"/collections/statements/{statement.pk}/"
    before = state()
    twice = admin_client.post(
        f"/collections/bank-accounts/{bank.pk}/upload/", {"file": SimpleUploadedFile("up.xml", data)}
    )
    assert twice.status_code == 409
    assert "Statement UP-1 of this account is already imported." in twice.content.decode()
    broken = admin_client.post(
        f"/collections/bank-accounts/{bank.pk}/upload/", {"file": SimpleUploadedFile("b.xml", b"<Document><Bk")}
    )
    assert broken.status_code == 422
    assert state() == before


def test_the_reconciliation_screen_confirms_in_one_click(company, admin_client, statement, customer):
    html = admin_client.get("/collections/reconciliation/").content.decode()
    rows = table_rows(html, "statement-lines")
    assert len(rows) == 2
    assert "Distribuciones García SL" in rows[0] and "Confirm" in rows[0]
    assert "No proposal" in rows[1]
    line = statement.lines.get(position=1)
    response = admin_client.post(
        f"/collections/statement-lines/{line.pk}/confirm/", {"next": "/collections/reconciliation/"}
    )
    assert response.status_code == 302 and response["Location"] == "/collections/reconciliation/"
    line.refresh_from_db()
    assert line.status == StatementLineStatus.MATCHED
    assert ledger_balance(company, R.RECEIVABLE, party=customer) == D("0.00")
    remaining = table_rows(admin_client.get("/collections/reconciliation/").content.decode(), "statement-lines")
    assert len(remaining) == 1 and "Comisión" in remaining[0]
    everything = admin_client.get("/collections/reconciliation/", {"status": ""}).content.decode()
    assert len(table_rows(everything, "statement-lines")) == 2
    fragment = admin_client.get("/collections/reconciliation/", {"status": "matched"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and len(table_rows(html, "statement-lines")) == 1


def test_ignoring_and_editing_a_line(company, admin_client, statement, customer):
    fee = statement.lines.get(position=2)
    assert admin_client.post(f"/collections/statement-lines/{fee.pk}/ignore/").status_code == 302
    fee.refresh_from_db()
    assert fee.status == StatementLineStatus.IGNORED
    again = admin_client.post(f"/collections/statement-lines/{fee.pk}/ignore/", follow=True)
    assert "This statement line is ignored." in again.content.decode()

    line = statement.lines.get(position=1)
    other = invoice_of(company, customer, "20.00")
    edit = admin_client.get(f"/collections/statement-lines/{line.pk}/").content.decode()
    proposed = statement.lines.get(position=1).proposal["allocations"][0]["invoice_id"]
    assert f'value="{proposed}" id="invoice-{proposed}" checked' in edit
    response = admin_client.post(
        f"/collections/statement-lines/{line.pk}/",
        {"party": customer.pk, "invoice": [str(other.pk)], f"amount-{other.pk}": "20.00"},
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    other.refresh_from_db()
    assert (payment.amount, payment.unapplied, other.residual) == (D("64.00"), D("44.00"), D("0.00"))


def test_reconciliation_query_count_is_pinned(company, admin_client, statement, django_assert_num_queries):
    admin_client.get("/collections/reconciliation/")
    # session, user, membership, count, the page of lines (with statement, account and
    # payment), the companies of the switcher
    with django_assert_num_queries(6):
        admin_client.get("/collections/reconciliation/")
    with django_assert_num_queries(7):  # and the statement
        admin_client.get(f"/collections/statements/{statement.pk}/")


# --- aging and the customer page --------------------------------------------------------------------


def test_the_aging_page(company, admin_client, customer, django_assert_num_queries):
    invoice_of(company, customer, "100.00", issue_date=datetime.date(2026, 1, 1), due_days=30)
    admin_client.get("/collections/aging/")
    # session, user, membership, the open lines, later matches (two), the parties' names, the
    # companies of the switcher: the same whatever the number of open items
    with django_assert_num_queries(8):
        response = admin_client.get("/collections/aging/", {"as_of": "2026-03-15"})
    rows = table_rows(response.content.decode(), "aging")
    assert rows == ["Distribuciones García SL €100.00 €100.00"]
    for n in range(5):
        invoice_of(company, party_build(company), f"{n + 1}.00", issue_date=datetime.date(2026, 2, 1))
    with django_assert_num_queries(8):
        response = admin_client.get("/collections/aging/", {"as_of": "2026-03-15"})
    assert len(table_rows(response.content.decode(), "aging")) == 6
    assert admin_client.get("/collections/aging/", {"as_of": "someday"}).status_code == 422


def test_the_customer_page_shows_balance_and_payments(company, customer):
    invoice_of(company, customer, "100.00", issue_date=TODAY - datetime.timedelta(days=40), due_days=30)
    payment_build(company, party=customer, amount="30.00")
    html = client_as(company, Role.FINANCE).get(f"/parties/{customer.pk}/").content.decode()
    section = re.search(r'<section class="card" id="section-payments">.*?</section>', html, re.S).group(0)
    assert "Balance €70.00 Overdue €70.00 Customer credit €0.00" in text_of(section)
    assert "Register a payment" in section
    assert len(table_rows(section, "party-payments")) == 1
    sales = client_as(company, Role.SALES).get(f"/parties/{customer.pk}/").content.decode()
    assert 'id="section-payments"' not in sales


def test_the_section_reads_a_fixed_number_of_rows(company, admin_actor, customer, django_assert_num_queries):
    from retaguarda.collections.sections import party_payments_context

    invoice_of(company, customer, "100.00")
    payment_build(company, party=customer, amount="10.00")
    # invoices and credit notes, payments and refunds, open receivable lines, later matches (two)
    with django_assert_num_queries(5):
        context = party_payments_context(admin_actor, customer)
    for n in range(12):
        payment_build(company, party=customer, amount=f"{n + 1}.00")
    with django_assert_num_queries(5):
        context = party_payments_context(admin_actor, customer)
    assert (len(context["payments"]), context["more_payments"]) == (10, True)
    assert context["balance"].balance == D("100.00") - D("88.00")


def test_proposals_are_computed_again_on_request(company, admin_client, statement, supplier):
    line = statement.lines.get(position=2)  # the bank fee: nothing proposed
    assert line.proposal == {}
    fee_invoice = invoice_of(company, supplier, "3.50", kind="supplier_bill")
    assert admin_client.get(f"/collections/statements/{statement.pk}/").status_code == 200
    assert (
        client_as(company, Role.MANAGER).post(f"/collections/statements/{statement.pk}/proposals/").status_code == 403
    )
    response = admin_client.post(f"/collections/statements/{statement.pk}/proposals/")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.proposal["allocations"] == [
        {"invoice_id": fee_invoice.pk, "number": fee_invoice.number, "amount": "3.50"}
    ]
