"""Spreadsheets in and out: CSV and XLSX read as header-mapped rows, parsed by column specs with
per-row error reports, and written as streams. No models here; importers build on this.

Row numbers are the ones a person sees in a spreadsheet: the header is row 1, the first data
row is row 2, and blank rows still count.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .errors import DomainError

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)

CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# A CSV cell starting with one of these is run as a formula by spreadsheet programs; the
# writer prefixes an apostrophe and the reader takes it off again, so values round-trip.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"

_XLSX_MAGIC = b"PK\x03\x04"
_XLSX_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"')


class CellError(Exception):
    """A parser's refusal of one cell; `message` is already in the user's language."""

    def __init__(self, message: str):
        super().__init__(str(message))
        self.message = str(message)


class FileUnreadable(DomainError):
    """The file as a whole cannot be read (not CSV/XLSX, not UTF-8, no header)."""

    code = "file_unreadable"
    status = 422

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.row = row


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RowError:
    row: int  # 0 when the error concerns the whole file
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ErrorReport:
    """Errors of one import, per row and column. Keeps the first `limit`, counts them all."""

    limit: int = 1000
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    rows_with_errors: set[int] = field(default_factory=set)

    def add(self, row: int | None, column: str, message) -> None:
        row = row or 0
        self.total += 1
        self.rows_with_errors.add(row)
        if len(self.errors) < self.limit:
            self.errors.append(RowError(row, column or "", str(message)))

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def sorted(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.row, e.column))

    @property
    def truncated(self) -> bool:
        return self.total > len(self.errors)

    def as_list(self) -> list[dict]:
        return [e.as_dict() for e in self.sorted()]

    def as_text(self) -> str:
        """One line per error, for the command line."""
        lines = []
        for e in self.sorted():
            where = _("Row %(row)s") % {"row": e.row} if e.row else _("File")
            if e.column:
                where = f"{where}, {e.column}"
            lines.append(f"{where}: {e.message}")
        if self.truncated:
            lines.append(
                _("… and %(count)s more errors.") % {"count": self.total - len(self.errors)},
            )
        return "\n".join(lines)


@dataclass
class ImportResult:
    """The outcome of an import: nothing was written unless `ok`."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: ErrorReport = field(default_factory=ErrorReport)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- column specs and parsers ----------------------------------------------------------------


def normalize_header(name) -> str:
    return " ".join(str(name or "").replace("\ufeff", "").split()).casefold().replace(" ", "_")


@dataclass(frozen=True)
class Column:
    """One column an importer reads: its header name, whether a value is required, and a parser
    from the cell's stripped text to a value (raising CellError with a translated message)."""

    name: str
    required: bool = False
    parse: Callable[[str], Any] | None = None
    default: Any = None
    aliases: tuple[str, ...] = ()
    # The header must be present even when values may be empty.
    header_required: bool | None = None

    @property
    def must_be_in_header(self) -> bool:
        return self.required if self.header_required is None else self.header_required

    def convert(self, raw: str):
        """The parsed value of a cell; raises CellError."""
        if raw == "":
            if self.required:
                raise CellError(_("This value is required."))
            return self.default
        if self.parse is None:
            return raw
        try:
            return self.parse(raw)
        except CellError:
            raise
        except ValidationError as exc:
            raise CellError(" ".join(str(m) for m in exc.messages))
        except DomainError as exc:
            raise CellError(exc.message)


def text(max_length: int | None = None) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if max_length is not None and len(raw) > max_length:
            raise CellError(
                _("Use at most %(max)s characters (this has %(length)s).") % {"max": max_length, "length": len(raw)}
            )
        return raw

    return parse


