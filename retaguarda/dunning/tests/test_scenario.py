"""Sixty days of dunning a Spanish and a Brazilian customer: one letter at 7, 21, 45 and 60
days with the exact late charges of each country, in the customer's language; the postings;
the block on new orders (409 `customer_blocked` from the sales API) and the handover to legal;
both lifted once the customer pays."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

from retaguarda.collections.testing import payment_build
from retaguarda.core.choices import Role
from retaguarda.core.models import Deviation, OutboxEvent
from retaguarda.core.testing import api_client_for, user_build
from retaguarda.dunning.deviations import DEVIATION_LEGAL_HANDOVER
from retaguarda.dunning.models import CustomerBlock, DunningLetter, DunningRun
from retaguarda.dunning.services import dunning_customer_review, dunning_run
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.models import JournalLine
from retaguarda.parties.models import Party

from .conftest import day, entry_lines


def letters_of(company) -> list[tuple]:
    return [
        (
            letter.run.as_of,
            letter.letter,
            str(letter.fee),
            str(letter.interest),
            str(letter.earlier_charges),
            str(letter.total_due),
        )
        for letter in DunningLetter.objects.filter(company=company).select_related("run").order_by("run__as_of")
    ]


def open_receivable(party) -> Decimal:
    """What the customer owes in the books: the open items of their receivable."""
    rows = JournalLine.objects.filter(party=party, account__role="receivable", posted=True)
    return sum((line.residual for line in rows), Decimal("0.00"))


def storefront(company):
    """A sales API client of `company`, with a mug in stock to order."""
    warehouse = warehouse_build(company, code="MAIN", name="Main")
    stocked_product(company, warehouse=warehouse, quantity="5", sku="MUG", list_price="12.50")
    return api_client_for(user_build(company, Role.SALES), company)


def order_through_api(client, customer) -> tuple[int, str]:
    response = client.post(
        "/api/v1/sales/orders",
        data=json.dumps({"customer_id": customer.pk, "lines": [{"sku": "MUG", "quantity": "1"}]}),
        content_type="application/json",
    )
    return response.status_code, response.json().get("error", {}).get("code", "")


def test_sixty_days_of_a_spanish_customer_day_by_day(es, mailoutbox, django_capture_on_commit_callbacks):
    for n in range(1, 61):
        with django_capture_on_commit_callbacks(execute=True):
            dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)

    # Legal interest of H1 2026 (10.15 %) on 1210.00, actual/365: 7.07 at 21 days, 15.14 at 45,
    # 20.19 at 60; the 40.00 compensation once, with the first letter that charges.
    assert letters_of(es.company) == [
        (day(7), "reminder", "0.00", "0.00", "0.00", "1210.00"),
        (day(21), "second_notice", "40.00", "7.07", "0.00", "1257.07"),
        (day(45), "final_notice", "0.00", "8.07", "47.07", "1265.14"),
        (day(60), "legal_handover", "0.00", "5.05", "55.14", "1270.19"),
    ]
    assert DunningRun.objects.filter(company=es.company, status="sent").count() == 60
    assert open_receivable(es.customer) == Decimal("1270.19")
    entries = [letter.entry for letter in DunningLetter.objects.filter(company=es.company).order_by("run__as_of")]
    assert entries[0] is None
    assert [entry_lines(entry) for entry in entries[1:]] == [
        [
            ("receivable", "47.07", "0.00", es.customer.pk, day(31)),
            ("late_fees", "0.00", "47.07", None, None),
        ],
        [
            ("receivable", "8.07", "0.00", es.customer.pk, day(55)),
            ("late_fees", "0.00", "8.07", None, None),
        ],
        [
            ("receivable", "5.05", "0.00", es.customer.pk, day(70)),
            ("late_fees", "0.00", "5.05", None, None),
        ],
    ]

    # Four e-mails, in Spanish: labels from the catalogue, Spanish amounts and dates.
    assert [(m.to, m.extra_headers["Content-Language"]) for m in mailoutbox] == [
        ([es.customer.email], "es"),
    ] * 4
    last = mailoutbox[-1]
    euros = format_currency(Decimal("1270.19"), "EUR", locale="es_ES")
    assert euros in last.subject and "1.270,19" in euros
    assert f"Número: {es.invoice.number} · Fecha: {format_date(es.invoice.issue_date, locale='es_ES')}" in last.body
    assert f"Importe: {format_currency(Decimal('1210.00'), 'EUR', locale='es_ES')}" in last.body
    assert [letter.email_status for letter in DunningLetter.objects.filter(company=es.company)] == ["sent"] * 4

    events = OutboxEvent.objects.filter(company=es.company, object_id=str(es.invoice.pk))
    assert list(events.filter(name="invoice.overdue").values_list("payload__as_of", flat=True)) == ["2026-02-05"]
    assert list(
        events.filter(name="dunning.level_changed").order_by("pk").values_list("payload__level", flat=True)
    ) == [
        1,
        2,
        3,
        4,
    ]


def test_the_final_notice_blocks_new_orders_and_the_handover_reaches_legal(es, mailoutbox):
    shop = storefront(es.company)
    for n in (7, 21, 44):
        dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)
    assert order_through_api(shop, es.customer)[0] == 201

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(45), preview=False)

    es.customer.refresh_from_db()
    assert (run.blocked_count, bool(es.customer.blocked_reason)) == (1, True)
    assert CustomerBlock.objects.get(party=es.customer).reason == es.customer.blocked_reason
    assert order_through_api(shop, es.customer) == (409, "customer_blocked")
    assert not Deviation.objects.filter(kind=DEVIATION_LEGAL_HANDOVER).exists()

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(60), preview=False)

    deviation = Deviation.objects.get(kind=DEVIATION_LEGAL_HANDOVER)
    assert (run.handover_count, deviation.status, deviation.owner_role, deviation.object_id) == (
        1,
        "open",
        "legal",
        str(es.customer.pk),
    )
    assert deviation.params == {"customer": "Ferretería Norte SL", "amount": "1270.19 EUR"}


def test_paying_lifts_the_block_and_closes_the_handover(es):
    shop = storefront(es.company)
    for n in (7, 21, 45, 60):
        dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)
    payment_build(es.company, party=es.customer, amount="1210.00", allocations=[(es.invoice, "1210.00")], date=day(62))
    es.invoice.refresh_from_db()
    assert es.invoice.residual == Decimal("0.00")
    # The payment itself lifted the block (billing's INVOICE_PAID_HOOKS): nothing is left to lift.
    assert dunning_customer_review(company=es.company, party_id=es.customer.pk, as_of=day(62)) is False

    es.customer.refresh_from_db()
    assert es.customer.blocked_reason == ""
    assert CustomerBlock.objects.get(party=es.customer).lifted_at is not None
    assert Deviation.objects.get(kind=DEVIATION_LEGAL_HANDOVER).status == "closed"
    assert order_through_api(shop, es.customer)[0] == 201
    # The late charges stay owed in the books; nothing overdue is left to chase.
    assert open_receivable(es.customer) == Decimal("60.19")
    assert dunning_customer_review(company=es.company, party_id=es.customer.pk, as_of=day(62)) is False
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(63), preview=False).letter_count == 0


def test_sixty_days_of_a_brazilian_customer_at_each_level(br, mailoutbox, django_capture_on_commit_callbacks):
    for n in (7, 21, 45, 60):
        with django_capture_on_commit_callbacks(execute=True):
            dunning_run(actor=br.actor, company=br.company, as_of=day(n), preview=False)

    # 2 % fine once; 1 % a month pro rata die on 1000.00: 7.00 at 21 days, 15.00 at 45, 20.00 at 60.
    assert letters_of(br.company) == [
        (day(7), "reminder", "0.00", "0.00", "0.00", "1000.00"),
        (day(21), "second_notice", "20.00", "7.00", "0.00", "1027.00"),
        (day(45), "final_notice", "0.00", "8.00", "27.00", "1035.00"),
        (day(60), "legal_handover", "0.00", "5.00", "35.00", "1040.00"),
    ]
    assert open_receivable(br.customer) == Decimal("1040.00")
    assert [m.extra_headers["Content-Language"] for m in mailoutbox] == ["pt-br"] * 4
    reais = format_currency(Decimal("1000.00"), "BRL", locale="pt_BR")
    assert f"Número: {br.invoice.number} · Data: {format_date(br.invoice.issue_date, locale='pt_BR')}" in (
        mailoutbox[0].body
    )
    assert f"Valor: {reais}" in mailoutbox[0].body
    assert format_currency(Decimal("1040.00"), "BRL", locale="pt_BR") in mailoutbox[-1].subject

    br.customer.refresh_from_db()
    assert br.customer.blocked_reason != ""
    payment_build(br.company, party=br.customer, amount="1000.00", allocations=[(br.invoice, "1000.00")], date=day(61))

    # Paid in full: the block is lifted at once, so the next run has nothing to send or lift.
    assert Party.objects.get(pk=br.customer.pk).blocked_reason == ""
    run = dunning_run(actor=br.actor, company=br.company, as_of=day(61), preview=False)

    assert (run.letter_count, run.unblocked_count) == (0, 0)


def test_a_first_run_late_goes_straight_to_the_level_reached(br):
    run = dunning_run(actor=br.actor, company=br.company, as_of=day(50), preview=False)

    # One letter, the final notice: the fine and 50 days of interest (16.666… → 16.67) at once.
    assert letters_of(br.company) == [(day(50), "final_notice", "20.00", "16.67", "0.00", "1036.67")]
    assert (run.letter_count, run.blocked_count) == (1, 1)
    assert dunning_run(actor=br.actor, company=br.company, as_of=day(51), preview=False).letter_count == 0


def test_one_letter_per_customer_at_the_highest_level_each_invoice_charged_by_its_own(es):
    from retaguarda.dunning.testing import overdue_invoice

    later = overdue_invoice(es.company, party=es.customer, net=Decimal("500.00"), due_date=day(14))

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)

    letter = DunningLetter.objects.get(run=run)
    assert (run.letter_count, letter.letter, str(letter.open_total)) == (1, "second_notice", "1815.00")
    assert [
        (row["number"], row["days_overdue"], row["level"], row["compensation"], row["interest"])
        for row in letter.invoices
    ] == [
        (es.invoice.number, 21, 2, "40.00", "7.07"),
        (later.number, 7, 1, "0.00", "0.00"),
    ]
    # When the later invoice reaches the second notice, it gets its own charges; the first one
    # its interest since the last letter (1210.00 × 10.15 % × 14/365 = 4.71).
    run = dunning_run(actor=es.actor, company=es.company, as_of=day(35), preview=False)
    letter = DunningLetter.objects.get(run=run)
    assert [(row["level"], row["compensation"], row["interest"]) for row in letter.invoices] == [
        (2, "0.00", "4.71"),
        (2, "40.00", "3.53"),
    ]
    assert (str(letter.fee), str(letter.interest), str(letter.earlier_charges)) == ("40.00", "8.24", "47.07")


def test_levels_never_go_back_when_the_procedure_changes(es):
    from retaguarda.dunning.models import DunningLevel, DunningState
    from retaguarda.dunning.services import dunning_level_save

    dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)
    second = DunningLevel.objects.get(company=es.company, days_overdue=21)
    dunning_level_save(
        actor=es.actor,
        level_id=second.pk,
        days_overdue=30,
        name=second.name,
        letter=second.letter,
        charge_interest=True,
    )

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(25), preview=False)

    assert run.letter_count == 0
    assert DunningState.objects.get(invoice=es.invoice).level_days == 21
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(30), preview=False).letter_count == 0
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(45), preview=False).letter_count == 1


def test_a_run_cannot_go_back_in_time(es):
    from retaguarda.common.errors import Conflict

    dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)
    try:
        dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=False)
    except Conflict as exc:
        assert exc.code == "run_out_of_order"
    else:
        raise AssertionError("a run before the last sent one was accepted")
    assert DunningRun.objects.filter(company=es.company).count() == 1
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=True).letter_count == 0


def test_runs_are_dated_today_or_earlier(es):
    import pytest

    from retaguarda.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        dunning_run(
            actor=es.actor, company=es.company, as_of=datetime.date.today() + datetime.timedelta(days=1), preview=True
        )
    assert list(info.value.fields) == ["as_of"]
    assert not DunningRun.objects.exists()
