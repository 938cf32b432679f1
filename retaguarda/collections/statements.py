"""Bank statement import: CAMT.053, OFX and CSV files read into one plain shape (a Statement of
StatementLines) that matching and the import service work on. No models here.

Amounts are exact Decimals with two places, signed from the account holder's point of view
(+ money in, − money out). A file that cannot be read raises ValidationFailed whose message names
the entry or line at fault; no parser lets a raw exception through.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree
from stdnum import iban as stdnum_iban

from retaguarda.common.errors import ValidationFailed

CAMT053 = "camt.053"
OFX = "ofx"
CSV = "csv"
FORMATS = (CAMT053, OFX, CSV)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_LINES = 100_000
CENT = Decimal("0.01")


@dataclass(frozen=True)
class StatementLine:
    booking_date: date
    value_date: date | None
    amount: Decimal  # + money in, − money out; two places
    currency: str
    counterparty_name: str
    counterparty_account: str  # a valid IBAN, compact, or ""
    reference: str  # remittance information, end-to-end id, memo
    bank_reference: str  # unique within the statement and stable across re-imports
    raw: dict = field(default_factory=dict, compare=False)  # what the file said, JSON-safe strings


@dataclass(frozen=True)
class Statement:
    account_iban: str  # compact, or "" when the file names the account otherwise
    currency: str
    statement_id: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    date_from: date | None
    date_to: date | None
    lines: tuple[StatementLine, ...]
    account_number: str = ""  # the bank's own account id when it is not an IBAN (OFX "bank/branch/account")
    source_format: str = ""  # one of FORMATS


@dataclass(frozen=True)
class CsvOptions:
    """How to read a bank's CSV export. Every blank option is detected from the file."""

    delimiter: str = ""  # ";", "," or "\t"
    decimal: str = ""  # "," or "."
    date_format: str = ""  # a strptime format, e.g. "%d/%m/%Y"
    # Field name (see CSV_FIELDS) -> header text, when the bank's headers are not recognised.
    columns: Mapping[str, str] = field(default_factory=dict)
    encoding: str = ""  # default: UTF-8, else Windows-1252
    currency: str = ""  # when the file has no currency column
    account_iban: str = ""


CSV_FIELDS = (
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "reference",
    "reference_extra",
    "bank_reference",
)


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def normalise_iban(text: str) -> str:
    """The compact IBAN if `text` is a valid one, else ""."""
    if not text:
        return ""
    compact = stdnum_iban.compact(text)
    return compact if stdnum_iban.is_valid(compact) else ""


# --- detection -------------------------------------------------------------------------------


