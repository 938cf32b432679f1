import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from retaguarda.common import tabular
from retaguarda.common.errors import ValidationFailed
from retaguarda.common.tabular import CellError, Column, ErrorReport, RowError

COLUMNS = [
    Column("sku", required=True, parse=tabular.text(10)),
    Column("name", required=True),
    Column("price", parse=tabular.decimal(2, min_value=0), default=Decimal("0.00")),
    Column("active", parse=tabular.boolean, default=True),
]


def read(data, columns=COLUMNS, **kwargs):
    report = ErrorReport()
    if isinstance(data, str):
        data = data.encode("utf-8")
    records = list(tabular.read_records(data, columns, report, **kwargs))
    return records, report.as_list()


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV reading -------------------------------------------------------------------------------


def test_csv_comma_without_bom():
    records, errors = read("sku,name,price,active\nA-1,Café,12.50,yes\nA-2,Chá,3,0\n", format="csv")
    assert errors == []
    assert records == [
        (2, {"sku": "A-1", "name": "Café", "price": Decimal("12.50"), "active": True}),
        (3, {"sku": "A-2", "name": "Chá", "price": Decimal("3.00"), "active": False}),
    ]


def test_csv_utf8_bom_and_crlf():
    data = "\ufeffsku,name\r\nA-1,Ação\r\n".encode()
    records, errors = read(data, format="csv")
    assert errors == []
    assert records == [(2, {"sku": "A-1", "name": "Ação", "price": Decimal("0.00"), "active": True})]


def test_csv_semicolon_delimiter_and_decimal_comma():
    data = "SKU;Name;Price\nA-1;Azeite, extra virgem;1.234,56\nA-2;Pão;0,99\n"
    records, errors = read(data, format="csv")
    assert errors == []
    assert [r[1]["name"] for r in records] == ["Azeite, extra virgem", "Pão"]
    assert [r[1]["price"] for r in records] == [Decimal("1234.56"), Decimal("0.99")]


def test_csv_delimiter_sniffed_from_quoted_header():
    data = '"sku";"name"\n"A;1";"x, y"\n'
    records, errors = read(data, format="csv")
    assert errors == []
    assert records[0][1]["sku"] == "A;1"
    assert records[0][1]["name"] == "x, y"


def test_header_names_are_case_and_space_insensitive():
    columns = [Column("list_price", parse=tabular.decimal(2)), Column("sku", required=True)]
    records, errors = read(" List  Price ,SKU\n1.5,A\n", columns, format="csv")
    assert errors == []
    assert records == [(2, {"list_price": Decimal("1.50"), "sku": "A"})]


def test_column_aliases():
    columns = [Column("sku", required=True, aliases=("código",))]
    records, errors = read("Código\nA\n", columns, format="csv")
    assert errors == []
    assert records == [(2, {"sku": "A"})]


def test_blank_rows_are_skipped_but_counted_and_multiline_cells_are_one_row():
    data = 'sku,name\nA,"two\nlines"\n\n,\nB,b\n'
    records, errors = read(data, format="csv")
    assert errors == []
    assert [(n, r["sku"], r["name"]) for n, r in records] == [(2, "A", "two\nlines"), (5, "B", "b")]


def test_cell_errors_are_reported_per_row_and_column_and_rows_with_errors_are_not_yielded():
    data = "sku,name,price,active\nA,ok,1.00,yes\n,missing sku,2,no\nTOO-LONG-SKU,x,abc,maybe\nD,d,1.234,1\nE,e,-1,1\n"
    records, errors = read(data, format="csv")
    assert [n for n, _r in records] == [2]
    assert errors == [
        {"row": 3, "column": "sku", "message": "This value is required."},
        {"row": 4, "column": "active", "message": "Enter yes or no (true or false, 1 or 0)."},
        {"row": 4, "column": "price", "message": "Enter a number."},
        {"row": 4, "column": "sku", "message": "Use at most 10 characters (this has 12)."},
        {"row": 5, "column": "price", "message": "Use at most 2 decimal places."},
        {"row": 6, "column": "price", "message": "Enter a value of at least 0."},
    ]


def test_row_with_more_cells_than_header_is_an_error():
    records, errors = read("sku,name\nA,a,surplus\nB,b,\n", format="csv")
    assert [n for n, _r in records] == [3]
    assert errors == [{"row": 2, "column": "", "message": "This row has more cells than the header has columns."}]


def test_short_rows_leave_missing_cells_empty():
    records, errors = read("sku,name,price\nA,a\n", format="csv")
    assert errors == []
    assert records == [(2, {"sku": "A", "name": "a", "price": Decimal("0.00"), "active": True})]


