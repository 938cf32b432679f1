"""Invoices issued from several connections at once get gap-free numbers, and Spain's register
chain stays intact."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from retaguarda.billing.models import Invoice
from retaguarda.billing.services import invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.einvoicing.register import register_verify

THREADS = 4
PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_get_gap_free_numbers_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only; SQLite serialises writers (the sequence test covers a SQLite file)")
    company = company_build(country="ES")
    drafts = [invoice_build(company, post=False).pk for _ in range(THREADS * PER_THREAD)]
    errors = []

    def work(ids):
        try:
            for invoice_id in ids:
                invoice_post(actor=system_actor(company), invoice_id=invoice_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(drafts[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Invoice.objects.filter(company=company).values_list("sequence_number", flat=True))
    assert numbers == list(range(1, THREADS * PER_THREAD + 1))
    check = register_verify(company.pk)
    assert check.ok and check.count == THREADS * PER_THREAD
    assert sum(Invoice.objects.filter(company=company).values_list("payable", flat=True), Decimal(0)) == Decimal(
        "2420.00"
    )
