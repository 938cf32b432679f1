"""A Spanish and a Brazilian shop, each with one customer whose invoice of 1000.00 net fell due
on 4 February 2026, and a snapshot of everything dunning can change (to assert that a preview
or a refusal changed nothing)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from retaguarda.billing.models import Invoice
from retaguarda.billing.testing import billing_company
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Deviation, OutboxEvent
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build
from retaguarda.dunning.models import (
    CustomerBlock,
    DunningLetter,
    DunningLevel,
    DunningRun,
    DunningState,
    LateChargeSettings,
    PaymentPromise,
)
from retaguarda.dunning.services import dunning_defaults_install
from retaguarda.dunning.testing import dunning_customer, overdue_invoice
from retaguarda.ledger.models import JournalEntry, JournalLine, Reconciliation
from retaguarda.parties.models import Party

# Every date of the scenarios is in the first half of 2026, whose Spanish legal late-payment
# rate (10.15 %) collections knows.
DUE = datetime.date(2026, 2, 4)


def day(n: int) -> datetime.date:
    """The date `n` days after the due date."""
    return DUE + datetime.timedelta(days=n)


@dataclass
class Shop:
    company: object
    actor: object
    customer: Party
    invoice: Invoice


def _shop(country: str, language: str, legal_name: str) -> Shop:
    company = billing_company(country)
    dunning_defaults_install(company=company)
    customer = dunning_customer(company, language=language, legal_name=legal_name)
    invoice = overdue_invoice(company, party=customer, net=Decimal("1000.00"), due_date=DUE)
    return Shop(company=company, actor=actor_build(company, Role.FINANCE), customer=customer, invoice=invoice)


@pytest.fixture
def es(db) -> Shop:
    """Spain: the invoice is 1210.00 EUR (1000.00 + 21 % VAT); the customer reads Spanish."""
    return _shop("ES", "es", "Ferretería Norte SL")


@pytest.fixture
def br(db) -> Shop:
    """Brazil: the invoice is 1000.00 BRL; the customer reads Portuguese."""
    return _shop("BR", "pt-br", "Padaria Central Ltda")


@pytest.fixture
def system(es):
    return system_actor(es.company)


def everything(company) -> dict:
    """Every row dunning, and what it calls, could write, as plain values."""

    def rows(model, *fields, **filters):
        return sorted(tuple(str(v) for v in row) for row in model.objects.filter(**filters).values_list(*fields))

    return {
        "runs": rows(DunningRun, "pk", "status", "letter_count", company=company),
        "letters": rows(DunningLetter, "pk", "email_status", "entry_id", company=company),
        "states": rows(
            DunningState,
            "pk",
            "level_days",
            "paused_until",
            "charged_fine",
            "charged_compensation",
            "charged_interest",
            "written_off_at",
            company=company,
        ),
        "promises": rows(PaymentPromise, "pk", "status", company=company),
        "blocks": rows(CustomerBlock, "pk", "lifted_at", company=company),
        "levels": rows(DunningLevel, "pk", "days_overdue", "name", "fee", company=company),
        "settings": rows(LateChargeSettings, "pk", "rule", "booking", "payment_days", company=company),
        "parties": rows(Party, "pk", "blocked_reason", company=company),
        "invoices": rows(Invoice, "pk", "residual", "payment_status", company=company),
        "entries": rows(JournalEntry, "pk", company=company),
        "lines": rows(JournalLine, "pk", "residual", company=company),
        "reconciliations": rows(Reconciliation, "pk", company=company),
        "audit": rows(AuditLog, "pk", company=company),
        "events": rows(OutboxEvent, "pk", company=company),
        "deviations": rows(Deviation, "pk", "status", company=company),
    }


def entry_lines(entry) -> list[tuple]:
    """(account role, debit, credit, party id, due date) of an entry's lines, in order."""
    return [
        (line.account.role, str(line.debit), str(line.credit), line.party_id, line.due_date)
        for line in JournalLine.objects.filter(entry=entry).select_related("account").order_by("position")
    ]