def statement_format(data: bytes, filename: str = "") -> str:
    """CAMT053, OFX or CSV, from the first bytes of the file, then its extension."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"ofxheader") or b"<ofx>" in head or b"<?ofx" in head:
        return OFX
    if head.startswith(b"<"):
        return CAMT053
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if extension in ("ofx", "qfx"):
        return OFX
    if extension == "xml":
        return CAMT053
    return CSV


def statement_parse(data: bytes, *, filename: str = "", csv_options: CsvOptions | None = None) -> Statement:
    """Read a bank statement file of any supported format."""
    _check_size(data)
    kind = statement_format(data, filename)
    if kind == CAMT053:
        return camt053_parse(data)
    if kind == OFX:
        return ofx_parse(data)
    return csv_parse(data, csv_options)


def _check_size(data: bytes) -> None:
    if not data or not data.strip():
        raise _fail(_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise _fail(_("The file is larger than %(size)s MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)})


def _check_count(count: int) -> None:
    if count > MAX_LINES:
        raise _fail(_("The file has more than %(count)s movements; split it.") % {"count": MAX_LINES})


# --- shared helpers --------------------------------------------------------------------------


def _two_places(value: Decimal) -> Decimal:
    """The amount with two places; more significant places are refused, never rounded."""
    quantized = value.quantize(CENT)
    if quantized != value:
        raise ValueError("more than two decimal places")
    return quantized


def _stable_hash(*parts) -> str:
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _unique_references(lines: list[StatementLine]) -> tuple[StatementLine, ...]:
    """Make bank references unique within the file: some banks repeat an id (OFX FITIDs
    especially); the n-th repeat gets "#n", which stays the same when the file is imported again."""
    seen: Counter = Counter()
    result = []
    for line in lines:
        seen[line.bank_reference] += 1
        count = seen[line.bank_reference]
        result.append(line if count == 1 else replace(line, bank_reference=f"{line.bank_reference}#{count}"))
    return tuple(result)


def _date_span(lines: Iterable[StatementLine], date_from: date | None, date_to: date | None):
    dates = [line.booking_date for line in lines]
    if dates:
        date_from = date_from or min(dates)
        date_to = date_to or max(dates)
    return date_from, date_to


# --- CAMT.053 --------------------------------------------------------------------------------

_XML_DECLARATIONS = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def _xml_root(data: bytes):
    # Bank statements never need a DTD; refusing any declaration rules out entity expansion
    # and external fetches whatever the parser does. The parser is locked down as well.
    # A byte-order mark or blank lines before the XML declaration would make it invalid.
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if _XML_DECLARATIONS.search(data):
        raise _fail(_("XML files with a document type declaration (DOCTYPE) are refused."))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or (error.position[0] if error.position else 0)
        raise _fail(_("The XML file is not well-formed near line %(line)s.") % {"line": line})


def _local(element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str) -> list:
    if element is None:
        return []
    return [child for child in element if _local(child) == name]


def _find(element, path: str):
    """The first element along a slash-separated path of local names (namespaces ignored)."""
    for name in path.split("/"):
        if element is None:
            return None
        found = _children(element, name)
        element = found[0] if found else None
    return element


def _text(element, path: str = "") -> str:
    target = _find(element, path) if path else element
    if target is None or target.text is None:
        return ""
    return " ".join(target.text.split())


def _texts(element, path: str) -> list[str]:
    """The texts of every element matching the path (each step may repeat)."""
    current = [element] if element is not None else []
    for name in path.split("/"):
        current = [child for parent in current for child in _children(parent, name)]
    return [" ".join(el.text.split()) for el in current if el.text and el.text.strip()]


_CAMT_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")


def _camt_amount(element) -> tuple[Decimal, str]:
    text = _text(element)
    if element is None or not _CAMT_AMOUNT.match(text):
        raise ValueError("amount")
    return _two_places(Decimal(text)), (element.get("Ccy") or "").strip().upper()


def _camt_sign(indicator: str) -> int:
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    raise ValueError("indicator")


def _camt_date(element) -> date | None:
    """A `Dt` or `DtTm` child's calendar date, as the bank wrote it (a DtTm's own offset)."""
    if element is None:
        return None
    text = _text(element, "Dt") or _text(element, "DtTm") or _text(element)
    if not text:
        return None
    return date.fromisoformat(text[:10])


def camt053_parse(data: bytes) -> Statement:
    """Read an ISO 20022 camt.053 (versions .001.02 to .001.08 and later) statement with one Stmt.

    Only booked entries are read (status BOOK or none given); pending and information entries
    are not money on the account yet. An entry with several transactions becomes one line each.
    """
    _check_size(data)
    root = _xml_root(data)
    container = _find(root, "BkToCstmrStmt") if _local(root) == "Document" else root
    if container is None or _local(container) != "BkToCstmrStmt":
        raise _fail(_("This XML file is not a CAMT.053 bank statement."))
    statements = _children(container, "Stmt")
    if not statements:
        raise _fail(_("The CAMT.053 file holds no statement (Stmt)."))
    if len(statements) > 1:
        raise _fail(
            _("The CAMT.053 file holds %(count)s statements; import one statement per file.")
            % {"count": len(statements)}
        )
    stmt = statements[0]
    statement_id = _text(stmt, "Id") or _stable_hash(CAMT053, hashlib.sha256(data).hexdigest())
    account_iban = normalise_iban(_text(stmt, "Acct/Id/IBAN"))
    account_number = "" if account_iban else (_text(stmt, "Acct/Id/Othr/Id") or _text(stmt, "Acct/Id/IBAN"))
    currency = _text(stmt, "Acct/Ccy").upper()

    opening = closing = None
    for number, balance in enumerate(_children(stmt, "Bal"), start=1):
        code = _text(balance, "Tp/CdOrPrtry/Cd") or _text(balance, "Tp/CdOrPrtry/Prtry")
        if code not in ("OPBD", "PRCD", "CLBD"):
            continue
        try:
            amount, balance_currency = _camt_amount(_find(balance, "Amt"))
            amount *= _camt_sign(_text(balance, "CdtDbtInd"))
        except (ValueError, InvalidOperation):
            raise _fail(
                _("Balance %(number)s (%(code)s): the amount or its sign is not valid.")
                % {"number": number, "code": code}
            )
        currency = currency or balance_currency
        if code == "CLBD":
            closing = closing if closing is not None else amount
        elif code == "OPBD" or opening is None:
            opening = amount

    try:
        date_from = _camt_date(_find(stmt, "FrToDt/FrDtTm"))
        date_to = _camt_date(_find(stmt, "FrToDt/ToDtTm"))
    except ValueError:
        raise _fail(_("The statement period (FrToDt) holds an invalid date."))

    entries = _children(stmt, "Ntry")
    _check_count(len(entries))
    lines: list[StatementLine] = []
    for number, entry in enumerate(entries, start=1):
        lines.extend(_camt_entry_lines(entry, number, currency))
    date_from, date_to = _date_span(lines, date_from, date_to)
    if not currency and lines:
        currency = lines[0].currency
    return Statement(
        account_iban=account_iban,
        currency=currency,
        statement_id=statement_id,
        opening_balance=opening,
        closing_balance=closing,
        date_from=date_from,
        date_to=date_to,
        lines=_unique_references(lines),
        account_number=account_number,
        source_format=CAMT053,
    )


def _camt_entry_lines(entry, number: int, account_currency: str) -> list[StatementLine]:
    def fail(message):
        return _fail(_("Entry %(entry)s: %(problem)s") % {"entry": number, "problem": message})

    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status and status != "BOOK":
        return []
    try:
        amount, currency = _camt_amount(_find(entry, "Amt"))
    except (ValueError, InvalidOperation):
        raise fail(_("the amount is missing, negative or has more than two decimal places."))
    try:
        sign = _camt_sign(_text(entry, "CdtDbtInd"))
    except ValueError:
        raise fail(_("the credit/debit indicator must be CRDT or DBIT."))
    try:
        booking_date = _camt_date(_find(entry, "BookgDt"))
        value_date = _camt_date(_find(entry, "ValDt"))
    except ValueError:
        raise fail(_("a date is not valid."))
    if booking_date is None:
        raise fail(_("the booking date is missing."))
    currency = currency or account_currency
    entry_reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    additional = _text(entry, "AddtlNtryInf")
    base_raw = {
        "format": CAMT053,
        "entry": str(number),
        "entry_reference": _text(entry, "NtryRef"),
        "bank_transaction_code": "/".join(
            part
            for part in (
                _text(entry, "BkTxCd/Domn/Cd"),
                _text(entry, "BkTxCd/Domn/Fmly/Cd"),
                _text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
                _text(entry, "BkTxCd/Prtry/Cd"),
            )
            if part
        ),
        "additional_info": additional,
        "reversal": "true" if _text(entry, "RvslInd").lower() == "true" else "",
    }
    transactions = [tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")]
    # Without a bank reference, the entry's content names it, so that the same entry in an
    # overlapping statement gets the same reference; identical entries get "#n" later.
    base_reference = entry_reference or "camt:" + _stable_hash(
        booking_date,
        value_date,
        sign * amount,
        additional,
        *_texts(entry, "NtryDtls/TxDtls/Refs/EndToEndId"),
        *_texts(entry, "NtryDtls/TxDtls/RmtInf/Ustrd"),
    )

    if len(transactions) <= 1:
        tx = transactions[0] if transactions else None
        return [
            _camt_line(
                tx, sign * amount, currency, booking_date, value_date, base_reference, additional, base_raw, sign
            )
        ]

    parts = []
    for index, tx in enumerate(transactions, start=1):
        amount_element = _find(tx, "AmtDtls/TxAmt/Amt")
        if amount_element is None:
            amount_element = _find(tx, "Amt")
        try:
            tx_amount, tx_currency = _camt_amount(amount_element)
        except (ValueError, InvalidOperation):
            raise fail(_("transaction %(index)s has no valid amount.") % {"index": index})
        if tx_currency and tx_currency != currency:
            raise fail(_("transaction %(index)s is in another currency than the entry.") % {"index": index})
        indicator = _text(tx, "CdtDbtInd")
        try:
            tx_sign = _camt_sign(indicator) if indicator else sign
        except ValueError:
            raise fail(_("the credit/debit indicator must be CRDT or DBIT."))
        parts.append((tx, tx_sign * tx_amount))
    if sum(part for _tx, part in parts) != sign * amount:
        raise fail(_("the amounts of its transactions do not add up to the entry amount."))
    lines = []
    for index, (tx, tx_amount) in enumerate(parts, start=1):
        own = _text(tx, "Refs/AcctSvcrRef")
        reference = own if own and own != entry_reference else f"{base_reference}/{index}"
        raw = dict(base_raw, transaction=str(index))
        lines.append(_camt_line(tx, tx_amount, currency, booking_date, value_date, reference, additional, raw, sign))
    return lines


def _camt_line(tx, amount, currency, booking_date, value_date, bank_reference, additional, raw, entry_sign):
    remittance = _texts(tx, "RmtInf/Ustrd") + _texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
    end_to_end = _text(tx, "Refs/EndToEndId")
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    parts = remittance + ([end_to_end] if end_to_end else [])
    if not parts:
        parts = [_text(tx, "AddtlTxInf") or additional]
    reference = " ".join(dict.fromkeys(part for part in parts if part))
    # Money in comes from the debtor; money out goes to the creditor.
    sign = 1 if amount > 0 else -1 if amount < 0 else entry_sign
    party, account = ("Dbtr", "DbtrAcct") if sign > 0 else ("Cdtr", "CdtrAcct")
    parties = _find(tx, "RltdPties")
    name = _text(parties, f"{party}/Nm") or _text(parties, f"{party}/Pty/Nm")
    counterparty_account = normalise_iban(_text(parties, f"{account}/Id/IBAN"))
    raw = {key: value for key, value in dict(raw, end_to_end_id=end_to_end).items() if value}
    return StatementLine(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=name,
        counterparty_account=counterparty_account,
        reference=reference,
        bank_reference=bank_reference,
        raw=raw,
    )


# --- OFX -------------------------------------------------------------------------------------

# OFX 1.x is SGML whose leaf elements have no closing tags; OFX 2.x is XML. One tolerant
# tokenizer reads both: a tag followed by text is a leaf, a tag followed by another tag opens an
# aggregate (these names, or any name closed later in the file).
_OFX_TAG = re.compile(r"<(/?)([A-Za-z0-9_.]+)\s*>([^<]*)")
_OFX_AGGREGATES = frozenset(
    """OFX SIGNONMSGSRSV1 SONRS STATUS FI BANKMSGSRSV1 STMTTRNRS STMTRS BANKACCTFROM BANKACCTTO
    BANKTRANLIST STMTTRN LEDGERBAL AVAILBAL BALLIST BAL CREDITCARDMSGSRSV1 CCSTMTTRNRS CCSTMTRS
    CCACCTFROM CCACCTTO PAYEE CURRENCY ORIGCURRENCY""".split()
)
_OFX_LEAVES = frozenset(
    """TRNTYPE DTPOSTED DTUSER DTAVAIL TRNAMT FITID NAME MEMO CHECKNUM REFNUM SIC PAYEEID
    BANKID BRANCHID ACCTID ACCTTYPE CURDEF BALAMT DTASOF DTSTART DTEND TRNUID CODE SEVERITY""".split()
)


class _Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name: str, value: str | None = None):
        self.name = name
        self.value = value
        self.children: list[_Node] = []

    def child(self, name: str) -> _Node | None:
        return next((node for node in self.children if node.name == name), None)

    def get(self, path: str) -> str:
        node: _Node | None = self
        for name in path.split("/"):
            node = node.child(name) if node else None
        return (node.value or "") if node else ""

    def all(self, name: str) -> list[_Node]:
        found = []
        for node in self.children:
            if node.name == name:
                found.append(node)
            found.extend(node.all(name))
        return found


def _decode(data: bytes, encoding: str = "") -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            raise _fail(_("The file cannot be read as %(encoding)s.") % {"encoding": encoding})
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Spreadsheet programs save "Unicode text" as UTF-16 with a byte-order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _fail(_("The file cannot be read as %(encoding)s.") % {"encoding": "UTF-16"})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Brazilian and Spanish banks still export Windows-1252; Latin-1 reads any byte.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _ofx_tree(text: str) -> _Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise _fail(_("This is not an OFX file: the <OFX> element is missing."))
    tokens = list(_OFX_TAG.finditer(text, start))
    closed = {match.group(2).upper() for match in tokens if match.group(1)}
    root = _Node("#root")
    stack = [root]
    for index, match in enumerate(tokens):
        closing, name, value = match.group(1), match.group(2).upper(), match.group(3).strip()
        if closing:
            # Close the matching open aggregate; a leaf's closing tag (OFX 2) matches none.
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].name == name:
                    del stack[depth:]
                    break
            continue
        if value:
            stack[-1].children.append(_Node(name, html.unescape(value)))
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        closes_at_once = following is not None and following.group(1) and following.group(2).upper() == name
        if not closes_at_once and (name in _OFX_AGGREGATES or (name not in _OFX_LEAVES and name in closed)):
            # Aggregates of one name never nest: an unclosed one ends where its sibling starts.
            if stack[-1].name == name and len(stack) > 1:
                stack.pop()
            node = _Node(name)
            stack[-1].children.append(node)
            stack.append(node)
        else:
            stack[-1].children.append(_Node(name, ""))
    return root


_OFX_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def _ofx_date(value: str) -> date | None:
    if not value:
        return None
    match = _OFX_DATE.match(value.strip())
    if not match:
        raise ValueError("date")
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def ofx_parse(data: bytes) -> Statement:
    """Read an OFX 1.x (SGML) or 2.x (XML) bank or credit-card statement with one account."""
    _check_size(data)
    tree = _ofx_tree(_decode(data))
    statements = tree.all("STMTRS") + tree.all("CCSTMTRS")
    if not statements:
        raise _fail(_("The OFX file holds no bank statement (STMTRS)."))
    if len(statements) > 1:
        raise _fail(
            _("The OFX file holds %(count)s statements; import one statement per file.") % {"count": len(statements)}
        )
    stmt = statements[0]
    account = stmt.child("BANKACCTFROM") or stmt.child("CCACCTFROM") or _Node("none")
    account_id = account.get("ACCTID")
    account_iban = normalise_iban(account_id)
    account_number = (
        ""
        if account_iban
        else "/".join(part for part in (account.get("BANKID"), account.get("BRANCHID"), account_id) if part)
    )
    currency = stmt.get("CURDEF").upper()
    transactions = stmt.child("BANKTRANLIST") or _Node("none")
    try:
        date_from = _ofx_date(transactions.get("DTSTART"))
        date_to = _ofx_date(transactions.get("DTEND"))
    except ValueError:
        raise _fail(_("The statement period (DTSTART/DTEND) holds an invalid date."))
    closing = None
    if stmt.child("LEDGERBAL"):
        try:
            closing = _two_places(_amount_in(stmt.get("LEDGERBAL/BALAMT")))
        except (ValueError, InvalidOperation):
            raise _fail(_("The ledger balance (LEDGERBAL) is not a valid amount."))

    entries = transactions.all("STMTTRN")
    _check_count(len(entries))
    lines = []
    for number, trn in enumerate(entries, start=1):
        lines.append(_ofx_line(trn, number, currency, account_id))
    date_from, date_to = _date_span(lines, date_from, date_to)
    if account_id and date_from and date_to:
        statement_id = f"OFX-{account_id}-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
    else:
        statement_id = "OFX-" + hashlib.sha256(data).hexdigest()[:24]
    return Statement(
        account_iban=account_iban,
        currency=currency,
        statement_id=statement_id,
        opening_balance=None,
        closing_balance=closing,
        date_from=date_from,
        date_to=date_to,
        lines=_unique_references(lines),
        account_number=account_number,
        source_format=OFX,
    )


def _ofx_line(trn: _Node, number: int, currency: str, account_id: str) -> StatementLine:
    def fail(message):
        return _fail(_("Transaction %(number)s: %(problem)s") % {"number": number, "problem": message})

    try:
        amount = _two_places(_amount_in(trn.get("TRNAMT")))
    except (ValueError, InvalidOperation):
        raise fail(_("the amount (TRNAMT) is missing or not a valid number."))
    try:
        booking_date = _ofx_date(trn.get("DTPOSTED"))
        value_date = _ofx_date(trn.get("DTAVAIL"))
    except ValueError:
        raise fail(_("a date is not valid."))
    if booking_date is None:
        raise fail(_("the posting date (DTPOSTED) is missing."))
    name = trn.get("NAME") or trn.get("PAYEE/NAME")
    memo = trn.get("MEMO")
    fitid = trn.get("FITID")
    raw = {
        "format": OFX,
        "transaction": str(number),
        "type": trn.get("TRNTYPE"),
        "check_number": trn.get("CHECKNUM"),
        "reference_number": trn.get("REFNUM"),
        "user_date": trn.get("DTUSER"),
    }
    return StatementLine(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=(trn.get("CURRENCY/CURSYM") or currency).upper(),
        counterparty_name=name,
        counterparty_account=normalise_iban(trn.get("BANKACCTTO/ACCTID")),
        reference=memo,
        bank_reference=fitid or "ofx:" + _stable_hash(account_id, booking_date, amount, name, memo, number),
        raw={key: value for key, value in raw.items() if value},
    )


# --- amounts as people write them ------------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"R\$|€|\$|\b(?:EUR|BRL|USD)\b", re.IGNORECASE)


def _amount_in(text: str, decimal: str = "") -> Decimal:
    """A signed amount written with a decimal comma or point and optional thousands separators
    ("1.234,56", "-1,234.56", "(12,00)", "12,00-", "1 234,56", "R$ 10,00", "12,00 D").
    Without `decimal`, a lone separator is the decimal one. Raises ValueError when not a number."""
    value = _CURRENCY_MARKS.sub("", text or "").replace("\u00a0", " ").replace("\u2212", "-").strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    if value[-1:] in ("D", "C", "d", "c") and value[:-1].rstrip()[-1:].isdigit():
        # Brazilian bank exports mark debits and credits with a trailing D or C.
        negative, value = value[-1] in "Dd", value[:-1].strip()
    if value.startswith("-"):
        negative, value = not negative, value[1:].strip()
    elif value.startswith("+"):
        value = value[1:].strip()
    elif value.endswith("-"):
        negative, value = not negative, value[:-1].strip()
    value = value.replace(" ", "").replace("'", "")
    if not value:
        raise ValueError("blank")
    if not decimal:
        decimal = value[max(value.rfind(","), value.rfind("."))] if ("," in value or "." in value) else "."
    thousands = "." if decimal == "," else ","
    d, t = re.escape(decimal), re.escape(thousands)
    if not re.fullmatch(rf"(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)(?:{d}\d+)?|{d}\d+", value):
        raise ValueError("not a number")
    number = Decimal(value.replace(thousands, "").replace(decimal, "."))
    return -number if negative else number


def _detect_decimal(values: Iterable[str], delimiter: str) -> str:
    values = [_CURRENCY_MARKS.sub("", value).strip() for value in values if value and value.strip()]
    for value in values:
        if "," in value and "." in value:
            return "," if value.rfind(",") > value.rfind(".") else "."
    if any(re.search(r",\d{1,2}\s*[-)DC]?$", value) for value in values):
        return ","
    if any(re.search(r"\.\d{1,2}\s*[-)DC]?$", value) for value in values):
        return "."
    # Only "1,234" or "1.234" forms, or integers: follow the file's convention.
    return "," if delimiter == ";" else "."


# --- CSV -------------------------------------------------------------------------------------

_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y/%m/%d", "%d-%m-%y")
_HEADER_SEARCH_ROWS = 20


def _fold(text: str) -> str:
    """Lower case, accents stripped, punctuation as spaces: how headers are compared."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