def parse_decimal_text(raw: str) -> Decimal:
    """A decimal written with "." or "," as the decimal separator, and optional thousands
    separators when both appear (1,234.50 or 1.234,50). Raises CellError."""
    value = raw.replace(" ", "").replace("\u00a0", "")
    if "," in value and "." in value:
        decimal_sep = "," if value.rfind(",") > value.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        integer, _sep, fraction = value.rpartition(decimal_sep)
        value = integer.replace(thousands, "") + "." + fraction
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise CellError(_("Enter a number."))
    if not result.is_finite():
        raise CellError(_("Enter a number."))
    return result


def decimal(
    places: int | None = None, *, min_value: Decimal | int | None = None, max_value: Decimal | int | None = None
) -> Callable[[str], Decimal]:
    """A Decimal with at most `places` decimal places (never rounded), within the bounds."""

    def parse(raw: str) -> Decimal:
        result = parse_decimal_text(raw)
        if places is not None:
            quantum = Decimal(1).scaleb(-places)
            if result.quantize(quantum) != result:
                raise CellError(_("Use at most %(places)s decimal places.") % {"places": places})
            result = result.quantize(quantum)
        if min_value is not None and result < min_value:
            raise CellError(_("Enter a value of at least %(min)s.") % {"min": min_value})
        if max_value is not None and result > max_value:
            raise CellError(_("Enter a value of at most %(max)s.") % {"max": max_value})
        return result

    return parse


def integer(*, min_value: int | None = None, max_value: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            result = int(raw)
        except ValueError:
            raise CellError(_("Enter a whole number."))
        if min_value is not None and result < min_value:
            raise CellError(_("Enter a value of at least %(min)s.") % {"min": min_value})
        if max_value is not None and result > max_value:
            raise CellError(_("Enter a value of at most %(max)s.") % {"max": max_value})
        return result

    return parse


_TRUE = {"1", "true", "yes", "y", "x", "sim", "s", "sí", "si", "verdadero", "verdadeiro"}
_FALSE = {"0", "false", "no", "n", "não", "nao", "falso"}


def boolean(raw: str) -> bool:
    value = raw.casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_("Enter yes or no (true or false, 1 or 0)."))


def choice(values: Iterable[str], *, case_sensitive: bool = False) -> Callable[[str], str]:
    """One of `values`; matched case-insensitively unless asked, returning the canonical form."""
    canonical = {(v if case_sensitive else v.casefold()): v for v in values}

    def parse(raw: str) -> str:
        key = raw if case_sensitive else raw.casefold()
        if key not in canonical:
            raise CellError(
                _("Unknown value “%(value)s”; use one of: %(choices)s.")
                % {"value": raw, "choices": ", ".join(canonical.values())}
            )
        return canonical[key]

    return parse


def date(raw: str) -> dt.date:
    """ISO dates (2025-03-31), also with a time part as spreadsheets write them."""
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise CellError(_("Enter a date as YYYY-MM-DD."))


# --- reading ---------------------------------------------------------------------------------


def detect_format(name: str | None = None, head: bytes = b"") -> str | None:
    """csv or xlsx from a file name's extension, else from the first bytes; None if unknown."""
    ext = os.path.splitext(name or "")[1].lower().lstrip(".")
    if ext in FORMATS:
        return ext
    if ext == "xlsm":
        return XLSX
    if head.startswith(_XLSX_MAGIC):
        return XLSX
    if head:
        return CSV
    return None


def _binary_stream(source):
    """A binary file object for a path, bytes, Django File or file object, and whether we opened it."""
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source), True
    if hasattr(source, "open") and getattr(source, "closed", False):
        source.open("rb")
    if hasattr(source, "seek"):
        try:
            source.seek(0)
        except (OSError, ValueError):
            pass
    return source, False


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Spreadsheet numbers are doubles: 12.5 -> "12.5", 7891234567895.0 -> "7891234567895".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _csv_unescape(value: str) -> str:
    value = value.strip()
    if len(value) > 1 and value[0] == _ESCAPE and value[1] in (*_FORMULA_TRIGGERS, _ESCAPE):
        return value[1:]
    return value


