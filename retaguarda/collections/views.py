"""Pages of collections: payments (list, registration with allocations to open invoices, the
payment page and its cancellation), bank accounts and statement upload, the reconciliation
screen (statement lines with their proposals: confirm in one click, edit the allocations,
ignore), and the aging of receivables and payables."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.common.errors import DomainError
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import forbidden, permission_required
from retaguarda.core.ui.forms import form_add_service_errors

from . import services
from .choices import Direction, PaymentKind, Side, StatementLineStatus
from .filters import PAYMENT_LISTING, STATEMENT_LINE_LISTING
from .forms import (
    AgingForm,
    BankAccountForm,
    CancelForm,
    PartySearchForm,
    PaymentForm,
    StatementUploadForm,
    allocation_rows,
    allocations_from,
    rows_add_service_errors,
    text_clean,
)
from .selectors import (
    aging,
    bank_account_get,
    bank_accounts_for,
    open_invoices_for,
    party_for_payment,
    party_lookup,
    payment_get,
    payment_search,
    statement_get,
    statement_line_get,
    statement_line_search,
    statements_for,
)

TIMELINE_LENGTH = 50
PARTY_RESULTS = 20


def _side(direction: str) -> str:
    return services.side_of(kind=PaymentKind.PAYMENT, direction=direction)


def _refusal(exc: DomainError) -> None:
    """Refusals the page cannot show on its form: not allowed, or not found."""
    if exc.status in (403, 404):
        raise exc


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- payments -------------------------------------------------------------------------------------


@permission_required("collections.view")
def payment_list(request):
    actor = request.actor
    context = PAYMENT_LISTING.page(request, payment_search(actor, {}))
    context.update(can_change=actor.can("collections.change"), list_url=reverse("collections:payment_list"))
    template = "collections/partials/payment_table.html" if request.htmx else "collections/payment_list.html"
    return render(request, template, context)


def _payment_form_page(request, *, form, party, direction, rows, errors=(), search=None, parties=(), status=200):
    return render(
        request,
        "collections/payment_form.html",
        {
            "form": form,
            "party": party,
            "direction": direction,
            "side": _side(direction),
            "rows": rows,
            "allocation_errors": list(errors),
            "search_form": search or PartySearchForm(),
            "parties": parties,
        },
        status=status,
    )


@permission_required("collections.change")
def payment_create(request):
    """GET ?q= finds the party; GET ?party= shows the form with the party's open invoices;
    POST registers the payment with the ticked invoices (none ticked: all on account)."""
    actor = request.actor
    source = request.POST if request.method == "POST" else request.GET
    direction = source.get("direction") if source.get("direction") in Direction.values else Direction.IN
    party = party_for_payment(actor, source.get("party"), side=_side(direction))
    bank_accounts = list(bank_accounts_for(actor, active_only=True))
    if party is None:
        search = PartySearchForm(request.GET or None)
        q = text_clean(request.GET.get("q"))
        parties = list(party_lookup(actor, q, side=_side(direction))[:PARTY_RESULTS]) if q else []
        form = PaymentForm(initial={"direction": direction}, bank_accounts=bank_accounts)
        return _payment_form_page(
            request, form=form, party=None, direction=direction, rows=[], search=search, parties=parties
        )
    invoices = list(open_invoices_for(actor, party.pk, side=_side(direction)))
    if request.method != "POST":
        initial = {
            "party": party.pk,
            "direction": direction,
            "date": timezone.localdate().isoformat(),
            "currency": actor.company.base_currency,
        }
        form = PaymentForm(initial=initial, bank_accounts=bank_accounts)
        return _payment_form_page(request, form=form, party=party, direction=direction, rows=allocation_rows(invoices))

    form = PaymentForm(request.POST, bank_accounts=bank_accounts)
    rows = allocation_rows(invoices, request.POST)
    errors, status = [], 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_register(
                actor=actor,
                party_id=party.pk,
                amount=data["amount"],
                date=data["date"] or None,
                direction=data["direction"],
                method=data["method"],
                reference=data["reference"],
                bank_account_id=data["bank_account"] or None,
                # "Pay the oldest due first" lets the service choose; otherwise the ticks decide.
                allocations=None if request.POST.get("allocate") == "oldest" else allocations_from(rows),
                currency=data["currency"],
                rate=data["rate"] or None,
                notes=data["notes"],
            )
        except DomainError as exc:
            _refusal(exc)
            status = exc.status
            errors = rows_add_service_errors(rows, exc.fields)
            form_add_service_errors(
                form,
                exc,
                field_for=lambda key: {"bank_account_id": "bank_account", "party_id": "party"}.get(key, key),
            )
        else:
            messages.success(request, _("Payment %(number)s registered.") % {"number": payment.number})
            if payment.unapplied:
                messages.info(
                    request,
                    _("%(amount)s %(currency)s is not allocated: it stays as the party's credit.")
                    % {"amount": payment.unapplied, "currency": payment.currency},
                )
            return redirect("collections:payment_detail", pk=payment.pk)
    return _payment_form_page(
        request, form=form, party=party, direction=direction, rows=rows, errors=errors, status=status
    )


def _payment_page(request, payment, *, cancel_form=None, error: str = "", status: int = 200):
    actor = request.actor
    allocations = sorted(payment.prefetched_allocations + payment.prefetched_refund_allocations, key=lambda a: a.pk)
    return render(
        request,
        "collections/payment_detail.html",
        {
            "payment": payment,
            "allocations": allocations,
            "can_cancel": actor.can("collections.change") and payment.can_cancel(),
            "cancel_form": cancel_form or CancelForm(),
            "error": error,
            "timeline": list(timeline_for(company=actor.company, obj=payment)[:TIMELINE_LENGTH]),
            "can_view_party": actor.can("parties.view"),
            "base_currency": actor.company.base_currency,
        },
        status=status,
    )


@permission_required("collections.view")
def payment_detail(request, pk: int):
    return _payment_page(request, payment_get(request.actor, pk))


@require_POST
@permission_required("collections.change")
def payment_cancel(request, pk: int):
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            payment = services.payment_cancel(actor=request.actor, payment_id=pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            _refusal(exc)
            form_add_service_errors(form, exc)
            return _payment_page(
                request, payment_get(request.actor, pk), cancel_form=form, error=exc.message, status=exc.status
            )
        messages.success(request, _("Payment %(number)s cancelled.") % {"number": payment.number})
        return redirect("collections:payment_detail", pk=payment.pk)
    return _payment_page(request, payment_get(request.actor, pk), cancel_form=form, status=422)


# --- bank accounts and statements ---------------------------------------------------------------------


@permission_required("collections.view")
def bank_account_list(request):
    """The bank accounts with their latest statements; POST adds one (collections.change)."""
    actor = request.actor
    can_change = actor.can("collections.change")
    form = BankAccountForm(initial={"currency": actor.company.base_currency})
    status = 200
    if request.method == "POST":
        if not can_change:
            return forbidden(request)
        form = BankAccountForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                bank_account = services.bank_account_create(actor=actor, **form.cleaned_data)
            except DomainError as exc:
                _refusal(exc)
                form_add_service_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Bank account %(name)s added.") % {"name": bank_account.name})
                return redirect("collections:bank_account_list")
    return render(
        request,
        "collections/bank_account_list.html",
        {
            "bank_accounts": list(bank_accounts_for(actor)),
            "statements": list(statements_for(actor)[:20]),
            "form": form,
            "can_change": can_change,
        },
        status=status,
    )


@permission_required("collections.change")
def statement_upload(request, pk: int):
    actor = request.actor
    bank_account = bank_account_get(actor, pk)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = services.statement_import(
                    actor=actor, bank_account_id=bank_account.pk, data=upload.read(), filename=upload.name
                )
            except DomainError as exc:
                _refusal(exc)
                form_add_service_errors(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Statement %(id)s imported: %(lines)s lines, %(skipped)s already imported before.")
                    % {"id": statement.statement_id, "lines": statement.line_count, "skipped": statement.skipped_count},
                )
                return redirect("collections:statement_detail", pk=statement.pk)
    return render(
        request, "collections/statement_upload.html", {"form": form, "bank_account": bank_account}, status=status
    )


def _lines_page(request, *, statement=None):
    actor = request.actor
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = StatementLineStatus.UNMATCHED
    if statement is not None:
        params["statement"] = str(statement.pk)
    request.GET = params
    context = STATEMENT_LINE_LISTING.page(request, statement_line_search(actor, {}))
    context.update(
        statement=statement,
        can_change=actor.can("collections.change"),
        statuses=StatementLineStatus.choices,
        status=params.get("status", ""),
        here=request.get_full_path(),
        list_url=reverse("collections:statement_detail", args=[statement.pk])
        if statement
        else reverse("collections:reconciliation"),
    )
    template = "collections/partials/line_table.html" if request.htmx else "collections/reconciliation.html"
    return render(request, template, context)


@permission_required("collections.view")
def reconciliation(request):
    """Statement lines of every account; unmatched ones unless another status is asked for."""
    return _lines_page(request)


@permission_required("collections.view")
def statement_detail(request, pk: int):
    return _lines_page(request, statement=statement_get(request.actor, pk, with_lines=False))


@require_POST
@permission_required("collections.change")
def statement_refresh(request, pk: int):
    """Propose matches again for the statement's unmatched lines (invoices change meanwhile)."""
    statement = statement_get(request.actor, pk, with_lines=False)
    services.statement_proposals(company=request.actor.company, statement_id=statement.pk)
    messages.success(request, _("Proposals computed again."))
    return redirect("collections:statement_detail", pk=statement.pk)