def test_missing_required_column_unknown_and_duplicate_columns_are_header_errors():
    records, errors = read("name,colour,name\nx,red,y\n", format="csv")
    assert records == []
    assert errors == [
        {"row": 1, "column": "colour", "message": "Unknown column; the columns are: sku, name, price, active."},
        {"row": 1, "column": "name", "message": "This column appears twice."},
        {"row": 1, "column": "sku", "message": "Required column missing."},
    ]


def test_unknown_columns_can_be_allowed():
    records, errors = read("sku,name,colour\nA,a,red\n", format="csv", allow_unknown_columns=True)
    assert errors == []
    assert records == [(2, {"sku": "A", "name": "a", "price": Decimal("0.00"), "active": True})]


def test_column_with_header_required_but_value_optional():
    columns = [Column("sku", required=True), Column("barcode", header_required=True)]
    _records, errors = read("sku\nA\n", columns, format="csv")
    assert errors == [{"row": 1, "column": "barcode", "message": "Required column missing."}]
    records, errors = read("sku,barcode\nA,\n", columns, format="csv")
    assert errors == []
    assert records == [(2, {"sku": "A", "barcode": None})]


def test_csv_not_utf8_is_a_file_error():
    data = "sku,name\nA,Ação\n".encode("cp1252")
    records, errors = read(data, format="csv")
    assert records == []
    assert errors == [
        {
            "row": 2,
            "column": "",
            "message": "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.",
        }
    ]


def test_empty_file_is_a_file_error():
    for data, fmt in ((b"", "csv"), (b"\n\n", "csv"), (xlsx_bytes([]), "xlsx")):
        records, errors = read(data, format=fmt)
        assert records == []
        assert errors == [
            {"row": 1, "column": "", "message": "The file is empty: the first row must name the columns."}
        ]


def test_xlsx_uploaded_as_csv_is_refused():
    records, errors = read(xlsx_bytes([["sku"], ["A"]]), format="csv")
    assert records == []
    assert errors == [{"row": 0, "column": "", "message": "This is an XLSX file, not a CSV file."}]