class TableReader:
    """The header and rows of a CSV or XLSX file, streamed as (row_number, cells).

    CSV: UTF-8 with or without byte-order mark, the delimiter (`,` or `;`) taken from the
    header line. XLSX: the first worksheet, read in openpyxl's read-only mode.
    """

    def __init__(self, source, format: str | None = None, *, name: str | None = None):
        self._stream, self._owns_stream = _binary_stream(source)
        self._archive = self._sheet_source = None
        self.total: int | None = None
        name = name or getattr(source, "name", None) or (source if isinstance(source, str) else None)
        self.format = (format or "").lower() or None
        if self.format is None:
            self.format = detect_format(str(name) if name else None, self._peek(4))
        if self.format not in FORMATS:
            self.close()
            raise FileUnreadable(_("Unknown file type: upload a CSV or XLSX file."))
        try:
            if self.format == CSV:
                self._open_csv()
            else:
                self._open_xlsx()
        except FileUnreadable:
            self.close()
            raise

    # -- opening

    def _peek(self, size: int) -> bytes:
        try:
            position = self._stream.tell()
            head = self._stream.read(size)
            self._stream.seek(position)
        except (AttributeError, OSError, ValueError):
            return b""
        return head if isinstance(head, bytes) else head.encode()

    def _count_lines(self) -> int | None:
        """Data rows in a CSV, estimated from line breaks (quoted line breaks overcount)."""
        try:
            position = self._stream.tell()
            count, last = 0, b"\n"
            for chunk in iter(lambda: self._stream.read(1 << 20), b""):
                count += chunk.count(b"\n")
                last = chunk[-1:]
            self._stream.seek(position)
        except (AttributeError, OSError, ValueError, TypeError):
            return None
        if last != b"\n":
            count += 1
        return max(count - 1, 0)

    def _open_csv(self) -> None:
        self.total = self._count_lines()
        if self._peek(4).startswith(_XLSX_MAGIC):
            raise FileUnreadable(_("This is an XLSX file, not a CSV file."))
        self._lines = _decoded_lines(self._stream)
        first = next(self._lines, "")
        if not first.strip():
            raise FileUnreadable(_("The file is empty: the first row must name the columns."), row=1)
        self.delimiter = self._sniff_delimiter(first)
        self._reader = csv.reader(_chain_first(first, self._lines), delimiter=self.delimiter, strict=False)
        self.header = [normalize_header(h) for h in next(self._reader)]

    @staticmethod
    def _sniff_delimiter(line: str) -> str:
        widths = {d: len(next(csv.reader([line], delimiter=d))) for d in (",", ";")}
        return ";" if widths[";"] > widths[","] else ","

    def _open_xlsx(self) -> None:
        # openpyxl's own reader pieces, as load_workbook(read_only=True) puts them together,
        # less one step: its read-only worksheet scans the whole sheet for its size when the
        # file does not state it (files written by openpyxl, ours included), doubling the time.
        import zipfile

        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet
        from openpyxl.worksheet._reader import WorkSheetParser

        try:
            reader = ExcelReader(self._stream, read_only=True, data_only=True)
            self._archive = reader.archive
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            target = next(
                (
                    rel.target
                    for _sheet, rel in reader.parser.find_sheets()
                    if "chartsheet" not in rel.Type and rel.target in reader.valid_files
                ),
                None,
            )
            if target is None:
                raise KeyError("no worksheet")
            with reader.archive.open(target) as head:
                dimension = _XLSX_DIMENSION.search(head.read(4096))
            source = reader.archive.open(target)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, TypeError, AttributeError):
            # openpyxl raises assorted errors on damaged or foreign files.
            raise FileUnreadable(_("This is not a valid XLSX file."))
        self._sheet_source = source
        if dimension:
            self.total = max(int(dimension.group(1)) - 1, 0)
        workbook = reader.wb
        parser = WorkSheetParser(
            source,
            reader.shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        self._rows = self._xlsx_rows(parser.parse())
        first = next(self._rows, None)
        if first is None or first[0] != 1 or not any(first[1]):
            raise FileUnreadable(_("The file is empty: the first row must name the columns."), row=1)
        header = [normalize_header(v) for v in first[1]]
        while header and header[-1] == "":
            header.pop()
        self.header = header

    @staticmethod
    def _xlsx_rows(parsed) -> Iterator[tuple[int, list[str]]]:
        """(row number, cell texts) of the rows the sheet has; cells it leaves out are ""."""
        for row_number, cells in parsed:
            values = [""] * (cells[-1]["column"] if cells else 0)
            for cell in cells:
                values[cell["column"] - 1] = _cell_text(cell["value"])
            yield row_number, values

    # -- rows

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        if self.format == CSV:
            # A record is one spreadsheet row even when a quoted cell spans several lines.
            row_number = 1
            try:
                for cells in self._reader:
                    row_number += 1
                    yield row_number, [_csv_unescape(c) for c in cells]
            except csv.Error as exc:
                raise FileUnreadable(_("The CSV file is malformed: %(error)s") % {"error": exc}, row=row_number + 1)
        else:
            yield from self._rows

    def close(self) -> None:
        if self._sheet_source is not None:
            self._sheet_source.close()
        if self._archive is not None:
            self._archive.close()
        if self._owns_stream:
            self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _decoded_lines(stream) -> Iterator[str]:
    """The stream's lines decoded as UTF-8 (a leading byte-order mark dropped), so a decoding
    error names its line."""
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileUnreadable(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."), row=number
            )
        yield line


def _chain_first(first: str, rest):
    yield first
    yield from rest


@dataclass
class ParsedTable:
    """What `read_records` found: the columns present and, as it goes, the row count."""

    columns: list[str] = field(default_factory=list)
    rows_read: int = 0
    total: int | None = None


def read_records(
    source,
    columns: Sequence[Column],
    report: ErrorReport,
    *,
    format: str | None = None,
    name: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    progress_every: int = 1000,
    allow_unknown_columns: bool = False,
    info: ParsedTable | None = None,
) -> Iterator[tuple[int, dict]]:
    """Yield (row_number, {column name: parsed value}) for every non-blank row whose cells all
    parse; cell errors and file errors go to `report`. Blank rows are skipped.

    A column missing from the file's header yields `column.default` for every row, unless the
    column is required, which is a file error. `progress(rows_read, total_estimate)` is called
    every `progress_every` rows and at the end.
    """
    info = info if info is not None else ParsedTable()
    try:
        reader = TableReader(source, format, name=name)
    except FileUnreadable as exc:
        report.add(exc.row, "", exc.message)
        return
    with reader:
        info.total = reader.total
        by_name = {}
        for column in columns:
            for key in (column.name, *column.aliases):
                by_name[normalize_header(key)] = column
        positions: list[tuple[int, Column]] = []
        seen: dict[str, int] = {}
        header_ok = True
        for index, header in enumerate(reader.header):
            if header == "":
                continue
            column = by_name.get(header)
            if column is None:
                if not allow_unknown_columns:
                    report.add(
                        1,
                        header,
                        _("Unknown column; the columns are: %(columns)s.")
                        % {"columns": ", ".join(c.name for c in columns)},
                    )
                    header_ok = False
                continue
            if column.name in seen:
                report.add(1, column.name, _("This column appears twice."))
                header_ok = False
                continue
            seen[column.name] = index
            positions.append((index, column))
        for column in columns:
            if column.must_be_in_header and column.name not in seen:
                report.add(1, column.name, _("Required column missing."))
                header_ok = False
        info.columns = [c.name for _i, c in positions]
        if not header_ok:
            return
        absent = [c for c in columns if c.name not in seen]
        width = len(reader.header)
        count = 0
        try:
            for row_number, cells in reader:
                if not any(cells):
                    continue
                count += 1
                if progress is not None and count % progress_every == 0:
                    progress(count, reader.total)
                record: dict = {}
                ok = True
                for index, column in positions:
                    raw = cells[index] if index < len(cells) else ""
                    try:
                        record[column.name] = column.convert(raw)
                    except CellError as exc:
                        report.add(row_number, column.name, exc.message)
                        ok = False
                if any(cells[width:]):
                    report.add(row_number, "", _("This row has more cells than the header has columns."))
                    ok = False
                for column in absent:
                    record[column.name] = column.default
                if ok:
                    yield row_number, record
        except FileUnreadable as exc:
            report.add(exc.row, "", exc.message)
        finally:
            info.rows_read = count
            if progress is not None:
                progress(count, reader.total)


# --- writing ---------------------------------------------------------------------------------


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value.startswith(_FORMULA_TRIGGERS) or (
            value.startswith(_ESCAPE) and len(value) > 1 and value[1] in (*_FORMULA_TRIGGERS, _ESCAPE)
        ):
            return _ESCAPE + value
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class CSVWriter:
    """CSV in UTF-8 with a byte-order mark (so spreadsheet programs detect the encoding)."""

    def __init__(self, stream, header: Sequence[str], *, delimiter: str = ",", bom: bool = True):
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig" if bom else "utf-8", newline="")
        self._writer = csv.writer(self._text, delimiter=delimiter, lineterminator="\r\n")
        self._writer.writerow(list(header))
        self.rows = 0

    def writerow(self, values: Iterable) -> None:
        self._writer.writerow([_csv_value(v) for v in values])
        self.rows += 1

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class XLSXWriter:
    """An XLSX workbook in openpyxl's write-only mode: rows go straight to a temporary file."""

    def __init__(self, stream, header: Sequence[str], *, sheet_title: str = "data"):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._cell = WriteOnlyCell
        self._illegal = ILLEGAL_CHARACTERS_RE
        self._stream = stream
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title=sheet_title[:31])
        self._sheet.append(list(header))
        self.rows = 0

    def _value(self, value):
        if isinstance(value, str):
            value = self._illegal.sub("", value)
            if value.startswith("="):
                # Text, never a formula.
                cell = self._cell(self._sheet, value=value)
                cell.data_type = "s"
                return cell
        # Decimals go into the file as their exact digits (openpyxl writes str(value)).
        return value

    def writerow(self, values: Iterable) -> None:
        self._sheet.append([self._value(v) for v in values])
        self.rows += 1

    def close(self) -> None:
        self._workbook.save(self._stream)


def table_writer(stream, format: str, header: Sequence[str], **options):
    """A CSV or XLSX writer over a binary stream; call `writerow(values)` then `close()`."""
    if format == CSV:
        return CSVWriter(stream, header, **options)
    if format == XLSX:
        return XLSXWriter(stream, header, **options)
    raise ValueError(f"unknown format {format!r}")


def write_table(stream, format: str, header: Sequence[str], rows: Iterable[Sequence], **options) -> int:
    """Write `header` and `rows` to a binary stream as CSV or XLSX; returns the row count."""
    writer = table_writer(stream, format, header, **options)
    for row in rows:
        writer.writerow(row)
    writer.close()
    return writer.rows


def download_response(write: Callable, format: str, filename_stem: str):
    """An HTTP attachment of a CSV or XLSX file made by `write(stream)`, spooled to a temporary
    file (in memory while small) so neither a large export nor openpyxl's zip sits in memory."""
    import tempfile

    from django.http import FileResponse

    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}")
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    write(spool)
    spool.seek(0)
    response = FileResponse(spool, as_attachment=True, filename=f"{filename_stem}.{format}")
    response["Content-Type"] = CONTENT_TYPES[format]
    return response
