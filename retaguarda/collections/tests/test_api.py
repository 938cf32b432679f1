"""The collections API: payments (create with idempotency, list, one, cancel), refunds and
credits, bank accounts and statement upload in base64, statement lines confirmed and ignored,
aging and a customer's balance; errors in the common shape, permissions with nothing changed."""

import base64
import datetime
import json
from decimal import Decimal

import pytest

from retaguarda.billing.choices import InvoiceKind
from retaguarda.collections.models import Payment
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
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.parties.testing import party_build

from .helpers import state

D = Decimal
URL = "/api/v1/collections"
TODAY = datetime.date.today()


def post(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL + path, data=json.dumps(body), content_type="application/json", **headers)


def api_as(company, role, areas=()):
    return api_client_for(user_build(company, role, areas=areas), company)


def test_create_allocates_and_answers_the_payment(company, admin_api, customer):
    invoice = invoice_of(company, customer, "121.00")
    response = post(
        admin_api,
        "/payments",
        {"party_id": customer.pk, "amount": "150.00", "reference": "TRF-1", "method": "transfer"},
        key="pay-1",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    payment = Payment.objects.get()
    assert data == {
        "id": payment.pk,
        "number": payment.number,
        "kind": "payment",
        "direction": "in",
        "status": "posted",
        "party": {"id": customer.pk, "name": str(customer)},
        "date": TODAY.isoformat(),
        "amount": "150.00",
        "currency": "EUR",
        "rate": "1.000000",
        "amount_base": "150.00",
        "method": "transfer",
        "reference": "TRF-1",
        "bank_account_id": None,
        "unapplied": "29.00",
        "journal_entry": payment.journal_entry.number,
        "statement_line_id": None,
        "cancelled_at": None,
        "cancel_reason": "",
        "allocations": [
            {
                "id": payment.allocations.get().pk,
                "date": TODAY.isoformat(),
                "amount": "121.00",
                "amount_base": "121.00",
                "payment_id": payment.pk,
                "credit_note_id": None,
                "credit_note_number": None,
                "invoice_id": invoice.pk,
                "invoice_number": invoice.number,
                "refund_id": None,
                "reversed": False,
            }
        ],
    }
    assert ledger_balance(company, R.BANK) == D("150.00")
    assert ledger_balance(company, R.RECEIVABLE, party=customer) == D("-29.00")

    again = post(
        admin_api,
        "/payments",
        {"party_id": customer.pk, "amount": "150.00", "reference": "TRF-1", "method": "transfer"},
        key="pay-1",
    )
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, data, "true")
    assert Payment.objects.count() == 1
    assert ledger_balance(company, R.BANK) == D("150.00")


def test_explicit_allocations_and_field_errors(company, admin_api, customer):
    a = invoice_of(company, customer, "50.00")
    b = invoice_of(company, customer, "80.00")
    response = post(
        admin_api,
        "/payments",
        {
            "party_id": customer.pk,
            "amount": "60",
            "allocations": [{"invoice_id": b.pk, "amount": "60.00"}],
        },
    )
    assert response.status_code == 201, response.content
    assert [(x["invoice_id"], x["amount"]) for x in response.json()["allocations"]] == [(b.pk, "60.00")]

    before = state()
    refused = post(
        admin_api,
        "/payments",
        {
            "party_id": customer.pk,
            "amount": "1.001",
            "method": "cheque",
            "allocations": [{"invoice_id": a.pk, "amount": "70.00"}],
        },
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {
            "code": "validation_error",
            "message": "Check the highlighted fields.",
            "fields": {
                "method": ["Choose a payment method."],
                "amount": ["Use at most 2 decimal places."],
                "allocations.0.amount": [f"Only 50.00 is open on invoice {a.number}."],
            },
        }
    }
    beyond = post(
        admin_api,
        "/payments",
        {"party_id": customer.pk, "amount": "70", "allocations": [{"invoice_id": a.pk, "amount": "70"}]},
    )
    assert beyond.status_code == 422
    assert beyond.json()["error"]["fields"] == {"allocations.0.amount": [f"Only 50.00 is open on invoice {a.number}."]}
    malformed = admin_api.post(URL + "/payments", data="{", content_type="application/json")
    assert malformed.status_code == 400
    assert state() == before


def test_list_filters_and_paginates(company, admin_api, customer, other_customer):
    first = payment_build(company, party=customer, amount="10.00")
    second = payment_build(company, party=other_customer, amount="20.00")
    payment_build(company, party=customer, amount="30.00", method="card")
    response = admin_api.get(URL + "/payments", {"party": customer.pk, "sort": "amount"})
    assert response.status_code == 200
    assert [(p["amount"], p["party_id"]) for p in response.json()["items"]] == [
        ("10.00", customer.pk),
        ("30.00", customer.pk),
    ]
    assert admin_api.get(URL + "/payments", {"method": "card"}).json()["count"] == 1
    page = admin_api.get(URL + "/payments", {"limit": 1, "offset": 1, "sort": "amount"}).json()
    assert (page["count"], [p["id"] for p in page["items"]]) == (3, [second.pk])
    assert admin_api.get(f"{URL}/payments/{first.pk}").json()["amount"] == "10.00"