_HEADER_CURRENCY = {"eur": "EUR", "euros": "EUR", "brl": "BRL", "rs": "BRL", "r": "BRL", "usd": "USD"}

_HEADER_SYNONYMS = {
    "booking_date": (
        "fecha",
        "fecha operacion",
        "fecha de operacion",
        "fecha contable",
        "f operacion",
        "data",
        "data lancamento",
        "data de lancamento",
        "data do lancamento",
        "data movimento",
        "data da transacao",
        "date",
        "booking date",
        "transaction date",
        "posting date",
        "posted date",
    ),
    "value_date": ("fecha valor", "f valor", "data valor", "data de valor", "value date"),
    "amount": ("importe", "cantidad", "monto", "valor", "montante", "amount", "valor do lancamento"),
    "debit": (
        "cargo",
        "cargos",
        "debe",
        "debito",
        "debitos",
        "saida",
        "saidas",
        "debit",
        "debits",
        "withdrawal",
        "money out",
        "paid out",
    ),
    "credit": (
        "abono",
        "abonos",
        "haber",
        "credito",
        "creditos",
        "entrada",
        "entradas",
        "credit",
        "credits",
        "deposit",
        "money in",
        "paid in",
    ),
    "currency": ("divisa", "moneda", "moeda", "currency"),
    "counterparty_name": (
        "beneficiario",
        "ordenante",
        "beneficiario ordenante",
        "ordenante beneficiario",
        "nombre",
        "contraparte",
        "favorecido",
        "remetente",
        "payee",
        "payer",
        "counterparty",
        "counterparty name",
        "name",
    ),
    "counterparty_account": (
        "iban contraparte",
        "iban ordenante",
        "iban beneficiario",
        "cuenta ordenante",
        "cuenta contraparte",
        "conta contraparte",
        "counterparty iban",
        "counterparty account",
    ),
    "reference": (
        "concepto",
        "descripcion",
        "historico",
        "descricao",
        "description",
        "details",
        "narrative",
        "memo",
        "lancamento",
    ),
    "reference_extra": (
        "referencia",
        "mas datos",
        "observaciones",
        "complemento",
        "documento",
        "reference",
        "remittance information",
        "informacion adicional",
    ),
    "bank_reference": (
        "id",
        "transaction id",
        "id transaccion",
        "id transacao",
        "fitid",
        "referencia banco",
        "bank reference",
    ),
}
_HEADER_FIELD = {synonym: name for name, synonyms in _HEADER_SYNONYMS.items() for synonym in synonyms}


