"""The ledger pages: chart of accounts, entries list and page with reversal, the manual entry
form, periods and fiscal years, exchange rates; permissions (403 and nothing changed) and
pinned query counts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.ledger.choices import EntryState, JournalKind
from retaguarda.ledger.models import ExchangeRate, FiscalYear, JournalEntry, JournalLine, Period
from retaguarda.ledger.services import LineSpec, entry_draft_create, entry_post, journal_for
from retaguarda.ledger.testing import accounts

D = Decimal
YEAR = datetime.date.today().year
DAY = datetime.date(YEAR, 3, 15)


@pytest.fixture
def acc(company):
    return accounts(company)


def sale(company, acc, amount="121.00", on=DAY, reference="F-1"):
    return entry_post(
        actor=system_actor(company),
        company=company,
        journal_kind=JournalKind.SALES,
        date=on,
        lines=[LineSpec(acc[R.RECEIVABLE].pk, debit=D(amount)), LineSpec(acc[R.REVENUE].pk, credit=D(amount))],
        reference=reference,
    )


def snapshot():
    return (
        JournalEntry.objects.count(),
        list(JournalEntry.objects.order_by("pk").values_list("state", "number")),
        JournalLine.objects.count(),
        list(Period.objects.order_by("pk").values_list("state", flat=True)),
        list(FiscalYear.objects.order_by("pk").values_list("state", flat=True)),
        ExchangeRate.objects.count(),
        AuditLog.objects.filter(object_type__startswith="ledger.").count(),
    )


def rows_post(acc, *rows, **header):
    """The manual entry form's POST: header fields and line rows (account role, debit, credit)."""
    data = {
        "journal": str(header.get("journal")),
        "date": header.get("date", DAY.isoformat()),
        "reference": header.get("reference", ""),
        "description": header.get("description", ""),
        "line-TOTAL_FORMS": "6",
        "line-INITIAL_FORMS": "0",
    }
    for i, (role, debit, credit) in enumerate(rows):
        data[f"line-{i}-account"] = str(acc[role].pk)
        data[f"line-{i}-debit"] = debit
        data[f"line-{i}-credit"] = credit
    return data


@pytest.mark.parametrize(
    "name",
    ["account_list", "entry_list", "period_list", "rate_list", "entry_create"],
)
def test_pages_need_login(client, db, name):
    response = client.get(reverse(f"ledger:{name}"))
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.parametrize(
    "role, areas, status",
    [
        (Role.ADMINISTRATOR, (), 200),
        (Role.FINANCE, (), 200),
        (Role.MANAGER, (), 200),
        (Role.PARTNER, ("accounting",), 200),
        (Role.SALES, (), 403),
        (Role.WAREHOUSE, (), 403),
        (Role.PARTNER, ("warehouse",), 403),
    ],
)
def test_list_pages_by_role(company, acc, role, areas, status):
    entry = sale(company, acc)
    client = client_for(user_build(company, role, areas=areas))
    for name, args in [
        ("account_list", ()),
        ("entry_list", ()),
        ("period_list", ()),
        ("rate_list", ()),
        ("entry_detail", (entry.pk,)),
    ]:
        assert client.get(reverse(f"ledger:{name}", args=args)).status_code == status, name


