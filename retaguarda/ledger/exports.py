"""The financial reports as files: trial balance, profit and loss and balance sheet as CSV, XLSX
and PDF; the general ledger as CSV or XLSX written while its lines are read, so memory stays
flat however long the ledger.

Amounts go into CSV and XLSX as exact decimals (plain digits, a point, no thousands separator,
negative with a minus sign): they are for spreadsheets and other programs. The PDF shows them
in the user's language.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.tabular import CSVWriter

from .reports import BalanceSheet, LedgerLine, ProfitAndLoss, StatementSection, TrialBalance

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
# Rows a worksheet holds (Excel's limit) less the header: a longer ledger continues on a new sheet.
XLSX_SHEET_ROWS = 1_048_576 - 1

ROW, GROUP, SECTION, TOTAL = "row", "group", "section", "total"


@dataclass
class Table:
    """A report laid out as rows of cells: what the CSV, XLSX and PDF files share. `kinds`
    gives each row's role (an account, a group subtotal, a section title, a total) for styling;
    the first `text_columns` columns are text, the others amounts."""

    title: str
    subtitle: str
    header: list[str]
    text_columns: int
    rows: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    filename: str = "report"

    def add(self, values: list, kind: str = ROW, depth: int = 0) -> None:
        self.rows.append(values)
        self.kinds.append(kind)
        self.depths.append(depth)


def _with_range(label: str, range_label: str) -> str:
    return f"{label} ({range_label})"


# --- tables of the reports -----------------------------------------------------------------------------


def trial_balance_table(tb: TrialBalance) -> Table:
    columns = [_("Opening balance"), _("Debit"), _("Credit"), _("Closing balance")]
    header = [_("Code"), _("Account")] + [_with_range(c, tb.range.label) for c in columns]
    if tb.previous_range is not None:
        header += [_with_range(c, tb.previous_range.label) for c in columns]
    table = Table(
        title=_("Trial balance"),
        subtitle=tb.range.label,
        header=header,
        text_columns=2,
        filename=f"trial-balance-{tb.range.from_code}-{tb.range.to_code}",
    )

    def figures(f) -> list[Decimal]:
        return [f.opening, f.debit, f.credit, f.closing]

    for row in tb.rows:
        values = [row.code, row.name] + figures(row.current)
        if tb.previous_range is not None:
            values += figures(row.previous)
        table.add(values)
    total = ["", _("Total")] + figures(tb.total)
    if tb.previous_range is not None:
        total += figures(tb.previous_total)
    table.add(total, TOTAL)
    return table


def _statement_rows(table: Table, section: StatementSection, compare: bool, total_label: str) -> None:
    table.add([section.label, "", ""] + [""] * (2 if compare else 1), SECTION)
    for row in section.rows:
        values = [section.label, row.code, row.name, row.amount]
        if compare:
            values.append(row.previous)
        table.add(values, GROUP if row.is_group else ROW, row.depth)
    values = [section.label, "", total_label, section.total]
    if compare:
        values.append(section.previous_total)
    table.add(values, TOTAL)


def profit_and_loss_table(pl: ProfitAndLoss) -> Table:
    compare = pl.previous_range is not None
    header = [_("Section"), _("Code"), _("Account"), _with_range(_("Amount"), pl.range.label)]
    if compare:
        header.append(_with_range(_("Amount"), pl.previous_range.label))
    table = Table(
        title=_("Profit and loss"),
        subtitle=pl.range.label,
        header=header,
        text_columns=3,
        filename=f"profit-and-loss-{pl.range.from_code}-{pl.range.to_code}",
    )
    _statement_rows(table, pl.income, compare, _("Total income"))
    _statement_rows(table, pl.expenses, compare, _("Total expenses"))
    result = ["", "", _("Net result"), pl.net_result] + ([pl.previous_net_result] if compare else [])
    table.add(result, TOTAL)
    return table


def balance_sheet_table(bs: BalanceSheet) -> Table:
    compare = bs.compare_at is not None
    header = [_("Section"), _("Code"), _("Account"), _with_range(_("Amount"), bs.at.code)]
    if compare:
        header.append(_with_range(_("Amount"), bs.compare_at.code))
    table = Table(
        title=_("Balance sheet"),
        subtitle=_("At the end of %(period)s") % {"period": bs.at.code},
        header=header,
        text_columns=3,
        filename=f"balance-sheet-{bs.at.code}",
    )
    _statement_rows(table, bs.assets, compare, _("Total assets"))
    _statement_rows(table, bs.liabilities, compare, _("Total liabilities"))
    _statement_rows(table, bs.equity, compare, _("Total equity"))
    both = ["", "", _("Total liabilities and equity"), bs.liabilities_and_equity]
    if compare:
        both.append(bs.previous_liabilities_and_equity)
    table.add(both, TOTAL)
    return table


def report_table(report) -> Table:
    if isinstance(report, TrialBalance):
        return trial_balance_table(report)
    if isinstance(report, ProfitAndLoss):
        return profit_and_loss_table(report)
    if isinstance(report, BalanceSheet):
        return balance_sheet_table(report)
    raise TypeError(f"no table for {type(report).__name__}")


# --- files -------------------------------------------------------------------------------------------


def table_csv(table: Table) -> bytes:
    """The table as CSV (UTF-8 with a byte-order mark, CRLF lines), header first."""
    buffer = io.BytesIO()
    writer = CSVWriter(buffer, table.header)
    for values in table.rows:
        writer.writerow(values)
    writer.close()
    return buffer.getvalue()


def _xlsx_cell(sheet, value, *, bold: bool = False, amount: bool = False, indent: int = 0):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    if bold:
        cell.font = Font(bold=True)
    if amount:
        cell.number_format = "#,##0.00"
    if indent:
        cell.alignment = Alignment(indent=indent)
    return cell


def table_xlsx(table: Table, *, company_name: str = "") -> bytes:
    """The table as an XLSX workbook: a title, the header, then the rows; amounts as numbers
    with two decimals, totals and group subtotals in bold."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31])
    for index in range(len(table.header)):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = 40 if index == table.text_columns - 1 else 16
    sheet.append([_xlsx_cell(sheet, f"{table.title} · {company_name}" if company_name else table.title, bold=True)])
    sheet.append([table.subtitle])
    sheet.append([])
    sheet.append([_xlsx_cell(sheet, h, bold=True) for h in table.header])
    account_column = table.text_columns - 1
    for values, kind, depth in zip(table.rows, table.kinds, table.depths, strict=True):
        bold = kind != ROW
        sheet.append(
            [
                _xlsx_cell(
                    sheet,
                    value,
                    bold=bold,
                    amount=i >= table.text_columns,
                    indent=depth if i == account_column else 0,
                )
                for i, value in enumerate(values)
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_pdf(table: Table, *, company) -> bytes:
    """The table printed to PDF (A4, landscape when it has comparison columns)."""
    import weasyprint  # loaded on demand: Pango and fonts cost time at start-up

    html = render_to_string(
        "ledger/reports/report_pdf.html",
        {
            "table": table,
            "company": company,
            "rows": [
                {"cells": _pdf_cells(table, values, depth), "kind": kind}
                for values, kind, depth in zip(table.rows, table.kinds, table.depths, strict=True)
            ],
            "landscape": len(table.header) - table.text_columns > 2,
            "generated_at": timezone.now(),
        },
    )
    return weasyprint.HTML(string=html).write_pdf()


def _pdf_cells(table: Table, values: list, depth: int) -> list[dict]:
    return [
        {"value": value, "amount": i >= table.text_columns, "indent": depth if i == table.text_columns - 1 else 0}
        for i, value in enumerate(values)
    ]


# --- the general ledger, streamed ----------------------------------------------------------------------


def general_ledger_header() -> list[str]:
    return [
        _("Account"),
        _("Account name"),
        _("Date"),
        _("Entry"),
        _("Party"),
        _("Description"),
        _("Reference"),
        _("Debit"),
        _("Credit"),
        _("Balance"),
    ]


def _ledger_values(line: LedgerLine) -> list:
    return [
        line.account_code,
        line.account_name,
        line.date,
        line.entry_number,
        line.party,
        line.description,
        line.reference,
        line.debit,
        line.credit,
        line.balance,
    ]


def general_ledger_csv(lines: Iterable[LedgerLine], *, flush_every: int = 500) -> Iterator[bytes]:
    """The ledger's CSV a piece at a time: bytes are handed on every `flush_every` lines, so
    a StreamingHttpResponse sends them while the next lines are read."""
    buffer = io.BytesIO()
    writer = CSVWriter(buffer, general_ledger_header())
    for count, line in enumerate(lines, start=1):
        writer.writerow(_ledger_values(line))
        if count % flush_every == 0 and buffer.tell():
            yield _drain(buffer)
    writer.close()
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def general_ledger_xlsx(lines: Iterable[LedgerLine], stream) -> int:
    """Write the ledger to `stream` as XLSX in openpyxl's write-only mode (rows go to a
    temporary file as they come, not into memory), a new sheet every XLSX_SHEET_ROWS lines.
    Returns the number of lines written."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    header = general_ledger_header()
    sheet = None
    count = 0
    for count, line in enumerate(lines, start=1):  # noqa: B007 - the count is returned
        if (count - 1) % XLSX_SHEET_ROWS == 0:
            sheet = workbook.create_sheet(title=f"{_('General ledger')[:24]} {(count - 1) // XLSX_SHEET_ROWS + 1}")
            for letter, width in zip("ABCDEFGHIJ", (10, 30, 11, 18, 28, 36, 16, 14, 14, 16), strict=True):
                sheet.column_dimensions[letter].width = width
            sheet.append([_xlsx_cell(sheet, h, bold=True) for h in header])
        values = _ledger_values(line)
        sheet.append(
            [_xlsx_cell(sheet, v, amount=i >= 7) if i >= 7 or isinstance(v, str) else v for i, v in enumerate(values)]
        )
    if sheet is None:
        sheet = workbook.create_sheet(title=_("General ledger")[:31])
        sheet.append([_xlsx_cell(sheet, h, bold=True) for h in header])
    workbook.save(stream)
    return count
