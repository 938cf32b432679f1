"""Bank statement import: CAMT.053, OFX and CSV files (hand-written samples, Spanish and Brazilian
flavours) read into exact statement lines, and bad files refused with the line named."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from retaguarda.collections import statements
from retaguarda.collections.statements import (
    CAMT053,
    CSV,
    OFX,
    CsvOptions,
    Statement,
    StatementLine,
    camt053_parse,
    csv_parse,
    normalise_iban,
    ofx_parse,
    statement_format,
    statement_parse,
)
from retaguarda.common.errors import ValidationFailed

D = Decimal
SAMPLES = Path(__file__).parent / "samples"
OUR_ES_IBAN = "ES4921000418440201234567"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as refused:
        call(*args, **kwargs)
    assert refused.value.fields == {"file": [refused.value.message]}
    return refused.value.message


def line(booking, amount, reference, bank_reference, *, value=None, currency="EUR", name="", account=""):
    return StatementLine(
        booking_date=booking,
        value_date=value,
        amount=D(amount),
        currency=currency,
        counterparty_name=name,
        counterparty_account=account,
        reference=reference,
        bank_reference=bank_reference,
    )


# --- CAMT.053 --------------------------------------------------------------------------------


def test_camt053_spanish_statement():
    statement = statement_parse(sample("camt053_es_v02.xml"), filename="extracto.xml")
    assert statement == Statement(
        account_iban=OUR_ES_IBAN,
        currency="EUR",
        statement_id="STM-2026-03-05-001",
        opening_balance=D("10000.00"),
        closing_balance=D("12459.50"),
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 5),
        lines=(
            line(
                date(2026, 3, 2),
                "1210.00",
                "PAGO FRA F2026-000123 E2E-GARCIA-0001",
                "2026030200001",
                value=date(2026, 3, 2),
                name="DISTRIBUCIONES GARCIA SL",
                account="ES6000750001830209876543",
            ),
            # A debit: money out, to the creditor.
            line(
                date(2026, 3, 3),
                "-250.50",
                "Factura proveedor 7788",
                "2026030300004",
                value=date(2026, 3, 3),
                name="SUMINISTROS LOPEZ SA",
                account="ES2320851234040201234567",
            ),
            # One entry of 1,500.00 with two transactions: one line each.
            line(
                date(2026, 3, 4),
                "1000.00",
                "F2026-000124",
                "2026030400007/1",
                value=date(2026, 3, 5),
                name="Ana Martínez Ruiz",
                account="ES2301825322230209876543",
            ),
            line(
                date(2026, 3, 4),
                "500.00",
                "F2026 000125",
                "2026030400007/2",
                value=date(2026, 3, 5),
                name="Hostal Brisa SL",
            ),
            # The pending entry of 99.99 is not on the account yet: not read.
        ),
        source_format=CAMT053,
    )
    assert sum(entry.amount for entry in statement.lines) == statement.closing_balance - statement.opening_balance
    assert statement.lines[0].raw == {
        "format": "camt.053",
        "entry": "1",
        "bank_transaction_code": "PMNT/RCDT/ESCT",
        "end_to_end_id": "E2E-GARCIA-0001",
    }
    assert statement.lines[3].raw["transaction"] == "2"


def test_camt053_version_08_with_prefixed_namespace_and_brazilian_account():
    statement = camt053_parse(sample("camt053_br_v08.xml"))
    assert (statement.account_iban, statement.currency, statement.statement_id) == (
        "BR2400000000000010012345678C1",
        "BRL",
        "BR-EXTRATO-20260331",
    )
    # PRCD stands in for the opening balance; DBIT makes it negative.
    assert (statement.opening_balance, statement.closing_balance) == (D("-100.00"), D("160.85"))
    assert (statement.date_from, statement.date_to) == (date(2026, 3, 31), date(2026, 3, 31))
    first, second = statement.lines
    assert first == line(
        date(2026, 3, 31),
        "350.75",
        "PIX RTG2026NF000457 E00000000202603311015ABCDEF12345",
        "PIX-E0000000020260331101500ABCDEF1",
        value=date(2026, 3, 31),
        currency="BRL",
        name="Padaria Pão Quente Ltda",
    )
    # No details and no bank reference: the entry's text, and a stable hash as reference.
    assert (second.amount, second.reference, second.value_date) == (D("-89.90"), "DEBITO AUTOMATICO ENERGIA SUL", None)
    assert re.fullmatch(r"camt:[0-9a-f]{24}", second.bank_reference)
    assert camt053_parse(sample("camt053_br_v08.xml")).lines[1].bank_reference == second.bank_reference


def camt(entries: str, *, statements_count: int = 1) -> bytes:
    stmt = f"""<Stmt><Id>S1</Id><Acct><Id><IBAN>{OUR_ES_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>{entries}</Stmt>"""
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        f"<BkToCstmrStmt>{stmt * statements_count}</BkToCstmrStmt></Document>"
    ).encode()


def entry(
    amount='<Amt Ccy="EUR">10.00</Amt>', indicator="CRDT", booking="<BookgDt><Dt>2026-03-02</Dt></BookgDt>", details=""
):
    return f"<Ntry>{amount}<CdtDbtInd>{indicator}</CdtDbtInd>{booking}{details}</Ntry>"


def test_camt053_minimal_entry_reads():
    [only] = camt053_parse(camt(entry())).lines
    assert (only.amount, only.booking_date, only.currency) == (D("10.00"), date(2026, 3, 2), "EUR")


def test_camt053_entries_without_bank_reference_are_named_by_their_content():
    # The same entries in another statement (another Id, other neighbours) keep their
    # references; two identical entries are told apart.
    first = camt053_parse(camt(entry() + entry() + entry(amount='<Amt Ccy="EUR">11.00</Amt>'))).lines
    other = camt053_parse(camt(entry(amount='<Amt Ccy="EUR">11.00</Amt>')).replace(b"S1", b"S2")).lines
    references = [item.bank_reference for item in first]
    assert references[1] == references[0] + "#2"
    assert len(set(references)) == 3
    assert other[0].bank_reference == references[2]


@pytest.mark.parametrize(
    "entries, message",
    [
        (entry(amount=""), "Entry 1: the amount is missing, negative or has more than two decimal places."),
        (
            entry(amount='<Amt Ccy="EUR">-5.00</Amt>'),
            "Entry 1: the amount is missing, negative or has more than two decimal places.",
        ),
        (
            entry(amount='<Amt Ccy="EUR">10.005</Amt>'),
            "Entry 1: the amount is missing, negative or has more than two decimal places.",
        ),
        (
            entry(amount='<Amt Ccy="EUR">1,50</Amt>'),
            "Entry 1: the amount is missing, negative or has more than two decimal places.",
        ),
        (entry() + entry(indicator="CREDIT"), "Entry 2: the credit/debit indicator must be CRDT or DBIT."),
        (entry(booking=""), "Entry 1: the booking date is missing."),
        (entry(booking="<BookgDt><Dt>2026-02-30</Dt></BookgDt>"), "Entry 1: a date is not valid."),
        (
            entry(
                details="<NtryDtls><TxDtls><Amt Ccy='EUR'>4.00</Amt></TxDtls>"
                "<TxDtls><Amt Ccy='EUR'>5.00</Amt></TxDtls></NtryDtls>"
            ),
            "Entry 1: the amounts of its transactions do not add up to the entry amount.",
        ),
        (
            entry(details="<NtryDtls><TxDtls><Amt Ccy='EUR'>4.00</Amt></TxDtls><TxDtls></TxDtls></NtryDtls>"),
            "Entry 1: transaction 2 has no valid amount.",
        ),
    ],
)
def test_camt053_bad_entries_are_refused_by_number(entries, message):
    assert refusal(camt053_parse, camt(entries)) == message


def test_camt053_transactions_with_their_own_signs():
    details = (
        "<NtryDtls><TxDtls><Amt Ccy='EUR'>12.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>"
        "<TxDtls><Amt Ccy='EUR'>2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<RltdPties><Cdtr><Pty><Nm>Banco</Nm></Pty></Cdtr></RltdPties></TxDtls></NtryDtls>"
    )
    first, second = camt053_parse(camt(entry(details=details))).lines
    assert (first.amount, second.amount, second.counterparty_name) == (D("12.00"), D("-2.00"), "Banco")


def test_camt053_malformed_files_are_refused():
    assert refusal(camt053_parse, sample("camt053_truncated.xml")) == "The XML file is not well-formed near line 9."
    assert (
        refusal(camt053_parse, b"<?xml version='1.0'?><Invoice/>") == "This XML file is not a CAMT.053 bank statement."
    )
    assert refusal(camt053_parse, camt(entry(), statements_count=2)) == (
        "The CAMT.053 file holds 2 statements; import one statement per file."
    )
    assert refusal(camt053_parse, b"<Document><BkToCstmrStmt/></Document>") == (
        "The CAMT.053 file holds no statement (Stmt)."
    )


def test_camt053_entity_declarations_are_refused_before_parsing():
    message = "XML files with a document type declaration (DOCTYPE) are refused."
    assert refusal(statement_parse, sample("camt053_doctype.xml")) == message
    external = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>'
    assert refusal(camt053_parse, external) == message


# --- OFX -------------------------------------------------------------------------------------


def test_ofx_sgml_brazilian_statement_without_closing_tags():
    statement = statement_parse(sample("ofx_br_sgml.ofx"))
    assert statement == Statement(
        account_iban="",
        currency="BRL",
        statement_id="OFX-12345-6-20260301-20260305",
        opening_balance=None,
        closing_balance=D("2345.10"),
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 5),
        lines=(
            line(
                date(2026, 3, 2),
                "1500.00",
                "NF 000457",
                "20260302001",
                currency="BRL",
                name="PIX RECEBIDO JOÃO DA SILVA",
            ),
            # A decimal comma, and Windows-1252 accents.
            line(
                date(2026, 3, 3),
                "-45.90",
                "Tarifa pacote serviços",
                "20260303001",
                currency="BRL",
                name="TARIFA BANCÁRIA",
            ),
            # Its </STMTTRN> is missing: the next transaction still starts a new one.
            line(date(2026, 3, 5), "-120.00", "", "20260305001", currency="BRL", name="BOLETO ENERGIA"),
            # The bank repeated the FITID: the repeat is told apart, the same way every time.
            line(
                date(2026, 3, 5),
                "300.00",
                "Mercado Azul Ltda & Cia",
                "20260305001#2",
                value=date(2026, 3, 6),
                currency="BRL",
                name="TED RECEBIDA",
            ),
        ),
        account_number="0341/0001/12345-6",
        source_format=OFX,
    )
    assert statement.lines[2].raw == {"format": "ofx", "transaction": "3", "type": "DEBIT", "check_number": "000881"}


def test_ofx_xml_spanish_statement():
    statement = ofx_parse(sample("ofx_es_v2.ofx"))
    assert (statement.account_iban, statement.account_number, statement.currency) == (OUR_ES_IBAN, "", "EUR")
    assert (statement.closing_balance, statement.date_from, statement.date_to) == (
        D("5185.44"),
        date(2026, 3, 1),
        date(2026, 3, 9),
    )
    assert statement.lines == (
        line(
            date(2026, 3, 6),
            "2420.00",
            "Facturas F2026-000130 y F2026-000131",
            "ES-20260306-0001",
            name="GARCIA & HIJOS SL",
        ),
        line(
            date(2026, 3, 7),
            "-1234.56",
            "",
            "ES-20260307-0001",
            name="SUMINISTROS LOPEZ SA",
            account="ES2320851234040201234567",
        ),
    )
    assert statement.lines[0].raw["user_date"] == "20260305"


OFX_HEAD = "OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS>"
OFX_TAIL = "</STMTTRNRS></BANKMSGSRSV1></OFX>"


def ofx(transactions: str, *, statements_count: int = 1) -> bytes:
    account = "<BANKACCTFROM><ACCTID>55</BANKACCTFROM>"
    stmt = f"<STMTRS><CURDEF>EUR{account}<BANKTRANLIST>{transactions}</BANKTRANLIST></STMTRS>"
    return (OFX_HEAD + stmt * statements_count + OFX_TAIL).encode()


def test_ofx_transaction_without_fitid_gets_a_stable_reference():
    data = ofx("<STMTTRN><DTPOSTED>20260302<TRNAMT>-3.10<NAME>CAFE</STMTTRN>")
    [only] = ofx_parse(data).lines
    assert (only.amount, only.counterparty_name) == (D("-3.10"), "CAFE")
    assert re.fullmatch(r"ofx:[0-9a-f]{24}", only.bank_reference)
    assert ofx_parse(data).lines[0].bank_reference == only.bank_reference


@pytest.mark.parametrize(
    "data, message",
    [
        (sample("ofx_bad_amount.ofx"), "Transaction 2: the amount (TRNAMT) is missing or not a valid number."),
        (ofx("<STMTTRN><TRNAMT>1.00<FITID>X</STMTTRN>"), "Transaction 1: the posting date (DTPOSTED) is missing."),
        (ofx("<STMTTRN><DTPOSTED>20261301<TRNAMT>1.00</STMTTRN>"), "Transaction 1: a date is not valid."),
        (
            ofx("<STMTTRN><DTPOSTED>20260301<TRNAMT>1.001</STMTTRN>"),
            "Transaction 1: the amount (TRNAMT) is missing or not a valid number.",
        ),
        (ofx("", statements_count=2), "The OFX file holds 2 statements; import one statement per file."),
        ((OFX_HEAD + OFX_TAIL).encode(), "The OFX file holds no bank statement (STMTRS)."),
        (b"OFXHEADER:100\nDATA:OFXSGML\n\nnothing here", "This is not an OFX file: the <OFX> element is missing."),
    ],
)
def test_ofx_bad_files_are_refused(data, message):
    assert refusal(ofx_parse, data) == message


# --- CSV -------------------------------------------------------------------------------------


def test_csv_spanish_with_semicolons_decimal_comma_and_a_preamble():
    statement = statement_parse(sample("csv_es_semicolon.csv"), csv_options=CsvOptions(currency="EUR"))
    assert (statement.account_iban, statement.currency, statement.source_format) == (OUR_ES_IBAN, "EUR", CSV)
    assert (statement.date_from, statement.date_to, statement.opening_balance, statement.closing_balance) == (
        date(2026, 3, 5),
        date(2026, 3, 10),
        None,
        None,
    )
    assert [(entry.booking_date, entry.value_date, entry.amount, entry.reference) for entry in statement.lines] == [
        (
            date(2026, 3, 10),
            date(2026, 3, 10),
            D("1210.00"),
            "TRANSFERENCIA DE DISTRIBUCIONES GARCIA SL, CONCEPTO FRA F2026-000123",
        ),
        (date(2026, 3, 9), date(2026, 3, 9), D("-1234.56"), "RECIBO SUMINISTROS LOPEZ SA"),
        (date(2026, 3, 8), date(2026, 3, 8), D("-12.00"), "COMISION MANTENIMIENTO; MARZO"),
        (date(2026, 3, 5), date(2026, 3, 6), D("500.00"), "TRANSFERENCIA DE HOSTAL BRISA SL"),
        # The "Saldo final" trailer has no date: not a movement.
    ]
    assert {entry.currency for entry in statement.lines} == {"EUR"}
    assert statement.lines[1].raw == {
        "format": "csv",
        "line": "7",
        "Fecha": "09/03/2026",
        "Fecha valor": "09/03/2026",
        "Concepto": "RECIBO SUMINISTROS LOPEZ SA",
        "Importe": "-1.234,56",
        "Saldo": "12.459,50",
    }


def test_csv_brazilian_windows_1252_with_balance_rows_and_repeated_movements():
    statement = csv_parse(sample("csv_br_semicolon.csv"))
    assert statement.currency == "BRL"  # from the "Valor (R$)" header
    assert [(entry.booking_date, entry.amount, entry.reference) for entry in statement.lines] == [
        # SALDO ANTERIOR has no amount: not a movement. The "Documento" column adds to the text.
        (date(2026, 3, 2), D("350.75"), "PIX RECEBIDO PADARIA PAO QUENTE LTDA RTG2026NF000457"),
        (date(2026, 3, 3), D("-1234.56"), "PAGTO BOLETO ENERGIA SUL 000881"),
        (date(2026, 3, 4), D("10000.00"), "TED RECEBIDA MERCADO AZUL"),
        (date(2026, 3, 4), D("-45.90"), "TARIFA PACOTE SERVIÇOS"),
        (date(2026, 3, 4), D("-45.90"), "TARIFA PACOTE SERVIÇOS"),
    ]
    references = [entry.bank_reference for entry in statement.lines]
    assert len(set(references)) == 5 and all(re.fullmatch(r"csv:[0-9a-f]{24}", ref) for ref in references)
    # Importing the file again gives the same references, so nothing is imported twice.
    assert [entry.bank_reference for entry in csv_parse(sample("csv_br_semicolon.csv")).lines] == references


def test_csv_english_with_commas_quotes_and_thousands():
    statement = statement_parse(sample("csv_en_comma.csv"), filename="export.csv")
    assert statement.currency == "EUR"
    assert statement.lines == (
        line(date(2026, 3, 2), "1234.56", "Payment from Northwind Traders Ltd, invoice F2026-000140", "TX-0001"),
        line(date(2026, 3, 3), "-4.50", "Card fee", "TX-0002"),
        line(date(2026, 3, 4), "-1234.56", 'Refund to customer "Contoso"', "TX-0003"),
    )


def test_csv_split_debit_and_credit_columns():
    data = "Fecha;Concepto;Cargo;Abono;Divisa\n01/03/2026;Recibo;1.000,00;;EUR\n02/03/2026;Cobro;;2.500,10;EUR\n"
    statement = csv_parse(data.encode())
    assert [(entry.amount, entry.currency) for entry in statement.lines] == [
        (D("-1000.00"), "EUR"),
        (D("2500.10"), "EUR"),
    ]
    assert statement.currency == "EUR"


def test_csv_explicit_columns_and_formats():
    data = b"Dia|Texto|Monto|Quien|Cuenta\n03/31/2026|Pago|1,234.5|Hostal Brisa|ES60 0075 0001 8302 0987 6543\n"
    options = CsvOptions(
        delimiter="|",
        decimal=".",
        date_format="%m/%d/%Y",
        columns={
            "booking_date": "Dia",
            "amount": "Monto",
            "reference": "Texto",
            "counterparty_name": "Quien",
            "counterparty_account": "Cuenta",
        },
        currency="eur",
        account_iban="es49 2100 0418 4402 0123 4567",
    )
    statement = csv_parse(data, options)
    assert statement.account_iban == OUR_ES_IBAN
    [only] = statement.lines
    assert (only.booking_date, only.amount, only.currency, only.counterparty_name, only.counterparty_account) == (
        date(2026, 3, 31),
        D("1234.50"),
        "EUR",
        "Hostal Brisa",
        "ES6000750001830209876543",
    )


@pytest.mark.parametrize(
    "written, decimal, amount",
    [
        ("1.234,56", "", "1234.56"),
        ("-1,234.56", "", "-1234.56"),
        ("1234,5", "", "1234.50"),
        ("(12,00)", "", "-12.00"),
        ("12,00-", "", "-12.00"),
        ("1 234 567,89", "", "1234567.89"),
        ("R$ 10,00", "", "10.00"),
        ("1.234,56 D", "", "-1234.56"),
        ("350,75 C", "", "350.75"),
        ("−7,10", "", "-7.10"),
        ("1.234", ",", "1234.00"),
    ],
)
def test_csv_amounts_as_banks_write_them(written, decimal, amount):
    data = f'Fecha;Importe\n02/03/2026;"{written}"\n'.encode()
    [only] = csv_parse(data, CsvOptions(decimal=decimal)).lines
    assert only.amount == D(amount)


@pytest.mark.parametrize("written", ["1.23.4", "12,3,4", "1.2345,00", "abc", "1,005", "--5", "1,2,"])
def test_csv_bad_amounts_name_the_line_and_column(written):
    data = f"Fecha;Importe\n02/03/2026;1,00\n03/03/2026;{written}\n".encode()
    message = refusal(csv_parse, data)
    assert message == f"Line 3, column “Importe”: “{written}” is not an amount with at most two decimals."


def test_csv_bad_sample_files_are_refused():
    assert refusal(statement_parse, sample("csv_bad_amount.csv")) == (
        "Line 3, column “Importe”: “-12,3,4” is not an amount with at most two decimals."
    )
    assert refusal(statement_parse, sample("csv_bad_date.csv")) == (
        "Line 3, column “Fecha”: “31/02/2026” is not a date in the form dd/mm/yyyy."
    )


def test_csv_saved_as_utf16_by_a_spreadsheet():
    data = "Data\tHistórico\tValor (R$)\n05/03/2026\tPIX RECEBIDO JOÃO\t1.500,00\n".encode("utf-16")
    statement = csv_parse(data)
    assert statement.currency == "BRL"
    assert [(entry.amount, entry.reference) for entry in statement.lines] == [(D("1500.00"), "PIX RECEBIDO JOÃO")]


def test_csv_declared_encoding_that_does_not_fit_is_refused():
    assert refusal(csv_parse, "Fecha;Importe\n".encode("utf-16"), CsvOptions(encoding="ascii")) == (
        "The file cannot be read as ascii."
    )


def test_camt053_after_a_byte_order_mark_and_blank_lines():
    assert len(camt053_parse(b"\xef\xbb\xbf\n\n" + camt(entry())).lines) == 1


def test_csv_iso_dates_are_detected():
    data = b"Date;Amount\n2026-03-02;1,00\n2026-03-31;2,00\n"
    assert [entry.booking_date for entry in csv_parse(data).lines] == [date(2026, 3, 2), date(2026, 3, 31)]


def test_csv_files_without_a_recognisable_header_are_refused():
    assert refusal(csv_parse, b"a;b;c\n1;2;3\n") == (
        "No header row with a date and an amount column was found in the first 20 lines."
    )
    assert refusal(
        csv_parse, b"Fecha;Concepto\n01/03/2026;x\n", CsvOptions(columns={"booking_date": "Fecha", "amount": "Euros"})
    ) == ("No header row with the columns “Fecha”, “Euros” was found in the first 20 lines.")
    assert (
        refusal(csv_parse, b"Fecha;Importe\n", CsvOptions(columns={"saldo": "Saldo"})) == "Unknown CSV fields: saldo."
    )
    assert refusal(csv_parse, b"Fecha;Importe\n", CsvOptions(decimal="-")) == (
        "The decimal separator must be a comma or a point."
    )


def test_csv_with_only_a_header_is_an_empty_statement():
    statement = csv_parse(b"Fecha;Concepto;Importe\n")
    assert (statement.lines, statement.date_from, statement.date_to) == ((), None, None)


# --- detection and limits --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("camt053_es_v02.xml", CAMT053),
        ("camt053_br_v08.xml", CAMT053),
        ("ofx_br_sgml.ofx", OFX),
        ("ofx_es_v2.ofx", OFX),
        ("csv_es_semicolon.csv", CSV),
        ("csv_en_comma.csv", CSV),
    ],
)
def test_format_is_detected_from_the_content(name, kind):
    assert statement_format(sample(name), "download.bin") == kind
    assert statement_parse(sample(name), csv_options=CsvOptions(currency="EUR")).source_format == kind


def test_format_falls_back_to_the_extension():
    assert statement_format(b"garbage", "statement.OFX") == OFX
    assert statement_format(b"garbage", "statement.xml") == CAMT053
    assert statement_format(b"garbage", "statement.txt") == CSV


def test_empty_and_oversized_files_are_refused(monkeypatch):
    assert refusal(statement_parse, b"") == "The file is empty."
    assert refusal(statement_parse, b" \n ") == "The file is empty."
    monkeypatch.setattr(statements, "MAX_FILE_BYTES", 1024 * 1024)
    assert refusal(statement_parse, b"x" * (1024 * 1024 + 1)) == "The file is larger than 1 MB."


def test_normalise_iban_keeps_valid_ibans_only():
    assert normalise_iban("es49 2100 0418 4402 0123 4567") == OUR_ES_IBAN
    assert normalise_iban("ES4921000418440201234568") == ""
    assert normalise_iban("12345-6") == ""