def test_chart_of_accounts_page(company, admin_client, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, user, membership+company, accounts, …
        response = admin_client.get(reverse("ledger:account_list"))
    content = response.content.decode()
    assert "430 Clientes" not in content  # code and name are separate cells
    assert "Clientes" in content and "Hacienda Pública, IVA repercutido" in content
    assert "Customer receivables" in content


def test_entry_list_filters_and_query_count(company, acc, admin_client, django_assert_num_queries):
    sale(company, acc, reference="INV-MARCH")
    sale(company, acc, reference="INV-APRIL", on=datetime.date(YEAR, 4, 2))
    url = reverse("ledger:entry_list")
    content = admin_client.get(url, {"date_from": f"{YEAR}-04-01"}).content.decode()
    assert "INV-APRIL" in content and "INV-MARCH" not in content
    content = admin_client.get(url, {"q": "MARCH"}).content.decode()
    assert "INV-MARCH" in content and "INV-APRIL" not in content
    content = admin_client.get(url, {"account": acc[R.BANK].pk}).content.decode()
    assert "INV-MARCH" not in content
    with django_assert_num_queries(8):
        admin_client.get(url)
    for n in range(10):
        sale(company, acc, reference=f"MORE-{n}")
    with django_assert_num_queries(8):
        response = admin_client.get(url)
    assert "MORE-9" in response.content.decode()
    partial = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"MORE-9" in partial.content


def test_entry_list_shows_only_the_companys_entries(company, acc, admin_client):
    other = company_build()
    sale(other, accounts(other), reference="FOREIGN-1")
    sale(company, acc, reference="OURS-1")
    content = admin_client.get(reverse("ledger:entry_list")).content.decode()
    assert "OURS-1" in content and "FOREIGN-1" not in content


def test_entry_detail_and_reverse(company, acc, admin_client, django_assert_num_queries):
    entry = sale(company, acc)
    url = reverse("ledger:entry_detail", args=[entry.pk])
    with django_assert_num_queries(7):
        response = admin_client.get(url)
    content = response.content.decode()
    assert entry.number in content and "Reverse this entry" in content
    response = admin_client.post(reverse("ledger:entry_reverse", args=[entry.pk]), {"reason": "Duplicate"})
    reversal = JournalEntry.objects.get(reversal_of=entry)
    assert response.status_code == 302 and response["Location"] == reverse("ledger:entry_detail", args=[reversal.pk])
    content = admin_client.get(url).content.decode()
    assert reversal.number in content and "Reverse this entry" not in content


def test_reverse_refusal_is_shown_and_changes_nothing(company, acc, admin_client):
    entry = sale(company, acc)
    Period.objects.filter(company=company, code=f"{YEAR}-01").update(state="closed")
    before = snapshot()
    response = admin_client.post(
        reverse("ledger:entry_reverse", args=[entry.pk]), {"reason": "x", "date": f"{YEAR}-01-10"}
    )
    assert response.status_code == 409
    assert "closed" in response.content.decode()
    assert snapshot() == before
    missing_reason = admin_client.post(reverse("ledger:entry_reverse", args=[entry.pk]), {"reason": ""})
    assert missing_reason.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("role, areas", [(Role.MANAGER, ()), (Role.SALES, ()), (Role.PARTNER, ("warehouse",))])
def test_writes_are_forbidden_without_permission_and_change_nothing(company, acc, role, areas):
    entry = sale(company, acc)
    draft = entry_draft_create(
        actor=system_actor(company),
        company=company,
        journal_id=journal_for(company.pk, JournalKind.GENERAL).pk,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("1")), LineSpec(acc[R.EQUITY].pk, credit=D("1"))],
    )
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    client = client_for(user_build(company, role, areas=areas))
    journal = journal_for(company.pk, JournalKind.GENERAL).pk
    before = snapshot()
    posts = [
        (reverse("ledger:entry_reverse", args=[entry.pk]), {"reason": "x"}),
        (reverse("ledger:entry_post", args=[draft.pk]), {}),
        (reverse("ledger:entry_delete", args=[draft.pk]), {}),
        (reverse("ledger:entry_edit", args=[draft.pk]), rows_post(acc, (R.BANK, "2", ""), journal=journal)),
        (reverse("ledger:entry_create"), rows_post(acc, (R.BANK, "2", ""), (R.EQUITY, "", "2"), journal=journal)),
        (reverse("ledger:period_close", args=[period.pk]), {}),
        (reverse("ledger:fiscal_year_close", args=[year.pk]), {}),
        (reverse("ledger:fiscal_year_open"), {"year": YEAR + 5}),
        (reverse("ledger:rate_list"), {"currency": "USD", "date": "2026-01-01", "rate": "1.1"}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
    assert snapshot() == before


def test_state_changes_are_post_only(company, acc, admin_client):
    entry = sale(company, acc)
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    for url in (
        reverse("ledger:entry_reverse", args=[entry.pk]),
        reverse("ledger:period_close", args=[period.pk]),
        reverse("ledger:entry_post", args=[entry.pk]),
    ):
        assert admin_client.get(url).status_code == 405


def test_manual_entry_form_save_draft_then_post(company, acc):
    client = client_for(user_build(company, Role.FINANCE))
    journal = journal_for(company.pk, JournalKind.GENERAL).pk
    page = client.get(reverse("ledger:entry_create"))
    assert page.content.decode().count('name="line-') >= 6 * 4
    data = rows_post(acc, (R.BANK, "1000.00", ""), (R.EQUITY, "", "1000.00"), journal=journal, reference="CAP")
    data["save"] = "1"
    response = client.post(reverse("ledger:entry_create"), data)
    entry = JournalEntry.objects.get()
    assert response.status_code == 302
    assert (entry.state, entry.total, entry.reference) == (EntryState.DRAFT, D("1000.00"), "CAP")
    assert entry.lines.count() == 2
    edit = client.get(reverse("ledger:entry_edit", args=[entry.pk])).content.decode()
    assert 'value="1000.00"' in edit
    response = client.post(reverse("ledger:entry_post", args=[entry.pk]))
    entry.refresh_from_db()
    assert response.status_code == 302
    assert entry.state == EntryState.POSTED and entry.number == f"GEN/{YEAR}/000001"


def test_manual_entry_form_unbalanced_post_is_refused_and_nothing_saved(company, acc, admin_client):
    journal = journal_for(company.pk, JournalKind.GENERAL).pk
    data = rows_post(acc, (R.BANK, "10.00", ""), (R.EQUITY, "", "9.99"), journal=journal)
    data["post"] = "1"
    before = snapshot()
    response = admin_client.post(reverse("ledger:entry_create"), data)
    assert response.status_code == 422
    assert "does not balance" in response.content.decode()
    assert snapshot() == before


def test_manual_entry_form_add_lines_re_renders_more_rows(company, acc, admin_client):
    journal = journal_for(company.pk, JournalKind.GENERAL).pk
    data = rows_post(acc, (R.BANK, "10.00", ""), journal=journal)
    data["add_lines"] = "1"
    before = snapshot()
    response = admin_client.post(reverse("ledger:entry_create"), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="line-TOTAL_FORMS" value="10"' in content
    assert 'name="line-9-account"' in content
    assert snapshot() == before


def test_a_posted_entry_cannot_be_edited_from_the_form(company, acc, admin_client):
    entry = sale(company, acc)
    before = snapshot()
    response = admin_client.post(
        reverse("ledger:entry_edit", args=[entry.pk]),
        rows_post(acc, (R.BANK, "1", ""), journal=entry.journal_id),
    )
    assert response.status_code == 302
    assert snapshot() == before


def test_draft_delete(company, acc, admin_client):
    draft = entry_draft_create(
        actor=system_actor(company),
        company=company,
        journal_id=journal_for(company.pk, JournalKind.GENERAL).pk,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("1"))],
    )
    response = admin_client.post(reverse("ledger:entry_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not JournalEntry.objects.filter(pk=draft.pk).exists()


def test_periods_page_close_reopen_and_year_end(company, acc, admin_client, django_assert_num_queries):
    sale(company, acc, "80.00")
    url = reverse("ledger:period_list")
    with django_assert_num_queries(6):
        content = admin_client.get(url).content.decode()
    assert f"Fiscal year {YEAR}" in content
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    assert admin_client.post(reverse("ledger:period_close", args=[period.pk])).status_code == 302
    period.refresh_from_db()
    assert period.state == "closed"
    refused = admin_client.post(reverse("ledger:period_close", args=[period.pk]))
    assert refused.status_code == 409 and "already closed" in refused.content.decode()
    assert admin_client.post(reverse("ledger:period_reopen", args=[period.pk])).status_code == 302
    year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    assert admin_client.post(reverse("ledger:fiscal_year_close", args=[year.pk])).status_code == 302
    year.refresh_from_db()
    assert year.state == "closed"
    assert JournalEntry.objects.get(source_type="ledger.fiscal_year_close").total == D("80.00")
    assert admin_client.post(reverse("ledger:fiscal_year_open"), {"year": YEAR + 1}).status_code == 409
    assert admin_client.post(reverse("ledger:fiscal_year_open"), {"year": YEAR - 1}).status_code == 302
    assert FiscalYear.objects.filter(company=company, start_date=datetime.date(YEAR - 1, 1, 1)).exists()


def test_rates_page(company, admin_client, django_assert_num_queries):
    response = admin_client.post(
        reverse("ledger:rate_list"), {"currency": "USD", "date": "2026-01-05", "rate": "1.0845"}
    )
    assert response.status_code == 302
    with django_assert_num_queries(5):
        content = admin_client.get(reverse("ledger:rate_list")).content.decode()
    assert "USD" in content and "1.084500" in content
    bad = admin_client.post(reverse("ledger:rate_list"), {"currency": "USD", "date": "2026-01-05", "rate": "0"})
    assert bad.status_code == 422
    assert ExchangeRate.objects.count() == 1


def test_navigation_shows_accounting_to_finance_only(company):
    finance = client_for(user_build(company, Role.FINANCE)).get(reverse("ledger:entry_list")).content.decode()
    assert reverse("ledger:account_list") in finance
    sales = client_for(user_build(company, Role.SALES)).get("/").content.decode()
    assert reverse("ledger:entry_list") not in sales
