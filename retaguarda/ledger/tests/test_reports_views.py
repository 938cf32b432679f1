"""The report pages, their downloads (CSV exactly, XLSX read back with openpyxl, PDF, the general
ledger streamed) and the reports' API: by role, with refusals, and with pinned query counts.

The module is also the URLconf of its tests: the project's, plus the report pages and API
router where the project does not mount them (yet)."""

import io
import json

import openpyxl
import pytest
from django.urls import Resolver404, include, path, resolve
from ninja import NinjaAPI

from retaguarda import urls as project_urls
from retaguarda.core.choices import Role
from retaguarda.core.testing import api_client_for, client_for, user_build
from retaguarda.ledger.api_reports import router as reports_router
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine
from retaguarda.ledger.testing import company_with_chart

from .test_reports import build_books


def _mounted(url: str) -> bool:
    try:
        resolve(url, urlconf=project_urls)
    except Resolver404:
        return False
    return True


def _test_urlpatterns() -> list:
    patterns = []
    if not _mounted("/ledger/reports/trial-balance/"):
        patterns.append(path("ledger/reports/", include("retaguarda.ledger.urls_reports")))
    if not _mounted("/api/v1/ledger/reports/trial-balance"):
        from retaguarda.api import errors
        from retaguarda.core.apikit import bearer

        api = NinjaAPI(auth=bearer, urls_namespace="ledger-reports-test", docs_url=None, openapi_url=None)
        errors.install(api)
        api.add_router("/ledger/reports/", reports_router, url_name_prefix="ledger_reports_test")
        patterns.append(path("api/v1/", api.urls))
    return patterns + list(project_urls.urlpatterns)


urlpatterns = _test_urlpatterns()
pytestmark = pytest.mark.urls(__name__)

PAGES = ["trial-balance", "profit-and-loss", "balance-sheet", "general-ledger", "journal"]
API = "/api/v1/ledger/reports/"


@pytest.fixture
def books(db):
    company = company_with_chart("ES")
    return {"company": company, **build_books(company)}


@pytest.fixture
def finance(books):
    return client_for(user_build(books["company"], Role.FINANCE))


@pytest.fixture
def finance_api(books):
    return api_client_for(user_build(books["company"], Role.FINANCE), books["company"])


def page(name: str) -> str:
    return f"/ledger/reports/{name}/"


def ledger_snapshot() -> tuple:
    return (
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
        list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")),
    )


# --- pages ---------------------------------------------------------------------------------------------