def test_reads_a_path_and_a_django_upload(tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(b"sku,name\nA,a\n")
    report = ErrorReport()
    assert list(tabular.read_records(str(path), COLUMNS, report))[0][1]["sku"] == "A"
    upload = SimpleUploadedFile("products.xlsx", xlsx_bytes([["sku", "name"], ["B", "b"]]))
    assert list(tabular.read_records(upload, COLUMNS, report))[0][1]["sku"] == "B"
    assert not report


def test_progress_is_reported_with_an_estimated_total():
    data = "sku,name\n" + "".join(f"S{i},n\n" for i in range(25))
    calls = []
    report = ErrorReport()
    records = list(
        tabular.read_records(
            data.encode(), COLUMNS, report, format="csv", progress=lambda d, t: calls.append((d, t)), progress_every=10
        )
    )
    assert len(records) == 25
    assert calls == [(10, 25), (20, 25), (25, 25)]


# --- XLSX reading ------------------------------------------------------------------------------


def test_xlsx_cells_of_every_type_become_text_for_the_parsers():
    columns = [
        Column("sku", required=True),
        Column("barcode"),
        Column("price", parse=tabular.decimal(2)),
        Column("weight", parse=tabular.decimal(3)),
        Column("active", parse=tabular.boolean),
        Column("since", parse=tabular.date),
        Column("count", parse=tabular.integer(min_value=0)),
    ]
    data = xlsx_bytes(
        [
            ["SKU", "Barcode", "Price", "Weight", "Active", "Since", "Count"],
            ["A-1", 7891234567895, 19.99, 0.125, True, dt.datetime(2025, 3, 31), 7],
            [None, None, None, None, None, None, None],
            [12345, "0012345678905", 1e2, 2, False, dt.date(2024, 1, 2), 0.0],
        ]
    )
    records, errors = read(data, columns, format="xlsx")
    assert errors == []
    assert records == [
        (
            2,
            {
                "sku": "A-1",
                "barcode": "7891234567895",
                "price": Decimal("19.99"),
                "weight": Decimal("0.125"),
                "active": True,
                "since": dt.date(2025, 3, 31),
                "count": 7,
            },
        ),
        (
            4,
            {
                "sku": "12345",
                "barcode": "0012345678905",
                "price": Decimal("100.00"),
                "weight": Decimal("2.000"),
                "active": False,
                "since": dt.date(2024, 1, 2),
                "count": 0,
            },
        ),
    ]


def test_xlsx_errors_carry_spreadsheet_row_numbers():
    data = xlsx_bytes([["sku", "name", "price"], ["A", "a", 1], ["B", None, "x"], [None, None, None], ["C", "c", -2]])
    records, errors = read(data, format="xlsx")
    assert [n for n, _r in records] == [2]
    assert errors == [
        {"row": 3, "column": "name", "message": "This value is required."},
        {"row": 3, "column": "price", "message": "Enter a number."},
        {"row": 5, "column": "price", "message": "Enter a value of at least 0."},
    ]


def excel_like_xlsx(sheet_data: str, shared_strings: list[str], dimension: str = "A1:C4") -> bytes:
    """A minimal package as Excel writes it: shared strings, a stated dimension, no styles."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{pkg}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        f'<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">' + "".join(shared_strings) + "</sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><dimension ref="{dimension}"/>'
        f"<sheetData>{sheet_data}</sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_xlsx_as_excel_writes_it_shared_strings_rich_text_formulas_and_missing_rows():
    strings = [
        "<si><t>sku</t></si>",
        "<si><t>name</t></si>",
        "<si><t>price</t></si>",
        '<si><r><t>Caf</t></r><r><rPr><b/></rPr><t>é</t></r><rPh sb="0" eb="1"><t>カ</t></rPh></si>',
        '<si><t xml:space="preserve"> B-2 </t></si>',
    ]
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><f>1+1.5</f><v>2.5</v></c></row>'
        '<row r="4"><c r="A4"><v>42</v></c><c r="C4" t="str"><f>"7"</f><v>7</v></c></row>'
    )
    data = excel_like_xlsx(sheet, strings)
    columns = [Column("sku", required=True), Column("name"), Column("price", parse=tabular.decimal(2))]
    records, errors = read(data, columns, format="xlsx")
    assert errors == []
    assert records == [
        (2, {"sku": "B-2", "name": "Café", "price": Decimal("2.50")}),
        (4, {"sku": "42", "name": None, "price": Decimal("7.00")}),
    ]
    with tabular.TableReader(data, "xlsx") as reader:
        assert reader.total == 3  # from the stated dimension, header excluded


def test_xlsx_total_is_unknown_when_the_file_does_not_state_its_size():
    buffer = io.BytesIO()
    tabular.write_table(buffer, "xlsx", ["sku"], [["A"], ["B"]])
    with tabular.TableReader(buffer.getvalue(), "xlsx") as reader:
        assert reader.total is None
        assert list(reader) == [(2, ["A"]), (3, ["B"])]
    with tabular.TableReader(xlsx_bytes([["sku"], ["A"], ["B"]]), "xlsx") as reader:
        assert reader.total == 2


def test_a_zip_that_is_not_a_workbook_is_a_file_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    records, errors = read(buffer.getvalue(), format="xlsx")
    assert records == []
    assert errors == [{"row": 0, "column": "", "message": "This is not a valid XLSX file."}]


def test_garbage_with_xlsx_name_is_a_file_error():
    records, errors = read(b"PK\x03\x04 not really a zip", format="xlsx")
    assert records == []
    assert errors == [{"row": 0, "column": "", "message": "This is not a valid XLSX file."}]


def test_unknown_file_type_is_a_file_error():
    report = ErrorReport()
    assert list(tabular.read_records(io.BytesIO(b""), COLUMNS, report)) == []
    assert report.as_list() == [
        {"row": 0, "column": "", "message": "Unknown file type: upload a CSV or XLSX file."},
    ]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.csv", b"", "csv"),
        ("A.XLSX", b"", "xlsx"),
        ("a.xlsm", b"", "xlsx"),
        (None, b"PK\x03\x04", "xlsx"),
        ("upload", b"sku,name", "csv"),
        (None, b"", None),
    ],
)
def test_detect_format(name, head, expected):
    assert tabular.detect_format(name, head) == expected


# --- parsers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", Decimal("12")),
        ("12.5", Decimal("12.5")),
        ("12,5", Decimal("12.5")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("-0.01", Decimal("-0.01")),
    ],
)
def test_parse_decimal_text(raw, expected):
    assert tabular.parse_decimal_text(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "1,2,3", "1.2.3", "NaN", "Infinity", "1e", ""])
def test_parse_decimal_text_refuses(raw):
    with pytest.raises(CellError) as exc:
        tabular.parse_decimal_text(raw)
    assert exc.value.message == "Enter a number."


def test_decimal_bounds_and_places_never_round():
    parse = tabular.decimal(2, min_value=0, max_value=100)
    assert parse("1.10") == Decimal("1.10")
    assert str(parse("1.100")) == "1.10"
    with pytest.raises(CellError, match="Use at most 2 decimal places."):
        parse("1.105")
    with pytest.raises(CellError, match="Enter a value of at most 100."):
        parse("100.01")


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("Sim", True), ("sí", True), ("X", True), ("0", False)])
def test_boolean(raw, expected):
    assert tabular.boolean(raw) is expected


def test_choice_is_case_insensitive_and_returns_the_canonical_value():
    parse = tabular.choice(["goods", "service"])
    assert parse("Goods") == "goods"
    with pytest.raises(CellError) as exc:
        parse("gift")
    assert exc.value.message == "Unknown value “gift”; use one of: goods, service."


def test_integer_and_date_refusals():
    with pytest.raises(CellError, match="Enter a whole number."):
        tabular.integer()("1.5")
    with pytest.raises(CellError, match="Enter a date as YYYY-MM-DD."):
        tabular.date("31/03/2025")


def test_parsers_may_raise_django_or_domain_validation_errors():
    def django_style(raw):
        raise ValidationError(["First problem.", "Second problem."])

    def domain_style(raw):
        raise ValidationFailed("Invalid tax id.")

    with pytest.raises(CellError) as exc:
        Column("a", parse=django_style).convert("x")
    assert exc.value.message == "First problem. Second problem."
    with pytest.raises(CellError) as exc:
        Column("a", parse=domain_style).convert("x")
    assert exc.value.message == "Invalid tax id."


# --- error report ------------------------------------------------------------------------------


def test_error_report_keeps_a_limit_but_counts_everything():
    report = ErrorReport(limit=2)
    report.add(5, "b", "late")
    report.add(3, "a", "early")
    report.add(4, "c", "dropped")
    assert report.total == 3
    assert len(report) == 3
    assert report.truncated
    assert report.rows_with_errors == {3, 4, 5}
    assert report.sorted() == [RowError(3, "a", "early"), RowError(5, "b", "late")]
    assert report.as_text() == "Row 3, a: early\nRow 5, b: late\n… and 1 more errors."


def test_empty_error_report_is_falsy():
    report = ErrorReport()
    assert not report
    report.add(None, "", "whole file")
    assert report
    assert report.as_text() == "File: whole file"


# --- writing -----------------------------------------------------------------------------------

TRICKY = ["=1+1", "+55 11 9999", "-5", "@SUM(A1)", "'=x", "'abc", "''", "'", "plain", 'Ação; "quoted", x']


def test_csv_writer_round_trips_tricky_text_and_escapes_formulas():
    buffer = io.BytesIO()
    rows = [[f"S{i}", value] for i, value in enumerate(TRICKY)]
    assert tabular.write_table(buffer, "csv", ["sku", "name"], rows) == len(TRICKY)
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbfsku,name\r\nS0,'=1+1\r\n")
    records, errors = read(raw, [Column("sku"), Column("name")], format="csv")
    assert errors == []
    assert [r["name"] for _n, r in records] == TRICKY


def test_csv_writer_semicolon_and_value_types():
    buffer = io.BytesIO()
    tabular.write_table(
        buffer,
        "csv",
        ["a", "b", "c", "d", "e"],
        [[Decimal("1.50"), True, None, dt.date(2025, 1, 2), 3]],
        delimiter=";",
        bom=False,
    )
    assert buffer.getvalue() == b"a;b;c;d;e\r\n1.50;true;;2025-01-02;3\r\n"


def test_csv_writer_leaves_the_stream_open():
    buffer = io.BytesIO()
    tabular.write_table(buffer, "csv", ["a"], [["x"]])
    assert not buffer.closed


def test_xlsx_writer_round_trip_keeps_text_as_text_and_decimals_exact():
    buffer = io.BytesIO()
    rows = [[f"S{i}", value, Decimal("0.10"), Decimal("1234567.89")] for i, value in enumerate(TRICKY)]
    rows.append(["S-ctrl", "bell\x07char", None, Decimal("0")])
    tabular.write_table(buffer, "xlsx", ["sku", "name", "price", "cost"], rows)
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == "=1+1"
    buffer.seek(0)
    columns = [
        Column("sku"),
        Column("name"),
        Column("price", parse=tabular.decimal(2)),
        Column("cost", parse=tabular.decimal(2)),
    ]
    records, errors = read(buffer.getvalue(), columns, format="xlsx")
    assert errors == []
    assert [r["name"] for _n, r in records] == [*TRICKY, "bellchar"]
    assert {r["price"] for _n, r in records[:-1]} == {Decimal("0.10")}
    assert {r["cost"] for _n, r in records} == {Decimal("1234567.89"), Decimal("0.00")}


def test_table_writer_refuses_unknown_formats():
    with pytest.raises(ValueError):
        tabular.table_writer(io.BytesIO(), "ods", ["a"])