def _header_field(header: str) -> tuple[str, str]:
    """The field a header names, and the currency its suffix names ("Importe (EUR)")."""
    words = _fold(header).split()
    currency = ""
    if len(words) > 1 and words[-1] in _HEADER_CURRENCY:
        currency = _HEADER_CURRENCY[words[-1]]
        words = words[:-1]
    return _HEADER_FIELD.get(" ".join(words), ""), currency


def _detect_delimiter(text: str) -> str:
    sample = [line for line in text.splitlines()[:_HEADER_SEARCH_ROWS] if line.strip()]
    counts = {delimiter: sum(line.count(delimiter) for line in sample) for delimiter in (";", "\t", ",")}
    # Semicolons and tabs never appear inside amounts; commas do, so they come last.
    for delimiter in (";", "\t"):
        if counts[delimiter] and counts[delimiter] >= len(sample):
            return delimiter
    return "," if counts[","] else (";" if counts[";"] else "\t" if counts["\t"] else ",")


def _detect_date_format(values: list[str]) -> str:
    values = [value for value in values if value]
    best, best_count = _DATE_FORMATS[0], -1
    for candidate in _DATE_FORMATS:
        count = 0
        for value in values:
            try:
                datetime.strptime(value, candidate)
            except ValueError:
                continue
            count += 1
        if count == len(values):
            return candidate
        if count > best_count:
            best, best_count = candidate, count
    return best