def test_cancel_reopens_the_invoice(company, admin_api, customer):
    invoice = invoice_of(company, customer, "40.00")
    payment = payment_build(company, party=customer, amount="40.00")
    response = post(admin_api, f"/payments/{payment.pk}/cancel", {"reason": "Bounced"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "Bounced")
    assert response.json()["allocations"][0]["reversed"] is True
    invoice.refresh_from_db()
    assert invoice.residual == D("40.00")
    again = post(admin_api, f"/payments/{payment.pk}/cancel", {"reason": "Again"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_cancelled")
    missing_reason = post(admin_api, f"/payments/{payment.pk}/cancel", {})
    assert missing_reason.status_code == 422


def test_refund_and_credit_application(company, admin_api, customer):
    invoice_of(company, customer, "100.00")
    payment = payment_build(company, party=customer, amount="150.00")  # 50.00 credit
    later = invoice_of(company, customer, "30.00")
    applied = post(admin_api, "/credit-applications", {"party_id": customer.pk, "invoice_id": later.pk, "amount": "30"})
    assert applied.status_code == 201, applied.content
    assert [(a["payment_id"], a["invoice_id"], a["amount"]) for a in applied.json()] == [
        (payment.pk, later.pk, "30.00")
    ]
    refund = post(admin_api, "/refunds", {"party_id": customer.pk, "amount": "20.00", "payment_id": payment.pk})
    assert refund.status_code == 201, refund.content
    assert (refund.json()["kind"], refund.json()["direction"], refund.json()["amount"]) == ("refund", "out", "20.00")
    assert ledger_balance(company, R.RECEIVABLE, party=customer) == D("0.00")
    too_much = post(admin_api, "/refunds", {"party_id": customer.pk, "amount": "0.01"})
    assert (too_much.status_code, too_much.json()["error"]["fields"]) == (
        422,
        {"amount": ["The party's credit is 0.00."]},
    )


def test_statement_upload_confirm_and_ignore(company, admin_api, customer):
    invoice = invoice_of(company, customer, "64.00")
    accounts = post(admin_api, "/bank-accounts", {"name": "Caixa", "iban": "ES91 2100 0418 4502 0005 1332"})
    assert accounts.status_code == 201, accounts.content
    bank = accounts.json()
    assert (bank["iban"], bank["currency"], bank["account_code"]) == ("ES9121000418450200051332", "EUR", "572")
    data = camt053_file(
        [
            Movement(TODAY, D("64.00"), str(customer), CUSTOMER_IBANS[0], f"Fra {invoice.number}", "R-1"),
            Movement(TODAY, D("-3.50"), "", "", "Comisión", "R-2"),
        ],
        statement_id="API-1",
    )
    body = {"filename": "s.xml", "content_base64": base64.b64encode(data).decode()}
    uploaded = post(admin_api, f"/bank-accounts/{bank['id']}/statements", body, key="upload-1")
    assert uploaded.status_code == 201, uploaded.content
    statement = uploaded.json()
    assert (statement["statement_id"], statement["format"], statement["line_count"]) == ("API-1", "camt.053", 2)
    first, fee = statement["lines"]
    assert (first["amount"], first["status"], fee["amount"], fee["proposal"]) == ("64.00", "unmatched", "-3.50", None)
    assert first["proposal"]["allocations"] == [{"invoice_id": invoice.pk, "number": invoice.number, "amount": "64.00"}]

    replay = post(admin_api, f"/bank-accounts/{bank['id']}/statements", body, key="upload-1")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    twice = post(admin_api, f"/bank-accounts/{bank['id']}/statements", body)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "statement_already_imported")
    not_base64 = post(admin_api, f"/bank-accounts/{bank['id']}/statements", {"content_base64": "%%%"})
    assert (not_base64.status_code, list(not_base64.json()["error"]["fields"])) == (422, ["content_base64"])

    confirmed = post(admin_api, f"/statement-lines/{first['id']}/confirm", {})
    assert confirmed.status_code == 201, confirmed.content
    assert (confirmed.json()["statement_line_id"], confirmed.json()["allocations"][0]["invoice_id"]) == (
        first["id"],
        invoice.pk,
    )
    ignored = post(admin_api, f"/statement-lines/{fee['id']}/ignore", {})
    assert (ignored.status_code, ignored.json()["status"]) == (200, "ignored")
    unmatched = admin_api.get(URL + "/statement-lines", {"status": "unmatched"}).json()
    assert unmatched["count"] == 0
    reopened = post(admin_api, f"/statement-lines/{fee['id']}/reopen", {})
    assert reopened.json()["status"] == "unmatched"
    shown = admin_api.get(f"{URL}/statements/{statement['id']}").json()
    assert [line["status"] for line in shown["lines"]] == ["matched", "unmatched"]


def test_aging_and_balance(company, admin_api, customer, supplier):
    invoice_of(company, customer, "100.00", issue_date=datetime.date(2026, 1, 1), due_days=30)
    invoice_of(company, supplier, "20.00", issue_date=datetime.date(2026, 1, 1), kind=InvoiceKind.SUPPLIER_BILL)
    report = admin_api.get(URL + "/aging", {"as_of": "2026-03-15"})
    assert report.status_code == 200
    assert report.json() == {
        "as_of": "2026-03-15",
        "side": "receivable",
        "currency": "EUR",
        "buckets": ["current", "1_30", "31_60", "61_90", "over_90"],
        "rows": [
            {
                "party_id": customer.pk,
                "party_name": customer.legal_name,
                "buckets": {"current": "0.00", "1_30": "0.00", "31_60": "100.00", "61_90": "0.00", "over_90": "0.00"},
                "total": "100.00",
            }
        ],
        "totals": {"current": "0.00", "1_30": "0.00", "31_60": "100.00", "61_90": "0.00", "over_90": "0.00"},
        "total": "100.00",
    }
    payables = admin_api.get(URL + "/aging", {"as_of": "2026-03-15", "side": "payable"}).json()
    assert payables["total"] == "20.00"
    assert admin_api.get(URL + "/aging", {"side": "sideways"}).status_code == 422
    balance = admin_api.get(f"{URL}/customers/{customer.pk}/balance", {"as_of": "2026-03-15"})
    assert balance.json() == {
        "party_id": customer.pk,
        "currency": "EUR",
        "as_of": "2026-03-15",
        "balance": "100.00",
        "overdue": "100.00",
        "credit": "0.00",
        "buckets": {"current": "0.00", "1_30": "0.00", "31_60": "100.00", "61_90": "0.00", "over_90": "0.00"},
    }


def test_another_companys_ids_are_404(company, admin_api, customer):
    other = company_build(country="ES")
    stranger = party_build(other)
    foreign_payment = payment_build(other, party=stranger, amount="5.00")
    foreign_bank = bank_account_build(other)
    before = state()
    assert admin_api.get(f"{URL}/payments/{foreign_payment.pk}").status_code == 404
    assert post(admin_api, f"/payments/{foreign_payment.pk}/cancel", {"reason": "x"}).status_code == 404
    assert post(admin_api, "/payments", {"party_id": stranger.pk, "amount": "1"}).status_code == 404
    assert admin_api.get(f"{URL}/customers/{stranger.pk}/balance").status_code == 404
    upload = {"content_base64": base64.b64encode(camt053_file([])).decode()}
    assert post(admin_api, f"/bank-accounts/{foreign_bank.pk}/statements", upload).status_code == 404
    assert admin_api.get(f"{URL}/statements/999999").status_code == 404
    assert state() == before


@pytest.mark.parametrize("role, areas", [(Role.SALES, ()), (Role.WAREHOUSE, ()), (Role.PARTNER, ("accounting",))])
def test_roles_without_collections_change_get_403_and_nothing_changes(company, customer, role, areas):
    invoice_of(company, customer, "10.00")
    payment = payment_build(company, party=customer, amount="10.00")
    bank = bank_account_build(company)
    client = api_as(company, role, areas)
    before = state()
    upload = {"content_base64": base64.b64encode(camt053_file([])).decode()}
    for path, body in [
        ("/payments", {"party_id": customer.pk, "amount": "1"}),
        (f"/payments/{payment.pk}/cancel", {"reason": "x"}),
        ("/refunds", {"party_id": customer.pk, "amount": "1"}),
        ("/bank-accounts", {"name": "Other"}),
        (f"/bank-accounts/{bank.pk}/statements", upload),
    ]:
        response = post(client, path, body, key=f"{role}-{path}")
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
    assert state() == before


def test_viewing_needs_collections_view(company, customer):
    payment_build(company, party=customer, amount="10.00")
    assert api_as(company, Role.MANAGER).get(URL + "/payments").status_code == 200
    assert api_as(company, Role.PARTNER, ("accounting",)).get(URL + "/aging").status_code == 200
    for role in (Role.SALES, Role.HR):
        client = api_as(company, role)
        assert client.get(URL + "/payments").status_code == 403
        assert client.get(URL + "/aging").status_code == 403
        assert client.get(f"{URL}/customers/{customer.pk}/balance").status_code == 403
