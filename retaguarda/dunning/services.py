"""The writers of dunning: the default procedure and late-charge settings, the dunning run
(preview and send), the block on new orders and its lifting, promises to pay, and writing an
invoice off as a bad debt.

A run reads every overdue customer invoice of the company once, decides in memory which level
each reaches and which letters go out, and writes with a fixed number of queries per kind of row
(plus one posting per letter that charges, and one event per invoice that changed).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from retaguarda.billing.choices import InvoiceKind, InvoiceStatus
from retaguarda.billing.models import Invoice
from retaguarda.billing.services import invoice_payload, invoice_settle
from retaguarda.collections.calculations import LateChargeRule, late_charges
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import round_money
from retaguarda.common.inputs import date_in, decimal_in, text_in, valid_id
from retaguarda.core.choices import OPEN_DEVIATION_STATUSES
from retaguarda.core.deviations import deviation_clear, deviation_raise
from retaguarda.core.models import Company, Deviation
from retaguarda.core.permissions import Actor, require, system_actor
from retaguarda.core.services import audit_record, event_emit
from retaguarda.ledger.choices import AccountRole, JournalKind
from retaguarda.ledger.models import JournalLine
from retaguarda.ledger.services import LineSpec, accounts_by_role, entry_post, rate_for, reconcile
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_payload

from .calculations import ZERO, Charges, charges_due, days_overdue, level_advanced, promise_kept
from .choices import ChargeBooking, ChargeRule, EmailStatus, LetterKind, PromiseStatus, RunStatus
from .deviations import DEVIATION_LEGAL_HANDOVER
from .letters import letter_email, letter_language, letter_texts
from .models import (
    PERCENT_SCALE,
    CustomerBlock,
    DunningLetter,
    DunningLevel,
    DunningProcedure,
    DunningRun,
    DunningState,
    LateChargeSettings,
    PaymentPromise,
)

LETTER_SOURCE = "dunning.letter"
WRITE_OFF_SOURCE = "dunning.write_off"
DAYS_MAX = 3650
AMOUNT_MAX = Decimal("999999999.99")
PERCENT_MAX = Decimal(100)

# (days overdue, name, letter, late charges, block new orders, hand over to legal)
DEFAULT_LEVELS = (
    (7, "Friendly reminder", LetterKind.REMINDER, False, False, False),
    (21, "Second notice", LetterKind.SECOND_NOTICE, True, False, False),
    (45, "Final notice", LetterKind.FINAL_NOTICE, True, True, False),
    (60, "Handover to legal", LetterKind.LEGAL_HANDOVER, True, True, True),
)


def _default_level_name(key: str) -> str:
    # Listed so that the catalogue holds them; installed in the company's language.
    names = {
        "Friendly reminder": _("Friendly reminder"),
        "Second notice": _("Second notice"),
        "Final notice": _("Final notice"),
        "Handover to legal": _("Handover to legal"),
    }
    return names[key]


# Per country: Brazil's 2 % fine and 1 % a month pro rata; Spain's legal late-payment interest
# of each half-year and 40.00 EUR per invoice; elsewhere nothing until the company sets it.
DEFAULT_SETTINGS = {
    "BR": {"rule": ChargeRule.BR, "fine_percent": Decimal(2), "monthly_interest_percent": Decimal(1)},
    "ES": {"rule": ChargeRule.ES, "annual_interest_percent": None, "fixed_compensation": Decimal("40.00")},
}


def _user(actor: Actor | None):
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


def _same_company(actor: Actor, company: Company) -> None:
    if company is None or company.pk != actor.company.pk:
        raise NotFound(_("No such company."))


def _money_text(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


# --- defaults and settings --------------------------------------------------------------------


def dunning_defaults_install(*, company: Company) -> DunningProcedure:
    """The company's default procedure, installed with the late-charge settings of its country on
    first use: a friendly reminder at 7 days, a second notice with late charges at 21, a final
    notice that blocks new orders at 45, and the handover to legal at 60. No permission: every
    dunning service calls it; it writes only configuration."""
    with transaction.atomic():
        defaults = DEFAULT_SETTINGS.get(company.country, {"rule": ChargeRule.NONE})
        LateChargeSettings.objects.get_or_create(company=company, defaults=defaults)
        procedure = DunningProcedure.objects.filter(company=company, is_default=True).first()
        if procedure is not None:
            return procedure
        with translation.override(company.default_language):
            try:
                with transaction.atomic():
                    procedure = DunningProcedure.objects.create(company=company, name=_("Standard"), is_default=True)
            except IntegrityError:  # a concurrent first use installed it
                return DunningProcedure.objects.get(company=company, is_default=True)
            DunningLevel.objects.bulk_create(
                [
                    DunningLevel(
                        company=company,
                        procedure=procedure,
                        sequence=n,
                        days_overdue=days,
                        name=_default_level_name(name),
                        letter=letter,
                        charge_interest=charges,
                        block_customer=blocks,
                        handover_legal=legal,
                    )
                    for n, (days, name, letter, charges, blocks, legal) in enumerate(DEFAULT_LEVELS, start=1)
                ]
            )
    return procedure


def _settings_locked(company: Company) -> LateChargeSettings:
    """The company's settings row, locked: it serialises the company's runs."""
    dunning_defaults_install(company=company)
    return LateChargeSettings.objects.select_for_update().get(company=company)


def charge_rule(settings: LateChargeSettings) -> LateChargeRule | None:
    """The collections rule that computes the company's late charges, or None for none."""
    if settings.rule == ChargeRule.NONE:
        return None
    semester_rates = None
    if settings.rule == ChargeRule.ES and settings.annual_interest_percent is None:
        from retaguarda.collections.calculations import ES_LATE_PAYMENT_RATES

        semester_rates = ES_LATE_PAYMENT_RATES
    return LateChargeRule(
        country=settings.rule,
        fine_percent=settings.fine_percent,
        monthly_interest_percent=settings.monthly_interest_percent,
        annual_interest_percent=settings.annual_interest_percent,
        semester_rates=semester_rates,
        fixed_compensation=settings.fixed_compensation,
    )


