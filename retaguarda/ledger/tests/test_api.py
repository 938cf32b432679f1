"""The ledger API: accounts, periods and closing, entries (search, detail, manual drafts,
posting, reversal), rates; the error shape and permissions (403 and nothing changed)."""

import datetime
import json
from decimal import Decimal

import pytest

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.ledger.choices import JournalKind
from retaguarda.ledger.models import ExchangeRate, FiscalYear, JournalEntry, JournalLine, Period
from retaguarda.ledger.services import LineSpec, entry_post, journal_for
from retaguarda.ledger.testing import accounts

D = Decimal
YEAR = datetime.date.today().year
DAY = f"{YEAR}-03-15"
BASE = "/api/v1/ledger"


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def snapshot():
    return (
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
        list(Period.objects.order_by("pk").values_list("state", flat=True)),
        list(FiscalYear.objects.order_by("pk").values_list("state", flat=True)),
        ExchangeRate.objects.count(),
        AuditLog.objects.filter(object_type__startswith="ledger.").count(),
    )


@pytest.fixture
def acc(company):
    return accounts(company)


def sale(company, acc, amount="121.00", on=datetime.date(YEAR, 3, 15)):
    return entry_post(
        actor=system_actor(company),
        company=company,
        journal_kind=JournalKind.SALES,
        date=on,
        lines=[LineSpec(acc[R.RECEIVABLE].pk, debit=D(amount)), LineSpec(acc[R.REVENUE].pk, credit=D(amount))],
        reference="F-7",
    )


def client_as(company, role, areas=()):
    return api_client_for(user_build(company, role, areas=areas), company)


def test_accounts_and_periods(company, admin_api):
    response = admin_api.get(f"{BASE}/accounts")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert rows["430"]["role"] == "receivable" and rows["430"]["reconcilable"] is True
    assert rows["430"]["parent_id"] == rows["4"]["id"]
    periods = admin_api.get(f"{BASE}/periods").json()
    assert [p["code"] for p in periods][:2] == [f"{YEAR}-01", f"{YEAR}-02"]
    assert periods[0]["fiscal_year"] == str(YEAR) and periods[0]["state"] == "open"


def test_entry_list_filters_and_detail(company, acc, admin_api):
    march = sale(company, acc)
    april = sale(company, acc, "10.00", on=datetime.date(YEAR, 4, 2))
    other = entry_post(
        actor=None,
        company=company,
        journal_kind=JournalKind.BANK,
        date=datetime.date(YEAR, 4, 3),
        lines=[LineSpec(acc[R.BANK].pk, debit=D("5")), LineSpec(acc[R.EQUITY].pk, credit=D("5"))],
    )
    data = admin_api.get(f"{BASE}/entries").json()
    assert data["count"] == 3
    assert [e["id"] for e in data["items"]] == [other.pk, april.pk, march.pk]
    assert admin_api.get(f"{BASE}/entries?date_from={YEAR}-04-01&journal=VEN").json()["items"][0]["id"] == april.pk
    assert admin_api.get(f"{BASE}/entries?date_to={YEAR}-03-31").json()["count"] == 1
    by_account = admin_api.get(f"{BASE}/entries?account={acc[R.BANK].pk}").json()
    assert [e["id"] for e in by_account["items"]] == [other.pk]
    assert admin_api.get(f"{BASE}/entries?limit=1&offset=1").json()["items"][0]["id"] == april.pk
    detail = admin_api.get(f"{BASE}/entries/{march.pk}").json()
    assert detail["number"] == f"VEN/{YEAR}/000001"
    assert detail["total"] == "121.00" and detail["period"] == f"{YEAR}-03"
    assert [(x["account_code"], x["debit"], x["credit"], x["residual"]) for x in detail["lines"]] == [
        ("430", "121.00", "0.00", "121.00"),
        ("700", "0.00", "121.00", "0.00"),
    ]


