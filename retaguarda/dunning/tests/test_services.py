"""Dunning services: a preview writes only its run, and sending it works it out again; promises
to pay pause and resume; writing off a bad debt; the procedure's levels and the late-charge
settings; e-mail outcomes; the daily task and the command; permissions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from retaguarda.billing.models import Invoice
from retaguarda.collections.testing import payment_build
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Deviation, OutboxEvent
from retaguarda.core.testing import actor_build
from retaguarda.dunning.choices import ChargeBooking
from retaguarda.dunning.deviations import DEVIATION_LEGAL_HANDOVER
from retaguarda.dunning.models import (
    CustomerBlock,
    DunningLetter,
    DunningLevel,
    DunningRun,
    DunningState,
    LateChargeSettings,
    PaymentPromise,
)
from retaguarda.dunning.services import (
    dunning_level_delete,
    dunning_level_save,
    dunning_run,
    dunning_run_send,
    invoice_write_off,
    late_charge_settings_update,
    promise_cancel,
    promise_register,
)
from retaguarda.dunning.tasks import dunning_daily, next_daily_start
from retaguarda.dunning.testing import dunning_customer, overdue_invoice
from retaguarda.ledger.models import JournalLine, Reconciliation

from .conftest import day, entry_lines, everything


def letter_figures(run) -> list[tuple]:
    return [
        (letter.party_id, letter.letter, str(letter.fee), str(letter.interest), str(letter.total_due))
        for letter in DunningLetter.objects.filter(run=run).order_by("pk")
    ]


def settings_of(company, **changes) -> dict:
    row = LateChargeSettings.objects.get(company=company)
    values = {
        "rule": row.rule,
        "fine_percent": row.fine_percent,
        "monthly_interest_percent": row.monthly_interest_percent,
        "annual_interest_percent": row.annual_interest_percent,
        "fixed_compensation": row.fixed_compensation,
        "booking": row.booking,
        "payment_days": row.payment_days,
    }
    return {**values, **changes}


# --- defaults -----------------------------------------------------------------------------------


def test_the_default_procedure_and_charges_per_country(es, br):
    for shop, rule in ((es, "ES"), (br, "BR")):
        levels = DunningLevel.objects.filter(company=shop.company).order_by("days_overdue")
        assert [
            (lv.sequence, lv.days_overdue, lv.letter, lv.charge_interest, lv.block_customer, lv.handover_legal)
            for lv in levels
        ] == [
            (1, 7, "reminder", False, False, False),
            (2, 21, "second_notice", True, False, False),
            (3, 45, "final_notice", True, True, False),
            (4, 60, "legal_handover", True, True, True),
        ]
        settings = LateChargeSettings.objects.get(company=shop.company)
        assert settings.rule == rule
    es_settings = LateChargeSettings.objects.get(company=es.company)
    br_settings = LateChargeSettings.objects.get(company=br.company)
    assert (es_settings.annual_interest_percent, str(es_settings.fixed_compensation)) == (None, "40.00")
    assert (str(br_settings.fine_percent), str(br_settings.monthly_interest_percent)) == ("2.0000", "1.0000")


# --- preview and send ---------------------------------------------------------------------------


def test_a_preview_writes_only_its_run_and_letters(es, django_capture_on_commit_callbacks):
    dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=False)
    before = everything(es.company)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=True)

    after = everything(es.company)
    assert (run.status, run.letter_count, run.totals) == (
        "preview",
        1,
        {"EUR": {"open": "1210.00", "fees": "40.00", "interest": "7.07", "due": "1257.07"}},
    )
    letter = DunningLetter.objects.get(run=run)
    assert (letter.email_status, letter.entry_id, letter.sent_at) == ("preview", None, None)
    assert {k: v for k, v in after.items() if k not in ("runs", "letters")} == {
        k: v for k, v in before.items() if k not in ("runs", "letters")
    }
    assert len(after["runs"]) == len(before["runs"]) + 1
    assert mail.outbox == []


def test_sending_a_preview_works_it_out_again(es, django_capture_on_commit_callbacks):
    preview = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=True)
    assert letter_figures(preview) == [(es.customer.pk, "second_notice", "40.00", "7.07", "1257.07")]
    # A partial payment comes in before the preview is sent: the letter is for what is still open.
    payment_build(es.company, party=es.customer, amount="210.00", allocations=[(es.invoice, "210.00")], date=day(21))

    with django_capture_on_commit_callbacks(execute=True):
        sent = dunning_run_send(actor=es.actor, run_id=preview.pk)

    # 1000.00 × 10.15 % × 21/365 = 5.84
    assert (sent.pk, sent.status) == (preview.pk, "sent")
    assert letter_figures(sent) == [(es.customer.pk, "second_notice", "40.00", "5.84", "1045.84")]
    assert DunningLetter.objects.get(run=sent).email_status == "sent"
    assert len(mail.outbox) == 1
    assert DunningState.objects.get(invoice=es.invoice).level_days == 21
    audit = AuditLog.objects.get(action="dunning.run.send", object_id=str(sent.pk))
    assert (audit.after["letters"], audit.after["as_of"]) == (1, "2026-02-25")

    before = everything(es.company)
    with pytest.raises(Conflict) as info:
        dunning_run_send(actor=es.actor, run_id=preview.pk)
    assert info.value.code == "run_sent"
    assert everything(es.company) == before


def test_a_preview_older_than_a_sent_run_cannot_be_sent(es):
    old = dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=True)
    dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)
    before = everything(es.company)

    with pytest.raises(Conflict) as info:
        dunning_run_send(actor=es.actor, run_id=old.pk)

    assert info.value.code == "run_out_of_order"
    assert everything(es.company) == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LEGAL, Role.SALES, Role.WAREHOUSE])
def test_only_finance_and_administrators_run_dunning(es, role):
    actor = actor_build(es.company, role)
    preview = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=True)
    before = everything(es.company)

    with pytest.raises(PermissionDenied):
        dunning_run(actor=actor, company=es.company, as_of=day(21), preview=False)
    with pytest.raises(PermissionDenied):
        dunning_run_send(actor=actor, run_id=preview.pk)
    with pytest.raises(PermissionDenied):
        invoice_write_off(actor=actor, invoice_id=es.invoice.pk, reason="Insolvent")
    with pytest.raises(PermissionDenied):
        promise_register(actor=actor, invoice_id=es.invoice.pk, promised_date=day(30), amount="100.00")

    assert everything(es.company) == before


def test_another_companys_run_is_not_found(es, br):
    preview = dunning_run(actor=br.actor, company=br.company, as_of=day(21), preview=True)
    with pytest.raises(NotFound):
        dunning_run_send(actor=es.actor, run_id=preview.pk)
    with pytest.raises(NotFound):
        dunning_run(actor=es.actor, company=br.company, as_of=day(21), preview=True)
    assert DunningRun.objects.get(pk=preview.pk).status == "preview"


# --- promises to pay ----------------------------------------------------------------------------


def test_a_promise_pauses_dunning_and_a_broken_one_resumes_it(es):
    promise = promise_register(
        actor=es.actor, invoice_id=es.invoice.pk, promised_date=day(25), amount="1210.00", note="Pays on the 25th"
    )
    for n in (7, 21, 25):
        run = dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)
        assert run.letter_count == 0
    state = DunningState.objects.get(invoice=es.invoice)
    assert (state.level_days, state.paused_until, state.overdue_since) == (0, day(25), day(7))
    assert PaymentPromise.objects.get(pk=promise.pk).status == "open"

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(26), preview=False)

    promise.refresh_from_db()
    assert (promise.status, promise.resolved_at) == ("broken", day(26))
    # Straight to the level its 26 days reach; interest from the due date: 1210 × 10.15 % × 26/365.
    assert letter_figures(run) == [(es.customer.pk, "second_notice", "40.00", "8.75", "1258.75")]
    assert DunningState.objects.get(invoice=es.invoice).paused_until is None


def test_a_kept_promise_lets_dunning_go_on_for_the_rest(es):
    promise_register(actor=es.actor, invoice_id=es.invoice.pk, promised_date=day(25), amount="500.00")
    payment_build(es.company, party=es.customer, amount="500.00", allocations=[(es.invoice, "500.00")], date=day(20))

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)

    assert PaymentPromise.objects.get().status == "kept"
    # On the 710.00 still open: 710 × 10.15 % × 21/365 = 4.15.
    assert letter_figures(run) == [(es.customer.pk, "second_notice", "40.00", "4.15", "754.15")]


def test_a_promise_for_the_customer_covers_all_their_open_invoices(es):
    second = overdue_invoice(es.company, party=es.customer, net=Decimal("100.00"), due_date=day(3))
    promise = promise_register(actor=es.actor, party_id=es.customer.pk, promised_date=day(30), amount="1331.00")
    assert (promise.invoice_id, sorted(promise.invoice_ids), str(promise.open_at_promise)) == (
        None,
        sorted([es.invoice.pk, second.pk]),
        "1331.00",
    )
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False).letter_count == 0

    promise_cancel(actor=es.actor, promise_id=promise.pk)

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(22), preview=False)
    assert PaymentPromise.objects.get().status == "cancelled"
    assert [row["invoice_id"] for row in DunningLetter.objects.get(run=run).invoices] == [es.invoice.pk, second.pk]


def test_a_new_promise_replaces_the_open_one(es):
    first = promise_register(actor=es.actor, invoice_id=es.invoice.pk, promised_date=day(10), amount="100.00")
    second = promise_register(actor=es.actor, invoice_id=es.invoice.pk, promised_date=day(20), amount="200.00")
    assert list(PaymentPromise.objects.order_by("pk").values_list("pk", "status")) == [
        (first.pk, "cancelled"),
        (second.pk, "open"),
    ]


@pytest.mark.parametrize(
    "kwargs, fields",
    [
        ({"invoice_id": None, "promised_date": "2026-03-01", "amount": "10"}, ["invoice_id"]),
        ({"promised_date": "", "amount": "10"}, ["promised_date"]),
        ({"promised_date": "2026-03-01", "amount": "1210.01"}, ["amount"]),
        ({"promised_date": "2026-03-01", "amount": "0"}, ["amount"]),
        ({"promised_date": "01/03/2026", "amount": "-5"}, ["amount", "promised_date"]),
    ],
)
def test_a_bad_promise_is_refused_field_by_field(es, kwargs, fields):
    kwargs = {"invoice_id": es.invoice.pk, **kwargs}
    before = everything(es.company)
    with pytest.raises(ValidationFailed) as info:
        promise_register(actor=es.actor, **kwargs)
    assert sorted(info.value.fields) == fields
    assert everything(es.company) == before


def test_a_promise_on_a_paid_or_foreign_invoice_is_refused(es, br):
    with pytest.raises(NotFound):
        promise_register(actor=es.actor, invoice_id=br.invoice.pk, promised_date=day(30), amount="10.00")
    payment_build(es.company, party=es.customer, amount="1210.00", allocations=[(es.invoice, "1210.00")], date=day(1))
    with pytest.raises(Conflict) as info:
        promise_register(actor=es.actor, invoice_id=es.invoice.pk, promised_date=day(30), amount="10.00")
    assert info.value.code == "invoice_not_open"
    assert not PaymentPromise.objects.exists()


# --- write-off ----------------------------------------------------------------------------------


def test_writing_off_posts_bad_debt_matches_the_open_item_and_closes_the_invoice(es):
    for n in (7, 21, 45, 60):
        dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)
    payment_build(es.company, party=es.customer, amount="210.00", allocations=[(es.invoice, "210.00")], date=day(61))

    invoice = invoice_write_off(actor=es.actor, invoice_id=es.invoice.pk, reason="Customer insolvent", on_date=day(62))

    assert (str(invoice.residual), invoice.payment_status, invoice.paid_at) == ("0.00", "paid", day(62))
    state = DunningState.objects.get(invoice=invoice)
    assert (state.write_off_reason, state.written_off_at is not None) == ("Customer insolvent", True)
    entry = state.write_off_entry
    assert (entry.date, str(entry.total), entry.source_type) == (day(62), "1000.00", "dunning.write_off")
    assert entry_lines(entry) == [
        ("bad_debt", "1000.00", "0.00", None, None),
        ("receivable", "0.00", "1000.00", es.customer.pk, None),
    ]
    credit = JournalLine.objects.get(entry=entry, position=2)
    match = Reconciliation.objects.get(credit_line=credit)
    assert (match.debit_line_id, str(match.amount)) == (invoice.open_item_id, "1000.00")
    assert str(JournalLine.objects.get(pk=invoice.open_item_id).residual) == "0.00"
    assert str(credit.residual) == "0.00"
    assert AuditLog.objects.filter(action="invoice.write_off", object_id=str(invoice.pk)).count() == 1
    event = OutboxEvent.objects.get(name="invoice.written_off")
    assert (event.payload["written_off"], event.payload["reason"]) == ("1000.00", "Customer insolvent")
    # Nothing is overdue any more: the block lifts and legal's handover closes.
    es.customer.refresh_from_db()
    assert es.customer.blocked_reason == ""
    assert CustomerBlock.objects.get().lifted_at is not None
    assert Deviation.objects.get(kind=DEVIATION_LEGAL_HANDOVER).status == "closed"
    assert dunning_run(actor=es.actor, company=es.company, as_of=day(63), preview=False).letter_count == 0


def test_a_write_off_without_a_reason_or_of_a_paid_invoice_is_refused(es):
    before = everything(es.company)
    with pytest.raises(ValidationFailed) as info:
        invoice_write_off(actor=es.actor, invoice_id=es.invoice.pk, reason="  ")
    assert list(info.value.fields) == ["reason"]
    assert everything(es.company) == before

    payment_build(es.company, party=es.customer, amount="1210.00", allocations=[(es.invoice, "1210.00")], date=day(1))
    before = everything(es.company)
    with pytest.raises(Conflict):
        invoice_write_off(actor=es.actor, invoice_id=es.invoice.pk, reason="Insolvent")
    assert everything(es.company) == before


# --- the procedure and the settings -------------------------------------------------------------


def test_a_level_fee_is_charged_once_per_letter(es):
    second = DunningLevel.objects.get(company=es.company, days_overdue=21)
    dunning_level_save(
        actor=es.actor,
        level_id=second.pk,
        days_overdue=21,
        name=second.name,
        letter=second.letter,
        fee="5.00",
        charge_interest=True,
    )
    overdue_invoice(es.company, party=es.customer, net=Decimal("100.00"), due_date=day(0))

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)

    # 5.00 for the letter, 40.00 per invoice; interest on 1210.00 (7.07) and 121.00 (0.71).
    letter = DunningLetter.objects.get(run=run)
    assert (str(letter.level_fee), str(letter.fee), str(letter.interest), str(letter.total_due)) == (
        "5.00",
        "85.00",
        "7.78",
        "1423.78",
    )
    assert entry_lines(letter.entry)[0][1] == "92.78"


def test_levels_are_added_renumbered_and_removed(es):
    level = dunning_level_save(
        actor=es.actor, days_overdue=14, name="Phone call", letter="reminder", fee="0", charge_interest=False
    )
    assert list(DunningLevel.objects.filter(company=es.company).values_list("days_overdue", "sequence")) == [
        (7, 1),
        (14, 2),
        (21, 3),
        (45, 4),
        (60, 5),
    ]
    assert level.sequence == 2
    before = everything(es.company)
    with pytest.raises(ValidationFailed) as info:
        dunning_level_save(actor=es.actor, days_overdue=21, name="Twice", letter="reminder")
    assert list(info.value.fields) == ["days_overdue"]
    with pytest.raises(ValidationFailed) as info:
        dunning_level_save(actor=es.actor, days_overdue=0, name="", letter="poem", fee="-1")
    assert sorted(info.value.fields) == ["days_overdue", "fee", "letter", "name"]
    assert everything(es.company) == before

    dunning_level_delete(actor=es.actor, level_id=level.pk)

    assert list(DunningLevel.objects.filter(company=es.company).values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert list(
        AuditLog.objects.filter(action__startswith="dunning.level").order_by("pk").values_list("action", flat=True)
    ) == [
        "dunning.level.create",
        "dunning.level.delete",
    ]


def test_a_fixed_yearly_rate_replaces_spains_legal_rate(es):
    late_charge_settings_update(actor=es.actor, **settings_of(es.company, annual_interest_percent="8"))

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)

    # 1210.00 × 8 % × 21/365 = 5.57
    assert letter_figures(run) == [(es.customer.pk, "second_notice", "40.00", "5.57", "1255.57")]


def test_charges_kept_on_letters_only_are_not_posted(es):
    late_charge_settings_update(actor=es.actor, **settings_of(es.company, booking=ChargeBooking.LETTER_ONLY))
    entries = JournalLine.objects.filter(company=es.company).count()

    dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=False)
    run = dunning_run(actor=es.actor, company=es.company, as_of=day(45), preview=False)

    letter = DunningLetter.objects.get(run=run)
    assert (letter.entry_id, str(letter.earlier_charges), str(letter.total_due)) == (None, "47.07", "1265.14")
    assert JournalLine.objects.filter(company=es.company).count() == entries


def test_no_late_charges_rule(br):
    late_charge_settings_update(actor=br.actor, **settings_of(br.company, rule="none"))
    run = dunning_run(actor=br.actor, company=br.company, as_of=day(21), preview=False)
    assert letter_figures(run) == [(br.customer.pk, "second_notice", "0.00", "0.00", "1000.00")]
    assert DunningLetter.objects.get(run=run).entry_id is None


def test_bad_settings_are_refused_field_by_field(es):
    before = everything(es.company)
    with pytest.raises(ValidationFailed) as info:
        late_charge_settings_update(
            actor=es.actor,
            rule="XX",
            fine_percent="101",
            monthly_interest_percent="-1",
            annual_interest_percent="abc",
            fixed_compensation="1.234",
            booking="never",
            payment_days="400",
        )
    assert sorted(info.value.fields) == [
        "annual_interest_percent",
        "booking",
        "fine_percent",
        "fixed_compensation",
        "monthly_interest_percent",
        "payment_days",
        "rule",
    ]
    assert everything(es.company) == before
    with pytest.raises(PermissionDenied):
        late_charge_settings_update(actor=actor_build(es.company, Role.MANAGER), **settings_of(es.company))


# --- e-mails ------------------------------------------------------------------------------------


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise OSError("connection refused")


def test_letters_without_an_address_are_for_print_and_failures_are_recorded(es, django_capture_on_commit_callbacks):
    silent = dunning_customer(es.company, language="en", email=None, legal_name="No Mail Ltd")
    overdue_invoice(es.company, party=silent, net=Decimal("10.00"), due_date=day(0))

    with override_settings(EMAIL_BACKEND="retaguarda.dunning.tests.test_services.FailingBackend"):
        with django_capture_on_commit_callbacks(execute=True):
            run = dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=False)

    outcomes = {
        letter.party_id: (letter.email_status, letter.email_error, letter.sent_at)
        for letter in DunningLetter.objects.filter(run=run)
    }
    assert outcomes == {
        es.customer.pk: ("failed", "connection refused", None),
        silent.pk: ("no_address", "", None),
    }
    assert DunningLetter.objects.get(run=run, party=silent).language == "en"


# --- the worker and the command -----------------------------------------------------------------


def test_the_daily_task_runs_today_and_queues_tomorrow(br, mailoutbox):
    result = dunning_daily.call(company_id=br.company.pk)

    run = DunningRun.objects.get(pk=result["run_id"])
    assert (run.as_of, run.status, run.letter_count) == (datetime.date.today(), "sent", 1)
    queued = DBTaskResult.objects.get(task_path=dunning_daily.module_path)
    assert (queued.args_kwargs["kwargs"], queued.run_after) == ({"company_id": br.company.pk}, next_daily_start())

    dunning_daily.call(company_id=br.company.pk)

    assert DBTaskResult.objects.filter(task_path=dunning_daily.module_path).count() == 1


def test_the_command_runs_previews_and_schedules(br, capsys):
    call_command("dunning_run", "--company", str(br.company.pk), "--as-of", day(21).isoformat(), "--preview")
    assert DunningRun.objects.get().status == "preview"
    call_command("dunning_run", "--company", str(br.company.pk), "--as-of", day(21).isoformat())
    assert list(DunningRun.objects.order_by("pk").values_list("status", flat=True)) == ["preview", "sent"]
    call_command("dunning_run", "--company", str(br.company.pk), "--schedule")
    out = capsys.readouterr().out
    assert f"company {br.company.pk}: run" in out and "daily run queued" in out
    assert DBTaskResult.objects.filter(task_path=dunning_daily.module_path).count() == 1
    assert Invoice.objects.get(pk=br.invoice.pk).residual == Decimal("1000.00")


# --- cost -----------------------------------------------------------------------------------------


def _preview_queries(shop, customers: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(customers):
        party = dunning_customer(shop.company, language="es", legal_name=f"Cliente {n} SL")
        for due in (day(0), day(10)):
            overdue_invoice(shop.company, party=party, net=Decimal("50.00"), due_date=due)
    with CaptureQueriesContext(connection) as queries:
        run = dunning_run(actor=shop.actor, company=shop.company, as_of=day(21), preview=True)
    assert run.letter_count == customers + 1
    return len(queries)


def test_a_preview_reads_a_fixed_number_of_queries_whatever_the_customers(db):
    from .conftest import _shop

    few = _preview_queries(_shop("ES", "es", "Uno SL"), 1)
    many = _preview_queries(_shop("ES", "es", "Dos SL"), 6)
    assert few == many


def test_names_are_written_as_they_are_in_the_e_mail_and_escaped_once_in_the_letter(es):
    from retaguarda.dunning.letters import letter_html

    party = dunning_customer(es.company, language="en", legal_name="Pérez & Hijos <SL>")
    overdue_invoice(es.company, party=party, net=Decimal("10.00"), due_date=day(0))

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=True)

    letter = DunningLetter.objects.get(run=run, party=party)
    assert letter.body.startswith("Dear Pérez & Hijos <SL>,\n")
    html = letter_html(letter)
    assert "<p>Dear Pérez &amp; Hijos &lt;SL&gt;,</p>" in html