def _line_done(request, line, message: str):
    messages.success(request, message)
    return redirect(_next_url(request, reverse("collections:statement_detail", args=[line.statement_id])))


def _line_refused(request, line_id, exc: DomainError):
    _refusal(exc)
    line = statement_line_get(request.actor, line_id)
    reasons = [str(m) for messages_ in exc.fields.values() for m in messages_] or [exc.message]
    messages.error(request, " ".join(reasons))
    return redirect(_next_url(request, reverse("collections:statement_detail", args=[line.statement_id])))


@require_POST
@permission_required("collections.change")
def line_confirm(request, pk: int):
    """One click: the line becomes a payment allocated as proposed."""
    try:
        payment = services.statement_line_confirm(actor=request.actor, line_id=pk)
    except DomainError as exc:
        return _line_refused(request, pk, exc)
    return _line_done(
        request, payment.statement_line, _("Payment %(number)s registered from the statement.") % {"number": payment}
    )


@require_POST
@permission_required("collections.change")
def line_ignore(request, pk: int):
    try:
        line = services.statement_line_ignore(actor=request.actor, line_id=pk)
    except DomainError as exc:
        return _line_refused(request, pk, exc)
    return _line_done(request, line, _("The line is set aside."))


@require_POST
@permission_required("collections.change")
def line_reopen(request, pk: int):
    try:
        line = services.statement_line_reopen(actor=request.actor, line_id=pk)
    except DomainError as exc:
        return _line_refused(request, pk, exc)
    return _line_done(request, line, _("The line is back among the unmatched."))