def test_another_companys_entry_is_404(company, acc):
    entry = sale(company, acc)
    other = company_build()
    client = api_client_for(user_build(other, Role.ADMINISTRATOR), other)
    response = client.get(f"{BASE}/entries/{entry.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_manual_draft_then_post(company, acc, admin_api):
    journal = journal_for(company.pk, JournalKind.GENERAL)
    body = {
        "journal_id": journal.pk,
        "date": DAY,
        "reference": "CAP",
        "lines": [{"account_id": acc[R.BANK].pk, "debit": "500.00"}, {"account_id": acc[R.EQUITY].pk, "credit": 500}],
    }
    response = post(admin_api, f"{BASE}/entries", body)
    assert response.status_code == 201, response.content
    draft = response.json()
    assert (draft["state"], draft["number"], draft["total"]) == ("draft", "", "500.00")
    posted = post(admin_api, f"{BASE}/entries/{draft['id']}/post")
    assert posted.status_code == 200
    assert posted.json()["number"] == f"GEN/{YEAR}/000001"
    again = post(admin_api, f"{BASE}/entries/{draft['id']}/post")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "entry_posted"


def test_manual_entry_posted_at_once_must_balance(company, acc, admin_api):
    journal = journal_for(company.pk, JournalKind.GENERAL)
    before = snapshot()
    response = post(
        admin_api,
        f"{BASE}/entries",
        {
            "journal_id": journal.pk,
            "date": DAY,
            "post": True,
            "lines": [
                {"account_id": acc[R.BANK].pk, "debit": "1.00"},
                {"account_id": acc[R.EQUITY].pk, "credit": "0.99"},
            ],
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unbalanced"
    assert error["fields"]["lines"] == ["The entry does not balance: debits 1.00, credits 0.99 (difference 0.01)."]
    assert snapshot() == before


def test_bad_lines_give_field_errors(company, acc, admin_api):
    journal = journal_for(company.pk, JournalKind.GENERAL)
    before = snapshot()
    response = post(
        admin_api,
        f"{BASE}/entries",
        {
            "journal_id": journal.pk,
            "date": DAY,
            "lines": [{"account_id": acc[R.BANK].pk, "debit": "1.001"}, {"account_id": 999999, "credit": "x"}],
        },
    )
    assert response.status_code == 422
    lines = response.json()["error"]["fields"]["lines"]
    assert "Line 1, debit: Use at most 2 decimal places." in lines
    assert "Line 2, credit: Enter a number." in lines
    assert "Line 2: the account is not one of this company's." in lines
    assert snapshot() == before


def test_reverse(company, acc, admin_api):
    entry = sale(company, acc)
    response = post(admin_api, f"{BASE}/entries/{entry.pk}/reverse", {"reason": "Duplicate"})
    assert response.status_code == 201, response.content
    reversal = response.json()
    assert reversal["reversal_of_id"] == entry.pk
    assert [(x["debit"], x["credit"]) for x in reversal["lines"]] == [("0.00", "121.00"), ("121.00", "0.00")]
    assert admin_api.get(f"{BASE}/entries/{entry.pk}").json()["reversed_by_id"] == reversal["id"]
    again = post(admin_api, f"{BASE}/entries/{entry.pk}/reverse", {"reason": "Again"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reversed"


def test_period_close_reopen_and_closed_period_refusal(company, acc, admin_api):
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    response = post(admin_api, f"{BASE}/periods/{period.pk}/close")
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    draft = post(
        admin_api,
        f"{BASE}/entries",
        {
            "journal_id": journal_for(company.pk, JournalKind.GENERAL).pk,
            "date": DAY,
            "lines": [{"account_id": acc[R.BANK].pk, "debit": "1"}],
        },
    )
    assert draft.status_code == 409
    assert draft.json()["error"]["code"] == "period_closed"
    assert post(admin_api, f"{BASE}/periods/{period.pk}/reopen").json()["state"] == "open"


def test_fiscal_year_close(company, acc, admin_api):
    sale(company, acc, "250.00")
    year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    response = post(admin_api, f"{BASE}/fiscal-years/{year.pk}/close")
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    closing = JournalEntry.objects.get(source_type="ledger.fiscal_year_close")
    assert closing.total == D("250.00")
    again = post(admin_api, f"{BASE}/fiscal-years/{year.pk}/close")
    assert again.status_code == 409


def test_rates(company, admin_api):
    response = post(admin_api, f"{BASE}/rates", {"currency": "USD", "date": "2026-01-02", "rate": "0.9123"})
    assert response.status_code == 201
    assert response.json()["rate"] == "0.912300"
    assert admin_api.get(f"{BASE}/rates?currency=USD").json()["items"][0]["rate"] == "0.912300"
    bad = post(admin_api, f"{BASE}/rates", {"currency": "EUR", "date": "2026-01-02", "rate": "1"})
    assert bad.status_code == 422
    assert "currency" in bad.json()["error"]["fields"]


@pytest.mark.parametrize(
    "role, areas",
    [(Role.SALES, ()), (Role.WAREHOUSE, ()), (Role.HR, ()), (Role.PARTNER, ("warehouse",))],
)
def test_readers_without_ledger_view_get_403(company, acc, role, areas):
    entry = sale(company, acc)
    client = client_as(company, role, areas)
    for url in ("/accounts", "/periods", "/entries", f"/entries/{entry.pk}", "/rates"):
        response = client.get(BASE + url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role, areas", [(Role.MANAGER, ()), (Role.SALES, ()), (Role.PARTNER, ("warehouse",))])
def test_writers_without_permission_get_403_and_nothing_changes(company, acc, role, areas):
    entry = sale(company, acc)
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    journal = journal_for(company.pk, JournalKind.GENERAL)
    client = client_as(company, role, areas)
    before = snapshot()
    calls = [
        (f"/periods/{period.pk}/close", {}),
        (f"/fiscal-years/{year.pk}/close", {}),
        (f"/entries/{entry.pk}/reverse", {"reason": "x"}),
        ("/rates", {"currency": "USD", "date": "2026-01-02", "rate": "1"}),
        (
            "/entries",
            {
                "journal_id": journal.pk,
                "date": DAY,
                "lines": [
                    {"account_id": acc[R.BANK].pk, "debit": "1"},
                    {"account_id": acc[R.EQUITY].pk, "credit": "1"},
                ],
            },
        ),
    ]
    for url, body in calls:
        response = post(client, BASE + url, body)
        assert response.status_code == 403, url
    assert snapshot() == before


def test_partner_accountant_posts_but_does_not_close(company, acc):
    client = client_as(company, Role.PARTNER, ("accounting",))
    entry = sale(company, acc)
    assert client.get(f"{BASE}/entries/{entry.pk}").status_code == 200
    assert post(client, f"{BASE}/entries/{entry.pk}/reverse", {"reason": "x"}).status_code == 201
    period = Period.objects.get(company=company, code=f"{YEAR}-05")
    assert post(client, f"{BASE}/periods/{period.pk}/close").status_code == 403
    period.refresh_from_db()
    assert period.state == "open"


def test_unauthenticated_is_401(client):
    assert client.get(f"{BASE}/entries").status_code == 401
