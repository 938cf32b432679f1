"""Pages of the financial reports under /ledger/reports/: trial balance, profit and loss, balance
sheet, general ledger and journal, each with its period picker (htmx reloads only the report),
its downloads (CSV, XLSX, PDF; the general ledger streamed) and, where they help, charts."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.ui.decorators import permission_required

from . import charts_svg, exports, reports
from .models import Account, Journal

TABLE_FORMATS = ("csv", "xlsx", "pdf")
LEDGER_FORMATS = ("csv", "xlsx")
PERMISSION = "ledger.view"


@dataclass(frozen=True)
class Picked:
    """What the period picker asked for, defaults filled in."""

    period_from: str
    period_to: str
    compare: bool

    def query(self, **extra) -> str:
        params = QueryDict(mutable=True)
        params["from"], params["to"] = self.period_from, self.period_to
        if self.compare:
            params["compare"] = "1"
        for key, value in extra.items():
            if value not in (None, ""):
                params[key] = value
        return params.urlencode()


def _flag(request, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("1", "true", "on", "yes")


def _picked(request, periods) -> Picked:
    default_from, default_to = reports.default_range(periods, timezone.localdate())
    return Picked(
        period_from=request.GET.get("from") or default_from,
        period_to=request.GET.get("to") or default_to,
        compare=_flag(request, "compare"),
    )


def _render(request, page: str, partial: str, context: dict, *, status: int = 200):
    """The whole page, or only the report when htmx asks (the picker reloads it in place)."""
    return render(request, partial if request.htmx else page, context, status=status)


def _base_context(request, periods, picked: Picked, tab: str) -> dict:
    return {
        "periods": periods,
        "picked": picked,
        "tab": tab,
        "currency": request.actor.company.base_currency,
        "error": None,
        "formats": LEDGER_FORMATS if tab == "general_ledger" else TABLE_FORMATS,
    }


def _refused(request, page, partial, context, exc: ValidationFailed):
    context["error"] = exc.message
    context["field_errors"] = exc.fields
    return _render(request, page, partial, context, status=422)


def _table_download(request, report, fmt: str) -> HttpResponse:
    table = exports.report_table(report)
    company = request.actor.company
    if fmt == "csv":
        body, content_type = exports.table_csv(table), exports.CSV_TYPE
    elif fmt == "xlsx":
        body, content_type = exports.table_xlsx(table, company_name=str(company)), exports.XLSX_TYPE
    else:
        body, content_type = exports.table_pdf(table, company=company), exports.PDF_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.{fmt}"'
    return response


def _no_periods(request, tab: str):
    return render(request, "ledger/reports/no_periods.html", {"tab": tab})


# --- pages ---------------------------------------------------------------------------------------------


@require_GET
@permission_required(PERMISSION)
def index(request):
    return redirect("ledger_reports:trial_balance")


@require_GET
@permission_required(PERMISSION)
def trial_balance(request):
    company = request.actor.company
    periods = reports.company_periods(company)
    if not periods:
        return _no_periods(request, "trial_balance")
    picked = _picked(request, periods)
    page, partial = "ledger/reports/trial_balance.html", "ledger/reports/partials/trial_balance.html"
    context = _base_context(request, periods, picked, "trial_balance")
    try:
        report = reports.trial_balance(
            company=company,
            period_from=picked.period_from,
            period_to=picked.period_to,
            compare=picked.compare,
            periods=periods,
        )
    except ValidationFailed as exc:
        return _refused(request, page, partial, context, exc)
    fmt = request.GET.get("format")
    if fmt in TABLE_FORMATS:
        return _table_download(request, report, fmt)
    context.update(report=report, query=picked.query())
    return _render(request, page, partial, context)


@require_GET
@permission_required(PERMISSION)
def profit_and_loss(request):
    company = request.actor.company
    periods = reports.company_periods(company)
    if not periods:
        return _no_periods(request, "profit_and_loss")
    picked = _picked(request, periods)
    page, partial = "ledger/reports/profit_and_loss.html", "ledger/reports/partials/profit_and_loss.html"
    context = _base_context(request, periods, picked, "profit_and_loss")
    try:
        report = reports.profit_and_loss(
            company=company,
            period_from=picked.period_from,
            period_to=picked.period_to,
            compare=picked.compare,
            periods=periods,
        )
    except ValidationFailed as exc:
        return _refused(request, page, partial, context, exc)
    fmt = request.GET.get("format")
    if fmt in TABLE_FORMATS:
        return _table_download(request, report, fmt)
    months = reports.monthly_result(
        company=company, period_from=picked.period_from, period_to=picked.period_to, periods=periods
    )
    context.update(
        report=report,
        query=picked.query(),
        sections=[report.income, report.expenses],
        months_chart=charts_svg.income_and_expenses_chart(months),
        composition_chart=charts_svg.expenses_composition_chart(report),
    )
    return _render(request, page, partial, context)


@require_GET
@permission_required(PERMISSION)
def balance_sheet(request):
    company = request.actor.company
    periods = reports.company_periods(company)
    if not periods:
        return _no_periods(request, "balance_sheet")
    picked = _picked(request, periods)
    at = request.GET.get("at") or picked.period_to
    compare_at = request.GET.get("compare_at") or ""
    page, partial = "ledger/reports/balance_sheet.html", "ledger/reports/partials/balance_sheet.html"
    context = _base_context(request, periods, picked, "balance_sheet")
    context.update(at=at, compare_at=compare_at)
    try:
        report = reports.balance_sheet(
            company=company, at=at, compare=picked.compare, compare_at=compare_at or None, periods=periods
        )
    except ValidationFailed as exc:
        return _refused(request, page, partial, context, exc)
    fmt = request.GET.get("format")
    if fmt in TABLE_FORMATS:
        return _table_download(request, report, fmt)
    query = Picked(picked.period_from, picked.period_to, picked.compare).query(at=at, compare_at=compare_at)
    context.update(
        report=report,
        query=query,
        sections=[report.assets, report.liabilities, report.equity],
        composition_chart=charts_svg.balance_sheet_chart(report),
    )
    return _render(request, page, partial, context)


def _ledger_download(request, company, picked: Picked, account_id, fmt: str):
    """The whole ledger of the range as a file written while its lines are read: CSV streamed
    as it is made, XLSX spooled to a temporary file first (a zip cannot be streamed)."""
    # Validate the range and account before the response starts: a streamed response cannot
    # turn into an error page halfway.
    reports.general_ledger(
        company=company, period_from=picked.period_from, period_to=picked.period_to, account_id=account_id, page_size=1
    )
    lines = reports.general_ledger_lines(
        company=company, period_from=picked.period_from, period_to=picked.period_to, account_id=account_id
    )
    stem = f"general-ledger-{picked.period_from}-{picked.period_to}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.general_ledger_csv(lines), content_type=exports.CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    spool = tempfile.TemporaryFile()
    exports.general_ledger_xlsx(lines, spool)
    spool.seek(0)
    response = FileResponse(spool, as_attachment=True, filename=f"{stem}.xlsx")
    response["Content-Type"] = exports.XLSX_TYPE
    return response


@require_GET
@permission_required(PERMISSION)
def general_ledger(request):
    company = request.actor.company
    periods = reports.company_periods(company)
    if not periods:
        return _no_periods(request, "general_ledger")
    picked = _picked(request, periods)
    account_id = request.GET.get("account") or None
    page, partial = "ledger/reports/general_ledger.html", "ledger/reports/partials/general_ledger.html"
    context = _base_context(request, periods, picked, "general_ledger")
    context.update(
        accounts=list(Account.objects.filter(company=company, children__isnull=True).order_by("code")),
        account_param=account_id or "",
    )
    try:
        fmt = request.GET.get("format")
        if fmt in LEDGER_FORMATS:
            return _ledger_download(request, company, picked, account_id, fmt)
        report = reports.general_ledger(
            company=company,
            period_from=picked.period_from,
            period_to=picked.period_to,
            account_id=account_id,
            cursor=request.GET.get("cursor") or None,
            periods=periods,
        )
    except ValidationFailed as exc:
        return _refused(request, page, partial, context, exc)
    context.update(
        report=report,
        query=picked.query(account=account_id),
        first_page=not request.GET.get("cursor"),
    )
    return _render(request, page, partial, context)


@require_GET
@permission_required(PERMISSION)
def journal(request):
    company = request.actor.company
    periods = reports.company_periods(company)
    if not periods:
        return _no_periods(request, "journal")
    picked = _picked(request, periods)
    journal_code = request.GET.get("journal") or None
    page, partial = "ledger/reports/journal.html", "ledger/reports/partials/journal.html"
    context = _base_context(request, periods, picked, "journal")
    context.update(
        journals=list(Journal.objects.filter(company=company).order_by("code")),
        journal_param=journal_code or "",
    )
    try:
        report = reports.journal(
            company=company,
            period_from=picked.period_from,
            period_to=picked.period_to,
            journal_code=journal_code,
            cursor=request.GET.get("cursor") or None,
            periods=periods,
        )
    except ValidationFailed as exc:
        return _refused(request, page, partial, context, exc)
    context.update(report=report, query=picked.query(journal=journal_code), first_page=not request.GET.get("cursor"))
    return _render(request, page, partial, context)