@permission_required("collections.change")
def line_edit(request, pk: int):
    """Choose the party and the invoices a statement line pays, then confirm it."""
    actor = request.actor
    line = statement_line_get(actor, pk)
    back = reverse("collections:statement_detail", args=[line.statement_id])
    if line.status != StatementLineStatus.UNMATCHED:
        messages.error(request, _("This statement line is already %(status)s.") % {"status": line.get_status_display()})
        return redirect(back)
    direction = Direction.IN if line.amount > 0 else Direction.OUT
    side = _side(direction)
    proposal = line.proposal or {}
    source = request.POST if request.method == "POST" else request.GET
    party = party_for_payment(actor, source.get("party") or proposal.get("party_id"), side=side)
    q = text_clean(request.GET.get("q"))
    parties = list(party_lookup(actor, q, side=side)[:PARTY_RESULTS]) if q else []
    invoices = list(open_invoices_for(actor, party.pk, side=side, currency=line.currency)) if party else []
    errors, status = [], 200
    if request.method == "POST" and party is not None:
        rows = allocation_rows(invoices, request.POST)
        try:
            payment = services.statement_line_confirm(
                actor=actor, line_id=line.pk, allocations=allocations_from(rows), party_id=party.pk
            )
        except DomainError as exc:
            _refusal(exc)
            errors = rows_add_service_errors(rows, exc.fields) or [
                str(m) for key, msgs in exc.fields.items() if not key.startswith("allocations") for m in msgs
            ]
            if not errors and not any(row.error for row in rows):
                errors = [exc.message]
            status = exc.status
        else:
            messages.success(request, _("Payment %(number)s registered from the statement.") % {"number": payment})
            return redirect(back)
    else:
        rows = allocation_rows(invoices)
        proposed = {
            str(a["invoice_id"]): a["amount"]
            for a in proposal.get("allocations", ())
            if party is not None and proposal.get("party_id") == party.pk
        }
        for row in rows:
            if str(row.invoice.pk) in proposed:
                row.checked, row.amount = True, proposed[str(row.invoice.pk)]
    return render(
        request,
        "collections/line_edit.html",
        {
            "line": line,
            "party": party,
            "parties": parties,
            "q": q,
            "rows": rows,
            "errors": errors,
            "side": side,
            "back": back,
        },
        status=status,
    )


# --- aging ----------------------------------------------------------------------------------------


@permission_required("collections.view")
def aging_page(request):
    """Open items per party by days past due, as of a date (default today)."""
    form = AgingForm(request.GET or None)
    as_of, side, status = None, Side.RECEIVABLE, 200
    if form.is_bound:
        if form.is_valid():
            as_of = form.cleaned_data.get("as_of")
            side = form.cleaned_data.get("side") or Side.RECEIVABLE
        else:
            status = 422
    report = aging(request.actor, as_of=as_of, side=side)
    if not form.is_bound:
        form = AgingForm(initial={"as_of": report.as_of.isoformat(), "side": report.side})
    return render(
        request,
        "collections/aging.html",
        {"form": form, "report": report, "can_view_party": request.actor.can("parties.view")},
        status=status,
    )