def _date_cell(value: str) -> str:
    value = value.strip()
    # "2025-03-04 10:22" or "2025-03-04T10:22:00": the calendar date is the first part.
    value = value.split()[0] if value else ""
    return value[:10] if "T" in value and len(value) > 10 else value


def csv_parse(data: bytes, options: CsvOptions | None = None) -> Statement:
    """Read a bank's CSV export. The header row is found among the first 20 lines (banks put
    account details above it). Rows without a date (a date cell with no digit: "Total") or
    without an amount (balance rows such as "SALDO ANTERIOR") are not movements and are skipped;
    any other row that cannot be read is refused with its line number."""
    options = options or CsvOptions()
    _check_size(data)
    unknown = set(options.columns) - set(CSV_FIELDS)
    if unknown:
        raise _fail(_("Unknown CSV fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    text = _decode(data, options.encoding)
    delimiter = options.delimiter or _detect_delimiter(text)
    if delimiter not in (";", ",", "\t", "|"):
        raise _fail(_("The CSV delimiter must be a semicolon, a comma, a tab or a vertical bar."))
    if options.decimal not in ("", ",", "."):
        raise _fail(_("The decimal separator must be a comma or a point."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        raise _fail(_("The CSV file cannot be read near line %(line)s.") % {"line": reader.line_num + 1})
    _check_count(len(rows))

    header_index, columns, currency_hint = _csv_header(rows, options)
    if header_index is None:
        if options.columns:
            raise _fail(
                _("No header row with the columns %(columns)s was found in the first %(count)s lines.")
                % {"columns": ", ".join(f"“{name}”" for name in options.columns.values()), "count": _HEADER_SEARCH_ROWS}
            )
        raise _fail(
            _("No header row with a date and an amount column was found in the first %(count)s lines.")
            % {"count": _HEADER_SEARCH_ROWS}
        )
    headers = [cell.strip() for cell in rows[header_index]]
    labels = _raw_labels(headers)
    account_iban = normalise_iban(options.account_iban)
    if not account_iban:
        account_iban = next(
            (iban for row in rows[:header_index] for cell in row for iban in [_iban_in(cell)] if iban), ""
        )

    def cell(row, name):
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    data_rows = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        booking = cell(row, "booking_date")
        if not any(ch.isdigit() for ch in booking) or not any(
            cell(row, name) for name in ("amount", "debit", "credit")
        ):
            continue
        data_rows.append((index + 1, row))

    date_format = options.date_format or _detect_date_format(
        [_date_cell(cell(row, name)) for _n, row in data_rows for name in ("booking_date", "value_date")]
    )
    decimal = options.decimal or _detect_decimal(
        [cell(row, name) for _n, row in data_rows for name in ("amount", "debit", "credit")], delimiter
    )
    currency = options.currency.upper() or currency_hint
    currencies = {cell(row, "currency").upper() for _n, row in data_rows} - {""}
    if not currency and len(currencies) == 1:
        currency = currencies.pop()

    lines = []
    seen: Counter = Counter()
    for line_number, row in data_rows:
        line = _csv_line(row, line_number, columns, headers, labels, date_format, decimal, currency)
        if not line.bank_reference:
            identity = (
                line.booking_date,
                line.value_date,
                line.amount,
                line.reference,
                line.counterparty_name,
                line.counterparty_account,
            )
            seen[identity] += 1
            # The occurrence number tells identical rows apart and stays the same when an
            # overlapping export is imported again.
            line = replace(line, bank_reference="csv:" + _stable_hash(*identity, seen[identity]))
        lines.append(line)
    date_from, date_to = _date_span(lines, None, None)
    return Statement(
        account_iban=account_iban,
        currency=currency,
        statement_id="CSV-" + hashlib.sha256(data).hexdigest()[:24],
        opening_balance=None,
        closing_balance=None,
        date_from=date_from,
        date_to=date_to,
        lines=_unique_references(lines),
        account_number="",
        source_format=CSV,
    )


def _csv_header(rows, options: CsvOptions):
    """The index of the header row, the field -> column map and the currency its headers name."""
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        folded = [_fold(cell) for cell in row]
        if options.columns:
            wanted = {name: _fold(header) for name, header in options.columns.items()}
            if all(header in folded for header in wanted.values()):
                columns = {name: folded.index(header) for name, header in wanted.items()}
                if "booking_date" in columns and ("amount" in columns or {"debit", "credit"} & set(columns)):
                    return index, columns, ""
            continue
        columns: dict[str, int] = {}
        extras: list[int] = []
        currency = ""
        for position, header in enumerate(row):
            name, hinted = _header_field(header)
            if name == "reference_extra":
                extras.append(position)
            elif name and name not in columns:
                columns[name] = position
                if name in ("amount", "debit", "credit"):
                    currency = currency or hinted
        if "booking_date" in columns and ("amount" in columns or {"debit", "credit"} & set(columns)):
            if extras:
                columns["reference_extra"] = extras[0]
                columns.update({f"reference_extra_{n}": position for n, position in enumerate(extras[1:], 2)})
            return index, columns, currency
    return None, {}, ""


def _raw_labels(headers: list[str]) -> list[str]:
    labels = []
    for position, header in enumerate(headers, start=1):
        label = header or f"column {position}"
        labels.append(label if label not in labels else f"{label} ({position})")
    return labels


_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")


def _iban_in(text: str) -> str:
    for match in _IBAN_CANDIDATE.finditer(text.upper()):
        iban = normalise_iban(match.group(0))
        if iban:
            return iban
    return ""


_FORMAT_LABELS = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy"}


def _format_label(date_format: str) -> str:
    """ "%d/%m/%Y" as people read it: "dd/mm/yyyy"."""
    for code, label in _FORMAT_LABELS.items():
        date_format = date_format.replace(code, label)
    return date_format


def _csv_line(row, line_number, columns, headers, labels, date_format, decimal, currency) -> StatementLine:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def fail(name: str, message: str):
        index = columns.get(name)
        column = headers[index] if index is not None and index < len(headers) else name
        return _fail(
            _("Line %(line)s, column “%(column)s”: %(problem)s")
            % {"line": line_number, "column": column, "problem": message}
        )

    def parse_date(name: str) -> date | None:
        value = _date_cell(cell(name))
        if not value:
            return None
        try:
            return datetime.strptime(value, date_format).date()
        except ValueError:
            raise fail(
                name,
                _("“%(value)s” is not a date in the form %(format)s.")
                % {"value": value, "format": _format_label(date_format)},
            )

    def parse_amount(name: str) -> Decimal | None:
        value = cell(name)
        if not value:
            return None
        try:
            return _two_places(_amount_in(value, decimal))
        except (ValueError, InvalidOperation):
            raise fail(name, _("“%(value)s” is not an amount with at most two decimals.") % {"value": value})

    booking_date = parse_date("booking_date")
    value_date = parse_date("value_date")
    amount = parse_amount("amount")
    if amount is None:
        # Split columns: debits may be written with or without their minus sign.
        debit, credit = parse_amount("debit"), parse_amount("credit")
        amount = (credit or Decimal("0.00")) - abs(debit or Decimal("0.00"))
    extra_names = sorted(name for name in columns if name.startswith("reference_extra"))
    reference_parts = [cell("reference")] + [cell(name) for name in extra_names]
    raw = {"format": CSV, "line": str(line_number)}
    raw.update({label: value.strip() for label, value in zip(labels, row, strict=False) if value.strip()})
    return StatementLine(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=cell("currency").upper() or currency,
        counterparty_name=" ".join(cell("counterparty_name").split()),
        counterparty_account=normalise_iban(cell("counterparty_account")),
        reference=" ".join(" ".join(part for part in reference_parts if part).split()),
        bank_reference=cell("bank_reference"),
        raw=raw,
    )