def _accrued(rule: LateChargeRule, amount: Decimal, due_date: datetime.date, as_of: datetime.date | None) -> Charges:
    if as_of is None or as_of <= due_date:
        return Charges()
    result = late_charges(rule=rule, amount=amount, due_date=due_date, as_of=as_of)
    return Charges(fine=result.fine, compensation=result.compensation, interest=result.interest)


def _percent(errors: dict, name: str, value, *, optional: bool = False) -> Decimal | None:
    if optional and value in (None, ""):
        return None
    try:
        return decimal_in(value, name, places=PERCENT_SCALE, minimum=Decimal(0), maximum=PERCENT_MAX)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return None


@transaction.atomic
def late_charge_settings_update(
    *,
    actor: Actor,
    rule: str,
    fine_percent,
    monthly_interest_percent,
    annual_interest_percent,
    fixed_compensation,
    booking: str,
    payment_days,
) -> LateChargeSettings:
    """Change how the company charges late payment. `annual_interest_percent` blank under
    Spain's rule means the legal rate of each half-year."""
    require(actor, "dunning.run")
    settings = _settings_locked(actor.company)
    errors: dict[str, list[str]] = {}
    if rule not in ChargeRule.values:
        errors["rule"] = [_("Choose a rule.")]
    if booking not in ChargeBooking.values:
        errors["booking"] = [_("Choose how late charges are kept.")]
    fine = _percent(errors, "fine_percent", fine_percent)
    monthly = _percent(errors, "monthly_interest_percent", monthly_interest_percent)
    annual = _percent(errors, "annual_interest_percent", annual_interest_percent, optional=True)
    try:
        compensation = decimal_in(fixed_compensation, "fixed_compensation", places=2, minimum=ZERO, maximum=AMOUNT_MAX)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        days = int(str(payment_days).strip()) if not isinstance(payment_days, bool) else None
    except ValueError:
        days = None
    if days is None or not 0 <= days <= 365:
        errors["payment_days"] = [_("Enter a number of days from 0 to 365.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    fields = (
        "rule",
        "fine_percent",
        "monthly_interest_percent",
        "annual_interest_percent",
        "fixed_compensation",
        "booking",
        "payment_days",
    )
    before = {name: getattr(settings, name) for name in fields}
    settings.rule, settings.booking, settings.payment_days = rule, booking, days
    settings.fine_percent, settings.monthly_interest_percent = fine, monthly
    settings.annual_interest_percent, settings.fixed_compensation = annual, compensation
    settings.save()
    after = {name: getattr(settings, name) for name in fields}
    audit_record(
        actor=actor,
        company=actor.company,
        obj=settings,
        action="dunning.settings.update",
        before=before,
        after=after,
    )
    return settings


# --- the procedure's levels -------------------------------------------------------------------


def _level_input(errors: dict, *, days_overdue, name, letter, fee) -> tuple[int | None, str, str, Decimal | None]:
    days = valid_id(days_overdue)
    if days is None or days > DAYS_MAX:
        errors["days_overdue"] = [_("Enter a number of days from 1 to %(max)s.") % {"max": DAYS_MAX}]
    try:
        name = text_in(name, "name", 100, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        name = ""
    if letter not in LetterKind.values:
        errors["letter"] = [_("Choose a letter.")]
    try:
        fee = decimal_in(fee if fee not in (None, "") else "0", "fee", places=2, minimum=ZERO, maximum=AMOUNT_MAX)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        fee = None
    return days, name, letter, fee


def _levels_renumber(procedure: DunningProcedure) -> None:
    levels = list(DunningLevel.objects.filter(procedure=procedure).order_by("days_overdue", "pk"))
    for n, level in enumerate(levels, start=1):
        level.sequence = n
    DunningLevel.objects.bulk_update(levels, ["sequence"])


LEVEL_FIELDS = ("days_overdue", "name", "letter", "fee", "charge_interest", "block_customer", "handover_legal")


@transaction.atomic
def dunning_level_save(
    *,
    actor: Actor,
    level_id=None,
    days_overdue,
    name: str,
    letter: str,
    fee=ZERO,
    charge_interest: bool = False,
    block_customer: bool = False,
    handover_legal: bool = False,
) -> DunningLevel:
    """Add a level to the company's default procedure (no `level_id`) or change one. Levels are
    numbered in the order of their days overdue; two levels cannot share a number of days."""
    require(actor, "dunning.run")
    company = actor.company
    _settings_locked(company)
    procedure = DunningProcedure.objects.get(company=company, is_default=True)
    level = None
    if level_id is not None:
        pk = valid_id(level_id)
        level = DunningLevel.objects.filter(procedure=procedure, pk=pk).first() if pk else None
        if level is None:
            raise NotFound(_("No such dunning level."))
    errors: dict[str, list[str]] = {}
    days, name, letter, fee = _level_input(errors, days_overdue=days_overdue, name=name, letter=letter, fee=fee)
    if (
        days
        and DunningLevel.objects.filter(procedure=procedure, days_overdue=days)
        .exclude(pk=getattr(level, "pk", None))
        .exists()
    ):
        errors["days_overdue"] = [_("Another level starts at this number of days.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    before = {f: getattr(level, f) for f in LEVEL_FIELDS} if level else None
    if level is None:
        level = DunningLevel(company=company, procedure=procedure, sequence=0)
    level.days_overdue, level.name, level.letter, level.fee = days, name, letter, fee
    level.charge_interest = bool(charge_interest)
    level.block_customer = bool(block_customer)
    level.handover_legal = bool(handover_legal)
    level.save()
    _levels_renumber(procedure)
    level.refresh_from_db(fields=["sequence"])
    audit_record(
        actor=actor,
        company=company,
        obj=level,
        action="dunning.level.update" if before else "dunning.level.create",
        before=before,
        after={f: getattr(level, f) for f in LEVEL_FIELDS},
    )
    return level


@transaction.atomic
def dunning_level_delete(*, actor: Actor, level_id) -> None:
    """Remove a level of the default procedure; invoices that reached it keep their threshold,
    so they never fall back to an earlier letter."""
    require(actor, "dunning.run")
    _settings_locked(actor.company)
    pk = valid_id(level_id)
    level = (
        DunningLevel.objects.filter(company=actor.company, procedure__is_default=True, pk=pk).first() if pk else None
    )
    if level is None:
        raise NotFound(_("No such dunning level."))
    audit_record(
        actor=actor,
        company=actor.company,
        obj=level,
        action="dunning.level.delete",
        before={f: getattr(level, f) for f in LEVEL_FIELDS},
    )
    procedure = level.procedure
    level.delete()
    _levels_renumber(procedure)


# --- the plan of a run ------------------------------------------------------------------------


@dataclass
class _Item:
    """One overdue invoice in a run."""

    invoice: Invoice
    state: DunningState | None
    days: int
    level: DunningLevel | None = None
    changed: bool = False
    paused_until: datetime.date | None = None
    charges: Charges = field(default_factory=Charges)
    # The letter charged late charges on it (so its interest is counted up to the run's date).
    charged: bool = False
    letter: DunningLetter | None = None

    @property
    def first_overdue(self) -> bool:
        return self.state is None or self.state.overdue_since is None


@dataclass
class _LetterPlan:
    party: Party
    currency: str
    level: DunningLevel
    items: list[_Item]


@dataclass
class _Plan:
    as_of: datetime.date
    items: list[_Item]
    letters: list[_LetterPlan]
    promises: list[tuple[PaymentPromise, str]]  # (promise, its new status)


def _open_customer_invoices(company_id: int):
    return Invoice.objects.filter(
        company_id=company_id, kind=InvoiceKind.CUSTOMER_INVOICE, status=InvoiceStatus.POSTED, residual__gt=0
    )


def _promises_resolve(company: Company, as_of: datetime.date) -> tuple[list[tuple[PaymentPromise, str]], dict]:
    """Which open promises are kept or broken as of `as_of`, and until when each invoice is paused."""
    promises = list(PaymentPromise.objects.filter(company=company, status=PromiseStatus.OPEN).order_by("pk"))
    ids = {i for p in promises for i in p.invoice_ids}
    residuals = dict(Invoice.objects.filter(company=company, pk__in=ids).values_list("pk", "residual"))
    changes, paused = [], {}
    for promise in promises:
        open_now = sum((residuals.get(i, ZERO) for i in promise.invoice_ids), ZERO)
        if promise_kept(open_at_promise=promise.open_at_promise, open_now=open_now, amount=promise.amount):
            changes.append((promise, PromiseStatus.KEPT))
        elif as_of > promise.promised_date:
            changes.append((promise, PromiseStatus.BROKEN))
        else:
            for invoice_id in promise.invoice_ids:
                paused[invoice_id] = max(paused.get(invoice_id, promise.promised_date), promise.promised_date)
    return changes, paused


def _plan(company: Company, settings: LateChargeSettings, as_of: datetime.date) -> _Plan:
    procedure = DunningProcedure.objects.get(company=company, is_default=True)
    levels = list(DunningLevel.objects.filter(procedure=procedure).order_by("days_overdue"))
    promise_changes, paused = _promises_resolve(company, as_of)
    invoices = list(
        _open_customer_invoices(company.pk)
        .filter(due_date__lt=as_of)
        .select_related("party")
        .order_by("party_id", "currency", "due_date", "pk")
    )
    states = {
        s.invoice_id: s
        for s in DunningState.objects.filter(
            company=company,
            invoice__status=InvoiceStatus.POSTED,
            invoice__residual__gt=0,
            invoice__due_date__lt=as_of,
        )
    }
    items: list[_Item] = []
    groups: dict[tuple[int, str], list[_Item]] = {}
    for invoice in invoices:
        state = states.get(invoice.pk)
        item = _Item(invoice=invoice, state=state, days=days_overdue(invoice.due_date, as_of))
        items.append(item)
        if state is not None and state.written_off_at is not None:
            continue
        if invoice.pk in paused:
            item.paused_until = paused[invoice.pk]
            continue
        current_days = state.level_days if state else 0
        current = next((lv for lv in levels if state and lv.pk == state.level_id), None)
        item.level, item.changed = level_advanced(levels, current=current, current_days=current_days, days=item.days)
        if item.level is not None:
            groups.setdefault((invoice.party_id, invoice.currency), []).append(item)
    rule = charge_rule(settings)
    letters = []
    for (_party_id, currency), group in groups.items():
        if not any(item.changed for item in group):
            continue  # nothing moved up: this customer was already told
        level = max((item.level for item in group), key=lambda lv: lv.days_overdue)
        for item in group:
            # Each invoice is charged by its own level: one just reminded of is not charged yet,
            # even on a letter whose other invoices are.
            if item.level.charge_interest and rule is not None:
                state, invoice = item.state, item.invoice
                charged_until = state.interest_until if state else None
                item.charges = charges_due(
                    now=_accrued(rule, invoice.residual, invoice.due_date, as_of),
                    until_before=_accrued(rule, invoice.residual, invoice.due_date, charged_until),
                    fine_charged=state.charged_fine if state else ZERO,
                    compensation_charged=state.charged_compensation if state else ZERO,
                )
                item.charged = True
        letters.append(_LetterPlan(party=group[0].invoice.party, currency=currency, level=level, items=group))
    return _Plan(as_of=as_of, items=items, letters=letters, promises=promise_changes)


def _earlier_charges(company: Company, settings: LateChargeSettings, plans: list[_LetterPlan]) -> dict:
    """Per (party id, currency): what earlier letters charged that is still unpaid. Posted
    charges are open items of the receivable (their foreign amount in proportion to what is
    open); charges kept on letters only are what the listed invoices were charged so far."""
    earlier: dict[tuple[int, str], Decimal] = {}
    if settings.booking == ChargeBooking.LETTER_ONLY:
        for plan in plans:
            states = [item.state for item in plan.items if item.state is not None]
            earlier[(plan.party.pk, plan.currency)] = sum(
                (s.charged_fine + s.charged_compensation + s.charged_interest for s in states), ZERO
            )
        return earlier
    lines = JournalLine.objects.filter(
        company=company,
        party_id__in={plan.party.pk for plan in plans},
        account__role=AccountRole.RECEIVABLE,
        entry__source_type=LETTER_SOURCE,
        residual__gt=0,
    ).values_list("party_id", "currency", "debit", "residual", "amount_currency")
    for party_id, currency, debit, residual, amount_currency in lines:
        if currency and amount_currency is not None:
            open_amount = round_money(amount_currency * residual / debit)
        else:
            currency, open_amount = company.base_currency, residual
        key = (party_id, currency)
        earlier[key] = earlier.get(key, ZERO) + open_amount
    return earlier


def _letter_build(
    run: DunningRun, plan: _LetterPlan, settings: LateChargeSettings, *, preview: bool, earlier: Decimal
) -> DunningLetter:
    company, party, level = run.company, plan.party, plan.level
    rows = []
    for item in plan.items:
        invoice = item.invoice
        rows.append(
            {
                "invoice_id": invoice.pk,
                "number": invoice.number,
                "issue_date": invoice.issue_date.isoformat(),
                "due_date": invoice.due_date.isoformat(),
                "days_overdue": item.days,
                "residual": str(invoice.residual),
                "level": item.level.sequence,
                "level_name": item.level.name,
                "fine": str(item.charges.fine),
                "compensation": str(item.charges.compensation),
                "interest": str(item.charges.interest),
            }
        )
    open_total = sum((item.invoice.residual for item in plan.items), ZERO)
    level_fee = level.fee
    fee = level_fee + sum((item.charges.fixed for item in plan.items), ZERO)
    interest = sum((item.charges.interest for item in plan.items), ZERO)
    if preview:
        email_status = EmailStatus.PREVIEW
    else:
        email_status = EmailStatus.PENDING if party.email else EmailStatus.NO_ADDRESS
    letter = DunningLetter(
        company=company,
        run=run,
        party=party,
        level=level,
        level_name=level.name,
        letter=level.letter,
        currency=plan.currency,
        language=letter_language(party, company),
        invoices=rows,
        open_total=open_total,
        level_fee=level_fee,
        fee=fee,
        interest=interest,
        earlier_charges=earlier,
        total_due=open_total + earlier + fee + interest,
        pay_by=run.as_of + datetime.timedelta(days=settings.payment_days),
        blocks_orders=level.block_customer,
        email_to=party.email,
        email_status=email_status,
    )
    letter.subject, letter.body = letter_texts(letter, company=company, party=party)
    return letter


def _totals(letters: Iterable[DunningLetter]) -> dict:
    totals: dict[str, dict[str, Decimal]] = {}
    for letter in letters:
        row = totals.setdefault(letter.currency, {"open": ZERO, "fees": ZERO, "interest": ZERO, "due": ZERO})
        row["open"] += letter.open_total
        row["fees"] += letter.fee
        row["interest"] += letter.interest
        row["due"] += letter.total_due
    return {currency: {k: str(v) for k, v in row.items()} for currency, row in sorted(totals.items())}


def _letters_create(letters: list[DunningLetter]) -> list[DunningLetter]:
    created = DunningLetter.objects.bulk_create(letters)
    if any(letter.pk is None for letter in created):  # a backend that returns no ids from bulk inserts
        by_key = {(row.party_id, row.currency): row for row in DunningLetter.objects.filter(run=letters[0].run)}
        created = [by_key[(letter.party_id, letter.currency)] for letter in letters]
    return created


# --- the run ------------------------------------------------------------------------------------


def _as_of(value) -> datetime.date:
    today = timezone.localdate()
    as_of = date_in(value, "as_of") or today
    if as_of > today:
        raise ValidationFailed(
            _("A run cannot be dated in the future."), fields={"as_of": [_("Enter today or an earlier date.")]}
        )
    return as_of


def _refuse_out_of_order(company: Company, as_of: datetime.date) -> None:
    last = (
        DunningRun.objects.filter(company=company, status=RunStatus.SENT)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    if last is not None and as_of < last:
        raise Conflict(
            _("A run as of %(date)s was already sent: runs cannot go back in time.") % {"date": last.isoformat()},
            code="run_out_of_order",
            fields={"as_of": [_("Enter %(date)s or a later date.") % {"date": last.isoformat()}]},
        )


@transaction.atomic
def dunning_run(*, actor: Actor, company: Company, as_of=None, preview: bool = True) -> DunningRun:
    """Chase the company's overdue customer invoices as of `as_of` (default today).

    Each overdue invoice moves up to the highest level its days overdue reach (never down;
    invoices under an open promise to pay are paused), and each customer whose invoices moved
    gets one letter at the highest level among them, in their language, with the level's fee
    and the late charges accrued since the last letter. A preview records only the run and the
    letters that would go out. Otherwise the letters are e-mailed after commit, the charges
    posted (receivable / late-fee income) unless the company keeps them on the letter only,
    customers blocked or handed over to legal as their level says, blocks lifted where nothing
    is overdue any more, and `invoice.overdue` (once per invoice) and `dunning.level_changed`
    emitted.
    """
    require(actor, "dunning.run")
    _same_company(actor, company)
    as_of = _as_of(as_of)
    settings = _settings_locked(company)
    if not preview:
        _refuse_out_of_order(company, as_of)
    run = DunningRun.objects.create(company=company, as_of=as_of, status=RunStatus.PREVIEW, created_by=_user(actor))
    return _run_execute(actor, run, settings, preview=preview)


@transaction.atomic
def dunning_run_send(*, actor: Actor, run_id) -> DunningRun:
    """Send a previewed run: it is worked out again as of its date (payments may have come in
    since the preview), and its letters replaced by those that actually go out."""
    require(actor, "dunning.run")
    company = actor.company
    settings = _settings_locked(company)
    pk = valid_id(run_id)
    run = DunningRun.objects.select_for_update().filter(company=company, pk=pk).first() if pk else None
    if run is None:
        raise NotFound(_("No such dunning run."))
    if run.status != RunStatus.PREVIEW:
        raise Conflict(_("This run was already sent."), code="run_sent")
    _refuse_out_of_order(company, run.as_of)
    DunningLetter.objects.filter(run=run).delete()
    return _run_execute(actor, run, settings, preview=False)


def _run_execute(actor: Actor, run: DunningRun, settings: LateChargeSettings, *, preview: bool) -> DunningRun:
    company = run.company
    plan = _plan(company, settings, run.as_of)
    earlier = _earlier_charges(company, settings, plan.letters) if plan.letters else {}
    letters = [
        _letter_build(
            run, letter, settings, preview=preview, earlier=earlier.get((letter.party.pk, letter.currency), ZERO)
        )
        for letter in plan.letters
    ]
    run.letter_count = len(letters)
    run.invoice_count = sum(len(letter.items) for letter in plan.letters)
    run.blocked_count = sum(1 for letter in plan.letters if letter.level.block_customer)
    run.handover_count = sum(1 for letter in plan.letters if letter.level.handover_legal)
    run.totals = _totals(letters)
    if preview:
        _letters_create(letters)
        run.save(update_fields=["letter_count", "invoice_count", "blocked_count", "handover_count", "totals"])
        return run
    letters = _letters_create(letters) if letters else []
    for letter_plan, letter in zip(plan.letters, letters, strict=True):
        for item in letter_plan.items:
            item.letter = letter
        if settings.booking == ChargeBooking.POST and letter.charges > 0:
            letter.entry = _charges_post(actor, letter, letter_plan)
    if any(letter.entry_id for letter in letters):
        DunningLetter.objects.bulk_update([lt for lt in letters if lt.entry_id], ["entry"])
    _states_apply(run, plan)
    _promises_apply(actor, company, plan)
    _events_emit(company, run, plan)
    run.unblocked_count = _review(actor, company, run.as_of, parties=None)
    blocked = handed_over = 0
    for letter_plan, letter in zip(plan.letters, letters, strict=True):
        if letter_plan.level.block_customer and _block(actor, company, letter_plan, run):
            blocked += 1
        if letter_plan.level.handover_legal:
            _handover(company, letter_plan, letter)
            handed_over += 1
    run.blocked_count, run.handover_count = blocked, handed_over
    run.status, run.sent_at, run.sent_by = RunStatus.SENT, timezone.now(), _user(actor)
    run.save()
    audit_record(
        actor=actor,
        company=company,
        obj=run,
        action="dunning.run.send",
        after={
            "as_of": run.as_of,
            "letters": run.letter_count,
            "invoices": run.invoice_count,
            "blocked": run.blocked_count,
            "unblocked": run.unblocked_count,
            "handed_over": run.handover_count,
            "totals": run.totals,
        },
    )
    if any(letter.email_status == EmailStatus.PENDING for letter in letters):
        run_id = run.pk
        transaction.on_commit(lambda: dunning_letters_deliver(run_id=run_id))
    return run


def _charges_post(actor: Actor, letter: DunningLetter, plan: _LetterPlan):
    """The letter's fee and interest: debit the customer's receivable (due when the letter says
    to pay), credit late-fee income. Converted at the day's rate for a foreign currency."""
    company = letter.company
    roles = accounts_by_role(company.pk)
    receivable, income = roles.get(AccountRole.RECEIVABLE), roles.get(AccountRole.LATE_FEES)
    if receivable is None or income is None:
        raise Conflict(
            _("The chart of accounts needs a receivable and a late-fee income account to post late charges."),
            code="no_late_fee_account",
        )
    amount = letter.charges
    foreign = letter.currency != company.base_currency
    if foreign:
        try:
            rate = rate_for(company.pk, letter.currency, letter.run.as_of)
        except NotFound:
            rate = plan.items[0].invoice.rate
        base = round_money(amount * rate)
    else:
        base = amount
    with translation.override(company.default_language):
        description = _("Late charges: %(level)s, %(customer)s") % {
            "level": letter.level_name,
            "customer": letter.party,
        }
    description = description[:200]
    return entry_post(
        actor=actor,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=letter.run.as_of,
        lines=[
            LineSpec(
                account_id=receivable.pk,
                debit=base,
                party_id=letter.party_id,
                description=description,
                due_date=letter.pay_by,
                reference=f"DUN-{letter.pk}",
                currency=letter.currency if foreign else "",
                amount_currency=amount if foreign else None,
            ),
            LineSpec(account_id=income.pk, credit=base, description=description),
        ],
        reference=f"DUN-{letter.pk}",
        description=description,
        source_type=LETTER_SOURCE,
        source_id=str(letter.pk),
    )


def _states_apply(run: DunningRun, plan: _Plan) -> None:
    new, changed = [], []
    fields = [
        "level",
        "level_days",
        "level_name",
        "overdue_since",
        "last_run",
        "last_letter",
        "paused_until",
        "charged_fine",
        "charged_compensation",
        "charged_interest",
        "interest_until",
    ]
    for item in plan.items:
        state = item.state
        if state is not None and state.written_off_at is not None:
            continue
        if state is None:
            state = DunningState(company=run.company, invoice=item.invoice, party_id=item.invoice.party_id)
        if state.overdue_since is None:
            state.overdue_since = run.as_of
        state.paused_until = item.paused_until
        letter = item.letter
        if item.changed:
            state.level, state.level_days, state.level_name = item.level, item.level.days_overdue, item.level.name
        if letter is not None:
            state.last_letter, state.last_run = letter, run
            if item.charged:
                state.charged_fine += item.charges.fine
                state.charged_compensation += item.charges.compensation
                state.charged_interest += item.charges.interest
                if state.interest_until is None or state.interest_until < run.as_of:
                    state.interest_until = run.as_of
        (changed if state.pk else new).append(state)
    if new:
        DunningState.objects.bulk_create(new)
    if changed:
        DunningState.objects.bulk_update(changed, fields)


def _promises_apply(actor: Actor, company: Company, plan: _Plan) -> None:
    for promise, status in plan.promises:
        promise.status, promise.resolved_at = status, plan.as_of
        promise.save(update_fields=["status", "resolved_at"])
        audit_record(
            actor=actor,
            company=company,
            obj=promise,
            action=f"dunning.promise.{status}",
            before={"status": PromiseStatus.OPEN},
            after={"status": status, "resolved_at": plan.as_of},
        )


def _events_emit(company: Company, run: DunningRun, plan: _Plan) -> None:
    for item in plan.items:
        invoice = item.invoice
        if item.first_overdue and not (item.state and item.state.written_off_at):
            event_emit(
                company=company,
                name="invoice.overdue",
                obj=invoice,
                payload={**invoice_payload(invoice), "days_overdue": item.days, "as_of": run.as_of},
            )
        if item.changed:
            before = item.state.level_days if item.state else 0
            event_emit(
                company=company,
                name="dunning.level_changed",
                obj=invoice,
                payload={
                    "invoice_id": invoice.pk,
                    "number": invoice.number,
                    "party_id": invoice.party_id,
                    "from_days": before,
                    "level": item.level.sequence,
                    "level_name": item.level.name,
                    "days_overdue": item.days,
                    "letter_id": item.letter.pk if item.letter else None,
                    "run_id": run.pk,
                    "as_of": run.as_of,
                },
            )


def _blocked_reason(company: Company, level_name: str) -> str:
    with translation.override(company.default_language):
        return (_("Overdue invoices (%(level)s)") % {"level": level_name})[:200]


def _block(actor: Actor, company: Company, plan: _LetterPlan, run: DunningRun) -> bool:
    """Block the customer's new orders, unless dunning already did. A block set by hand stays
    as it is (its reason is not overwritten); dunning still records its own."""
    party = Party.objects.select_for_update().get(pk=plan.party.pk)
    if CustomerBlock.objects.filter(party=party, lifted_at__isnull=True).exists():
        return False
    reason = _blocked_reason(company, plan.level.name)
    CustomerBlock.objects.create(company=company, party=party, reason=reason, run=run)
    if not party.blocked_reason:
        party.blocked_reason = reason
        party.save(update_fields=["blocked_reason", "updated_at"])
        audit_record(
            actor=actor,
            company=company,
            obj=party,
            action="party.block",
            before={"blocked_reason": ""},
            after={"blocked_reason": reason},
        )
        event_emit(company=company, name="party.updated", obj=party, payload=party_payload(party))
    return True


def _handover(company: Company, plan: _LetterPlan, letter: DunningLetter) -> None:
    deviation_raise(
        company=company,
        kind=DEVIATION_LEGAL_HANDOVER,
        obj=plan.party,
        params={"customer": str(plan.party), "amount": _money_text(letter.total_due, letter.currency)},
    )


def _review(actor: Actor, company: Company, as_of: datetime.date, *, parties: list[int] | None) -> int:
    """Lift dunning's blocks (and close the legal handovers) of the customers among `parties`
    (None: all of them) with nothing overdue any more. Returns how many blocks were lifted."""
    blocks = CustomerBlock.objects.filter(company=company, lifted_at__isnull=True)
    handovers = Deviation.objects.filter(
        company=company,
        kind=DEVIATION_LEGAL_HANDOVER,
        object_type=Party._meta.label_lower,
        status__in=OPEN_DEVIATION_STATUSES,
    )
    if parties is not None:
        blocks = blocks.filter(party_id__in=parties)
        handovers = handovers.filter(object_id__in=[str(p) for p in parties])
    blocks = list(blocks.order_by("pk"))
    handover_ids = {int(pk) for pk in handovers.values_list("object_id", flat=True)}
    candidates = {b.party_id for b in blocks} | handover_ids
    if not candidates:
        return 0
    overdue = set(
        _open_customer_invoices(company.pk)
        .filter(party_id__in=candidates, due_date__lt=as_of)
        .values_list("party_id", flat=True)
    )
    lifted = 0
    for block in blocks:
        if block.party_id in overdue:
            continue
        party = Party.objects.select_for_update().get(pk=block.party_id)
        block.lifted_at = timezone.now()
        block.save(update_fields=["lifted_at"])
        lifted += 1
        if party.blocked_reason == block.reason:
            party.blocked_reason = ""
            party.save(update_fields=["blocked_reason", "updated_at"])
            audit_record(
                actor=actor,
                company=company,
                obj=party,
                action="party.unblock",
                before={"blocked_reason": block.reason},
                after={"blocked_reason": ""},
            )
            event_emit(company=company, name="party.updated", obj=party, payload=party_payload(party))
    for party_id in handover_ids - overdue:
        deviation_clear(
            company=company, kind=DEVIATION_LEGAL_HANDOVER, object_type=Party._meta.label_lower, object_id=party_id
        )
    return lifted


@transaction.atomic
def dunning_customer_review(*, company: Company, party_id: int, as_of=None) -> bool:
    """Lift the block dunning put on a customer once none of their invoices is overdue (and
    close its handover to legal). Payment services call it after settling invoices; it checks
    no permission. Returns whether a block was lifted."""
    as_of = date_in(as_of, "as_of") or timezone.localdate()
    return _review(system_actor(company), company, as_of, parties=[party_id]) > 0


def block_review_on_payment(invoice) -> None:
    """Billing's INVOICE_PAID_HOOKS: review the customer's block when one of their invoices is
    paid (one query when the customer is not blocked)."""
    if invoice.kind != "customer_invoice":
        return
    if Party.objects.filter(pk=invoice.party_id).exclude(blocked_reason="").exists():
        dunning_customer_review(company=invoice.company, party_id=invoice.party_id)


def dunning_letters_deliver(*, run_id: int) -> dict[str, int]:
    """E-mail the run's letters that wait to be sent. Each letter is claimed before its e-mail
    goes, so two deliveries never send it twice; a failure is recorded on the letter."""
    counts = {"sent": 0, "failed": 0}
    letters = DunningLetter.objects.filter(run_id=run_id, email_status=EmailStatus.PENDING).order_by("pk")
    for letter in letters:
        now = timezone.now()
        claimed = DunningLetter.objects.filter(pk=letter.pk, email_status=EmailStatus.PENDING).update(
            email_status=EmailStatus.SENT, sent_at=now
        )
        if not claimed:
            continue
        try:
            letter_email(letter).send(fail_silently=False)
        except Exception as exc:  # any transport failure: recorded, the other letters still go
            DunningLetter.objects.filter(pk=letter.pk).update(
                email_status=EmailStatus.FAILED, sent_at=None, email_error=str(exc)[:200]
            )
            counts["failed"] += 1
        else:
            counts["sent"] += 1
    return counts


def dunning_run_daily(*, company_id: int, as_of=None) -> DunningRun:
    """The worker's daily run of one company, as the system, sent at once."""
    company = Company.objects.get(pk=company_id)
    return dunning_run(actor=system_actor(company), company=company, as_of=as_of, preview=False)


# --- promises to pay ----------------------------------------------------------------------------


def _invoice_open(actor: Actor, invoice_id, *, lock: bool = False) -> Invoice:
    pk = valid_id(invoice_id)
    rows = Invoice.objects.filter(company=actor.company, kind=InvoiceKind.CUSTOMER_INVOICE, pk=pk or 0)
    if lock:
        rows = rows.select_for_update()
    invoice = rows.select_related("party").first() if pk else None
    if invoice is None:
        raise NotFound(_("No such invoice."))
    if invoice.status != InvoiceStatus.POSTED or invoice.residual <= 0:
        raise Conflict(
            _("Invoice %(number)s has nothing open.") % {"number": invoice.number or invoice.pk},
            code="invoice_not_open",
        )
    return invoice


@transaction.atomic
def promise_register(
    *, actor: Actor, invoice_id=None, party_id=None, promised_date, amount, note: str = ""
) -> PaymentPromise:
    """Record a customer's promise to pay `amount` by `promised_date`, for one invoice or (with
    `party_id`) for all their open invoices: their dunning pauses until then. The next run after
    the date finds it kept (the open amount fell by `amount`) or broken (dunning resumes). An
    open promise on the same invoice or customer is replaced."""
    require(actor, "dunning.run")
    company = actor.company
    _settings_locked(company)
    if (invoice_id in (None, "")) == (party_id in (None, "")):
        raise ValidationFailed(
            _("Name an invoice or a customer."), fields={"invoice_id": [_("Name an invoice or a customer.")]}
        )
    errors: dict[str, list[str]] = {}
    try:
        on_date = date_in(promised_date, "promised_date")
        if on_date is None:
            errors["promised_date"] = [_("This field is required.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
        on_date = None
    try:
        note = text_in(note, "note", 500, multiline=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if invoice_id not in (None, ""):
        invoice = _invoice_open(actor, invoice_id, lock=True)
        party, covered = invoice.party, [invoice]
    else:
        pk = valid_id(party_id)
        party = Party.objects.filter(company=company, pk=pk, is_customer=True).first() if pk else None
        if party is None:
            raise NotFound(_("No such customer."))
        covered = list(_open_customer_invoices(company.pk).filter(party=party).order_by("pk").select_for_update())
        if not covered:
            raise Conflict(_("%(customer)s has nothing open.") % {"customer": party}, code="nothing_open")
        if len({i.currency for i in covered}) > 1:
            raise Conflict(
                _("The customer's invoices are in several currencies: record a promise per invoice."),
                code="several_currencies",
            )
    open_amount = sum((i.residual for i in covered), ZERO)
    try:
        amount = decimal_in(
            amount,
            "amount",
            places=2,
            minimum=ZERO,
            strict_min=True,
            maximum=open_amount,
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    superseded = PaymentPromise.objects.filter(company=company, party=party, status=PromiseStatus.OPEN)
    superseded = (
        superseded.filter(invoice=covered[0])
        if invoice_id not in (None, "")
        else superseded.filter(invoice__isnull=True)
    )
    superseded.update(status=PromiseStatus.CANCELLED, resolved_at=timezone.localdate())
    promise = PaymentPromise.objects.create(
        company=company,
        party=party,
        invoice=covered[0] if invoice_id not in (None, "") else None,
        invoice_ids=[i.pk for i in covered],
        currency=covered[0].currency,
        promised_date=on_date,
        amount=amount,
        open_at_promise=open_amount,
        note=note,
        created_by=_user(actor),
    )
    DunningState.objects.filter(invoice__in=covered).update(paused_until=on_date)
    audit_record(
        actor=actor,
        company=company,
        obj=promise,
        action="dunning.promise.register",
        after={
            "customer": str(party),
            "invoices": [i.number for i in covered],
            "promised_date": on_date,
            "amount": amount,
            "note": note,
        },
    )
    event_emit(company=company, name="dunning.promise_registered", obj=promise, payload=promise_payload(promise))
    return promise


def promise_payload(promise: PaymentPromise) -> dict:
    return {
        "id": promise.pk,
        "party_id": promise.party_id,
        "invoice_id": promise.invoice_id,
        "invoice_ids": promise.invoice_ids,
        "promised_date": promise.promised_date,
        "amount": str(promise.amount),
        "currency": promise.currency,
        "status": promise.status,
        "note": promise.note,
    }


@transaction.atomic
def promise_cancel(*, actor: Actor, promise_id) -> PaymentPromise:
    """Withdraw an open promise (recorded by mistake): dunning resumes at the next run."""
    require(actor, "dunning.run")
    pk = valid_id(promise_id)
    promise = PaymentPromise.objects.select_for_update().filter(company=actor.company, pk=pk).first() if pk else None
    if promise is None:
        raise NotFound(_("No such promise to pay."))
    if promise.status != PromiseStatus.OPEN:
        raise Conflict(_("Only an open promise can be withdrawn."), code="promise_not_open")
    promise.status, promise.resolved_at = PromiseStatus.CANCELLED, timezone.localdate()
    promise.save(update_fields=["status", "resolved_at"])
    DunningState.objects.filter(invoice_id__in=promise.invoice_ids).update(paused_until=None)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=promise,
        action="dunning.promise.cancel",
        before={"status": PromiseStatus.OPEN},
        after={"status": PromiseStatus.CANCELLED},
    )
    return promise


# --- write-off ----------------------------------------------------------------------------------


@transaction.atomic
def invoice_write_off(*, actor: Actor, invoice_id, reason: str, on_date=None) -> Invoice:
    """Write what is open on a customer invoice off as a bad debt: post bad debts (debit) against
    the customer's receivable (credit), match that credit with the invoice's open item, and close
    the invoice through billing's settlement. Open promises on it are withdrawn, and the
    customer's dunning block lifted if nothing else is overdue."""
    require(actor, "dunning.run")
    company = actor.company
    try:
        reason = text_in(reason, "reason", 200, required=True)
        on_date = date_in(on_date, "on_date") or timezone.localdate()
    except ValidationFailed as exc:
        raise ValidationFailed(_("Check the highlighted fields."), fields=exc.fields)
    invoice = _invoice_open(actor, invoice_id, lock=True)
    open_item = JournalLine.objects.select_for_update().filter(pk=invoice.open_item_id).first()
    if open_item is None or open_item.residual <= 0:
        raise Conflict(
            _("Invoice %(number)s has no open receivable in the books.") % {"number": invoice.number},
            code="invoice_not_open",
        )
    bad_debt = accounts_by_role(company.pk).get(AccountRole.BAD_DEBT)
    if bad_debt is None:
        raise Conflict(_("The chart of accounts has no bad-debt account."), code="no_bad_debt_account")
    amount, base = invoice.residual, open_item.residual
    foreign = invoice.currency != company.base_currency
    with translation.override(company.default_language):
        description = _("Bad debt written off: %(number)s, %(reason)s") % {"number": invoice.number, "reason": reason}
    description = description[:200]
    entry = entry_post(
        actor=actor,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=on_date,
        lines=[
            LineSpec(account_id=bad_debt.pk, debit=base, description=description),
            LineSpec(
                account_id=open_item.account_id,
                credit=base,
                party_id=invoice.party_id,
                description=description,
                reference=invoice.number,
                currency=invoice.currency if foreign else "",
                amount_currency=-amount if foreign else None,
            ),
        ],
        reference=invoice.number,
        description=description,
        source_type=WRITE_OFF_SOURCE,
        source_id=str(invoice.pk),
    )
    credit_line = JournalLine.objects.get(entry=entry, position=2)
    reconcile(actor=actor, company=company, pairs=[(open_item.pk, credit_line.pk, base)])
    invoice = invoice_settle(invoice_id=invoice.pk, amount=amount, paid_on=on_date)
    state = DunningState.objects.filter(invoice=invoice).first() or DunningState(
        company=company, invoice=invoice, party_id=invoice.party_id
    )
    state.written_off_at, state.write_off_reason, state.write_off_entry = timezone.now(), reason, entry
    state.paused_until = None
    state.save()
    PaymentPromise.objects.filter(company=company, status=PromiseStatus.OPEN).filter(
        Q(invoice=invoice) | Q(invoice__isnull=True, party_id=invoice.party_id)
    ).update(status=PromiseStatus.CANCELLED, resolved_at=on_date)
    audit_record(
        actor=actor,
        company=company,
        obj=invoice,
        action="invoice.write_off",
        before={"residual": amount},
        after={"residual": invoice.residual, "entry": entry.number, "amount": amount, "reason": reason},
    )
    event_emit(
        company=company,
        name="invoice.written_off",
        obj=invoice,
        payload={**invoice_payload(invoice), "written_off": str(amount), "reason": reason, "entry": entry.number},
    )
    _review(actor, company, timezone.localdate(), parties=[invoice.party_id])
    return invoice
