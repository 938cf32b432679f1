"""Builders for tests of any area that needs payments: bank accounts, invoices of an exact
amount, payments through the services, and bank statement files (CAMT.053, OFX, CSV) of given
movements."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from retaguarda.billing.choices import InvoiceKind
from retaguarda.billing.models import Invoice
from retaguarda.billing.testing import invoice_build
from retaguarda.core.permissions import system_actor
from retaguarda.ledger.models import JournalLine
from retaguarda.ledger.services import accounts_by_role

from .models import BankAccount, Payment
from .services import bank_account_create, payment_register

# A valid Spanish IBAN for the company's account, and two for customers.
COMPANY_IBAN = "ES9121000418450200051332"
CUSTOMER_IBANS = ("ES7921000813610123456789", "ES6000491500051234567892")


def bank_account_build(company, *, name: str = "Main account", iban: str = COMPANY_IBAN, currency=None) -> BankAccount:
    return bank_account_create(actor=system_actor(company), name=name, iban=iban, currency=currency)


def invoice_of(
    company,
    party,
    amount,
    *,
    issue_date: datetime.date | None = None,
    due_days: int = 30,
    currency: str | None = None,
    rate=None,
    kind: str = InvoiceKind.CUSTOMER_INVOICE,
) -> Invoice:
    """A posted invoice (or supplier bill) of exactly `amount`: one tax-exempt line."""
    return invoice_build(
        company,
        party=party,
        lines=((Decimal(1), Decimal(amount), "exempt"),),
        issue_date=issue_date,
        due_days=due_days,
        currency=currency,
        rate=Decimal(rate) if rate is not None else None,
        kind=kind,
    )


def payment_build(company, *, party, amount, allocations=None, **fields) -> Payment:
    """A payment through payment_register as the system; allocations as (invoice, amount)."""
    if allocations is not None:
        allocations = [(getattr(invoice, "pk", invoice), Decimal(share)) for invoice, share in allocations]
    return payment_register(
        actor=fields.pop("actor", None) or system_actor(company),
        party_id=party.pk,
        amount=Decimal(amount),
        allocations=allocations,
        **fields,
    )


def ledger_balance(company, role: str, *, party=None) -> Decimal:
    """Posted debits less credits of the company's account with `role` (of one party's lines)."""
    account = accounts_by_role(company.pk)[role]
    lines = JournalLine.objects.filter(company=company, account=account, posted=True)
    if party is not None:
        lines = lines.filter(party=party)
    return sum((line.debit - line.credit for line in lines), Decimal("0.00"))


def open_amount(company, role: str, *, party=None) -> Decimal:
    """What is still open (residuals) on the account with `role`, of one party's lines."""
    account = accounts_by_role(company.pk)[role]
    lines = JournalLine.objects.filter(company=company, account=account, posted=True)
    if party is not None:
        lines = lines.filter(party=party)
    return sum((line.residual for line in lines), Decimal("0.00"))


# --- statement files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One booking of a statement file to build: + money in, − money out."""

    date: datetime.date
    amount: Decimal
    name: str = ""
    iban: str = ""
    reference: str = ""
    bank_reference: str = ""


def camt053_file(
    movements: Sequence[Movement], *, iban: str = COMPANY_IBAN, statement_id: str = "STM-1", currency: str = "EUR"
) -> bytes:
    """A camt.053.001.02 statement of the movements."""
    entries = []
    for movement in movements:
        credit = movement.amount > 0
        party = "Dbtr" if credit else "Cdtr"
        entries.append(
            f"""<Ntry><Amt Ccy="{currency}">{abs(movement.amount)}</Amt>
<CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{movement.date.isoformat()}</Dt></BookgDt><ValDt><Dt>{movement.date.isoformat()}</Dt></ValDt>
<AcctSvcrRef>{escape(movement.bank_reference)}</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><{party}><Nm>{escape(movement.name)}</Nm></{party}>
<{party}Acct><Id><IBAN>{movement.iban}</IBAN></Id></{party}Acct></RltdPties>
<RmtInf><Ustrd>{escape(movement.reference)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    dates = [m.date for m in movements] or [datetime.date.today()]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{max(dates).isoformat()}T23:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{statement_id}</Id>
<FrToDt><FrDtTm>{min(dates).isoformat()}T00:00:00</FrDtTm><ToDtTm>{max(dates).isoformat()}T23:59:59</ToDtTm></FrToDt>
<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">1000.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{min(dates).isoformat()}</Dt></Dt></Bal>
{"".join(entries)}
</Stmt></BkToCstmrStmt></Document>""".encode()


def ofx_file(movements: Sequence[Movement], *, iban: str = COMPANY_IBAN, currency: str = "EUR") -> bytes:
    """An OFX 2 statement of the movements (the OFX statement id comes from its contents)."""
    rows = []
    for movement in movements:
        rows.append(
            f"""<STMTTRN><TRNTYPE>{"CREDIT" if movement.amount > 0 else "DEBIT"}</TRNTYPE>
<DTPOSTED>{movement.date:%Y%m%d}</DTPOSTED><TRNAMT>{movement.amount}</TRNAMT>
<FITID>{escape(movement.bank_reference)}</FITID><NAME>{escape(movement.name)}</NAME>
<MEMO>{escape(movement.reference)}</MEMO></STMTTRN>"""
        )
    dates = [m.date for m in movements] or [datetime.date.today()]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>0</TRNUID><STMTRS><CURDEF>{currency}</CURDEF>
<BANKACCTFROM><BANKID>2100</BANKID><ACCTID>{iban}</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>{min(dates):%Y%m%d}</DTSTART><DTEND>{max(dates):%Y%m%d}</DTEND>
{"".join(rows)}
</BANKTRANLIST><LEDGERBAL><BALAMT>0.00</BALAMT><DTASOF>{max(dates):%Y%m%d}</DTASOF></LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>""".encode()


def csv_file(movements: Sequence[Movement]) -> bytes:
    """A Spanish bank's CSV export of the movements (semicolons, decimal commas)."""
    lines = ["Fecha;Fecha valor;Concepto;Importe;IBAN contraparte;Referencia banco"]
    for movement in movements:
        amount = f"{movement.amount:.2f}".replace(".", ",")
        concept = f"{movement.name} {movement.reference}".strip()
        lines.append(
            f"{movement.date:%d/%m/%Y};{movement.date:%d/%m/%Y};{concept};{amount};{movement.iban};"
            f"{movement.bank_reference}"
        )
    return ("\n".join(lines) + "\n").encode()