def test_trial_balance_page_shows_the_range_and_its_totals(books, finance):
    response = finance.get(page("trial-balance"), {"from": "2026-01", "to": "2026-03", "compare": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="report"' in html
    assert "Result of previous years not closed" in html
    assert "11,160.00" in html and "1,418.00" in html
    # The picker keeps the choice; the downloads carry it.
    assert '<option value="2026-03" selected>' in html and 'name="compare" value="1" checked' in html
    assert "?from=2026-01&amp;to=2026-03&amp;compare=1&amp;format=csv" in html


def test_the_picker_reloads_only_the_report_through_htmx(books, finance):
    response = finance.get(
        page("profit-and-loss"), {"from": "2026-01", "to": "2026-03"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert "550.00" in html and html.count("<svg") == 2 and "<script" not in html


def test_balance_sheet_page_balances_with_its_chart(books, finance):
    response = finance.get(page("balance-sheet"), {"at": "2026-03", "compare": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("12,012.00") >= 4  # total assets and total liabilities and equity, both columns
    assert "Result of the year" in html and "<svg" in html and "cdn" not in html.lower()


def test_general_ledger_page_pages_with_its_cursor(books, finance):
    bank = books["acc"]["572"]
    params = {"from": "2025-01", "to": "2026-03", "account": bank.pk}
    first = finance.get(page("general-ledger"), params)
    html = first.content.decode()
    assert first.status_code == 200 and "Opening balance" in html and "11,160.00" in html
    assert "Next page" not in html  # four lines fit in a page of 100


def test_journal_page_lists_entries_with_their_lines(books, finance):
    response = finance.get(page("journal"), {"from": "2026-01", "to": "2026-03", "journal": "VEN"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "VEN/2026/000001" in html and "VEN/2026/000002" in html and "BAN/2026/000001" not in html
    assert "Beta Retail SL" in html


def test_an_unknown_period_is_a_clear_error(books, finance):
    response = finance.get(page("trial-balance"), {"from": "1999-01", "to": "2026-03"})
    assert response.status_code == 422
    assert "No period 1999-01." in response.content.decode()


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.HR])
@pytest.mark.parametrize("name", PAGES)
def test_pages_and_downloads_are_refused_without_ledger_view(books, role, name):
    client = client_for(user_build(books["company"], role))
    before = ledger_snapshot()
    assert client.get(page(name)).status_code == 403
    assert client.get(page(name), {"format": "csv"}).status_code == 403
    assert ledger_snapshot() == before


def test_anonymous_visitors_go_to_the_log_in_page(books):
    response = client_for(None).get(page("trial-balance"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("name", "params", "queries"),
    [
        # Every page: session, user, membership and the company switcher's companies (4); then
        # periods, accounts, balances (+ closing lines and the monthly figures for P&L).
        ("trial-balance", {"from": "2026-01", "to": "2026-03", "compare": "1"}, 7),
        ("profit-and-loss", {"from": "2026-01", "to": "2026-03", "compare": "1"}, 10),
        ("balance-sheet", {"at": "2026-03", "compare": "1"}, 7),
        # periods, the account picker, accounts, lines, opening
        ("general-ledger", {"from": "2025-02", "to": "2026-03", "account": "572"}, 9),
        # periods, the journal picker, entries, lines
        ("journal", {"from": "2026-01", "to": "2026-03"}, 8),
    ],
)
def test_page_query_counts_are_pinned(books, finance, name, params, queries, django_assert_num_queries):
    finance.get(page(name), params)  # the session is warm
    with django_assert_num_queries(queries):
        response = finance.get(page(name), params)
    assert response.status_code == 200


# --- downloads -----------------------------------------------------------------------------------------


TB_CSV = (
    "\ufeffCode,Account,Opening balance (2026-01 – 2026-03),Debit (2026-01 – 2026-03),"
    "Credit (2026-01 – 2026-03),Closing balance (2026-01 – 2026-03)\r\n"
    "100,Capital social,-10000.00,0.00,0.00,-10000.00\r\n"
    "400,Proveedores,-484.00,0.00,0.00,-484.00\r\n"
    "430,Clientes,0.00,968.00,200.00,768.00\r\n"
    '472,"Hacienda Pública, IVA soportado",84.00,0.00,0.00,84.00\r\n'
    '477,"Hacienda Pública, IVA repercutido",-210.00,0.00,168.00,-378.00\r\n'
    '572,"Bancos e instituciones de crédito c/c vista, euros",11210.00,200.00,250.00,11160.00\r\n'
    "621,Arrendamientos y cánones,0.00,250.00,0.00,250.00\r\n"
    "700,Ventas de mercaderías,0.00,0.00,500.00,-500.00\r\n"
    "705,Prestaciones de servicios,0.00,0.00,300.00,-300.00\r\n"
    ",Result of previous years not closed,-600.00,0.00,0.00,-600.00\r\n"
    ",Total,0.00,1418.00,1418.00,0.00\r\n"
)


def test_trial_balance_csv_is_exact(books, finance):
    response = finance.get(page("trial-balance"), {"from": "2026-01", "to": "2026-03", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="trial-balance-2026-01-2026-03.csv"'
    assert response.content.decode("utf-8") == TB_CSV


def test_profit_and_loss_csv_has_sections_groups_and_the_result(books, finance):
    response = finance.get(page("profit-and-loss"), {"from": "2026-01", "to": "2026-03", "format": "csv"})
    assert response.content.decode("utf-8-sig").splitlines() == [
        "Section,Code,Account,Amount (2026-01 – 2026-03)",
        "Income,,,",
        "Income,7,Ventas e ingresos,800.00",
        "Income,700,Ventas de mercaderías,500.00",
        "Income,705,Prestaciones de servicios,300.00",
        "Income,,Total income,800.00",
        "Expenses,,,",
        "Expenses,6,Compras y gastos,250.00",
        "Expenses,621,Arrendamientos y cánones,250.00",
        "Expenses,,Total expenses,250.00",
        ",,Net result,550.00",
    ]


def xlsx_rows(content: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_balance_sheet_xlsx_opens_and_has_the_totals(books, finance):
    response = finance.get(page("balance-sheet"), {"at": "2026-03", "compare": "1", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = xlsx_rows(response.content)
    assert rows[0][0].startswith("Balance sheet · ") and rows[1][0] == "At the end of 2026-03"
    assert rows[3] == ("Section", "Code", "Account", "Amount (2026-03)", "Amount (2026-02)")
    totals = {row[2]: (row[3], row[4]) for row in rows[4:] if row[2] and row[2].startswith("Total")}
    assert totals == {
        "Total assets": (12012, 10960 + 1052),
        "Total liabilities": (862, 862),
        "Total equity": (11150, 11150),
        "Total liabilities and equity": (12012, 12012),
    }


def test_trial_balance_xlsx_totals_balance(books, finance):
    response = finance.get(page("trial-balance"), {"from": "2026-01", "to": "2026-03", "format": "xlsx"})
    rows = xlsx_rows(response.content)
    assert rows[-1] == (None, "Total", 0, 1418, 1418, 0)
    assert ("572", "Bancos e instituciones de crédito c/c vista, euros", 11210, 200, 250, 11160) in rows


@pytest.mark.parametrize("name", ["trial-balance", "profit-and-loss", "balance-sheet"])
def test_pdf_downloads_are_pdf(books, finance, name):
    response = finance.get(page(name), {"from": "2026-01", "to": "2026-03", "at": "2026-03", "format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_general_ledger_csv_is_streamed_line_by_line(books, finance):
    response = finance.get(
        page("general-ledger"), {"from": "2026-01", "to": "2026-03", "account": "430", "format": "csv"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="general-ledger-2026-01-2026-03.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines() == [
        "Account,Account name,Date,Entry,Party,Description,Reference,Debit,Credit,Balance",
        "430,Clientes,2026-01-10,VEN/2026/000001,Beta Retail SL,,,605.00,0.00,605.00",
        "430,Clientes,2026-02-12,VEN/2026/000002,Alfa Comercio SL,,,363.00,0.00,968.00",
        "430,Clientes,2026-03-03,BAN/2026/000001,Beta Retail SL,,,0.00,200.00,768.00",
    ]


def test_general_ledger_xlsx_of_all_accounts(books, finance):
    response = finance.get(page("general-ledger"), {"from": "2025-01", "to": "2026-03", "format": "xlsx"})
    rows = xlsx_rows(b"".join(response.streaming_content))
    assert rows[0][:3] == ("Account", "Account name", "Date") and len(rows) == 1 + 20
    assert sum(r[7] for r in rows[1:]) == sum(r[8] for r in rows[1:]) == 14322
    assert rows[-1][0] == "705" and rows[-1][9] == -300


def test_a_bad_ledger_download_is_refused_before_streaming(books, finance):
    response = finance.get(page("general-ledger"), {"from": "2026-03", "to": "2026-01", "format": "csv"})
    assert response.status_code == 422 and not response.streaming


# --- API -----------------------------------------------------------------------------------------------


def test_api_trial_balance_with_comparison(books, finance_api):
    response = finance_api.get(API + "trial-balance", {"from": "2026-01", "to": "2026-03", "compare": "true"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["range"] == {"from": "2026-01", "to": "2026-03"}
    assert data["previous_range"] == {"from": "2025-10", "to": "2025-12"}
    assert data["total"] == {"opening": "0.00", "debit": "1418.00", "credit": "1418.00", "closing": "0.00"}
    assert data["previous_total"] == {"opening": "0.00", "debit": "1210.00", "credit": "1210.00", "closing": "0.00"}
    bank = next(r for r in data["rows"] if r["code"] == "572")
    assert bank["current"] == {"opening": "11210.00", "debit": "200.00", "credit": "250.00", "closing": "11160.00"}
    assert bank["previous"]["closing"] == "11210.00"
    unclosed = data["rows"][-1]
    assert unclosed["account_id"] is None and unclosed["current"]["opening"] == "-600.00"


def test_api_profit_and_loss_and_balance_sheet(books, finance_api):
    pl = finance_api.get(API + "profit-and-loss", {"from": "2026-01", "to": "2026-03"}).json()
    assert (pl["net_result"], pl["previous_net_result"], pl["previous_range"]) == ("550.00", None, None)
    assert [(r["code"], r["depth"], r["amount"]) for r in pl["income"]["rows"]] == [
        ("7", 0, "800.00"),
        ("700", 1, "500.00"),
        ("705", 1, "300.00"),
    ]
    bs = finance_api.get(API + "balance-sheet", {"at": "2026-03", "compare": "true"}).json()
    assert (bs["at"], bs["compare_at"]) == ("2026-03", "2026-02")
    assert bs["total_assets"] == bs["total_liabilities_and_equity"] == "12012.00"
    assert [(r["name"], r["amount"], r["previous"]) for r in bs["equity"]["rows"] if r["account_id"] is None] == [
        ("Result of previous years not closed", "600.00", "600.00"),
        ("Result of the year", "550.00", "550.00"),
    ]


def test_api_general_ledger_follows_its_cursor(books, finance_api):
    params = {"from": "2025-01", "to": "2026-03", "account": "572", "limit": 2}
    first = finance_api.get(API + "general-ledger", params).json()
    assert first["account"]["code"] == "572" and first["opening"] == "0.00"
    assert [(ln["debit"], ln["balance"]) for ln in first["lines"]] == [
        ("10000.00", "10000.00"),
        ("1210.00", "11210.00"),
    ]
    second = finance_api.get(API + "general-ledger", {**params, "cursor": first["next_cursor"]}).json()
    assert [(ln["credit"], ln["balance"]) for ln in second["lines"]] == [("250.00", "10960.00"), ("0.00", "11160.00")]
    assert second["opening"] == "11210.00" and second["next_cursor"] is None
    bad = finance_api.get(API + "general-ledger", {**params, "cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"cursor": ["Invalid cursor."]}


def test_api_journal(books, finance_api):
    data = finance_api.get(API + "journal", {"from": "2025-12", "to": "2025-12"}).json()
    assert [(e["number"], e["total"]) for e in data["entries"]] == [("BAN/2025/000001", "1210.00")]
    assert [(ln["account_code"], ln["debit"], ln["credit"]) for ln in data["entries"][0]["lines"]] == [
        ("572", "1210.00", "0.00"),
        ("430", "0.00", "1210.00"),
    ]


def test_api_refuses_an_unknown_period_and_account(books, finance_api):
    response = finance_api.get(API + "trial-balance", {"from": "2026-01", "to": "2031-13"})
    assert response.status_code == 422
    assert json.loads(response.content)["error"]["fields"] == {"to": ["No period 2031-13."]}
    assert finance_api.get(API + "general-ledger", {"account": "999999"}).status_code == 404


@pytest.mark.parametrize("name", ["trial-balance", "profit-and-loss", "balance-sheet", "general-ledger", "journal"])
def test_api_refuses_a_sales_user(books, name):
    client = api_client_for(user_build(books["company"], Role.SALES), books["company"])
    before = ledger_snapshot()
    response = client.get(API + name)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert ledger_snapshot() == before


def test_charts_carry_no_script_even_for_a_hostile_account_name(books, finance):
    from retaguarda.ledger.models import Account

    Account.objects.filter(company=books["company"], code="621").update(name="</script><script>alert(1)</script>")
    response = finance.get(page("profit-and-loss"), {"from": "2026-01", "to": "2026-03"})
    html = response.content.decode()
    assert response.status_code == 200 and "<script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # in the table and the chart's legend, escaped
    report = html[html.index('id="report"') :]
    assert "<script" not in report


def test_api_journal_with_an_unknown_or_nul_code_is_not_found(books, finance_api):
    assert finance_api.get(API + "journal", {"journal": "NOPE"}).status_code == 404
    assert finance_api.get(API + "journal", {"journal": "VEN\x00"}).status_code == 404


def test_api_never_answers_a_negative_zero(books, finance_api):
    # At the end of January 2025 nothing has been earned yet: the year's result is zero.
    bs = finance_api.get(API + "balance-sheet", {"at": "2025-01", "compare": "true"})
    assert b"-0.00" not in bs.content
    rows = bs.json()["equity"]["rows"]
    assert [(r["name"], r["amount"]) for r in rows if r["account_id"] is None] == [("Result of the year", "0.00")]
    for name in ("trial-balance", "profit-and-loss"):
        response = finance_api.get(API + name, {"from": "2025-01", "to": "2025-02", "compare": "true"})
        assert response.status_code == 200 and b"-0.00" not in response.content
