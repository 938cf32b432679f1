"""Pages of the books: the chart of accounts, journal entries (list, entry page with reversal,
manual entry form), periods and fiscal years with their closing, exchange rates."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.decorators import forbidden, permission_required
from retaguarda.core.ui.forms import form_add_service_errors

from . import services
from .choices import EntryState
from .forms import (
    EntryForm,
    FiscalYearOpenForm,
    RateForm,
    ReverseForm,
    formset_with_more_rows,
    line_formset,
    line_specs,
)
from .selectors import (
    ENTRY_LISTING,
    accounts_list,
    entry_get,
    entry_search,
    fiscal_years_list,
    journals_list,
    rates_list,
)


def _refused(exc: DomainError) -> bool:
    """Refusals shown on the page; permission and not-found ones become 403 and 404 pages."""
    return exc.status not in (403, 404)


# --- chart of accounts --------------------------------------------------------------------------


@permission_required("ledger.view")
def account_list(request):
    return render(request, "ledger/account_list.html", {"accounts": accounts_list(request.actor)})


# --- journal entries ----------------------------------------------------------------------------


@permission_required("ledger.view")
def entry_list(request):
    actor = request.actor
    context = ENTRY_LISTING.page(request, entry_search(actor, request.GET))
    context.update(
        list_url=reverse("ledger:entry_list"),
        journals=journals_list(actor),
        accounts=accounts_list(actor),
        account_filter=request.GET.get("account", ""),
        can_post=actor.can("ledger.post"),
        states=EntryState.choices,
    )
    template = "ledger/partials/entry_table.html" if request.htmx else "ledger/entry_list.html"
    return render(request, template, context)


def _detail(request, entry, *, status: int = 200, error: str = "", reverse_form=None):
    actor = request.actor
    can_post = actor.can("ledger.post")
    return render(
        request,
        "ledger/entry_detail.html",
        {
            "entry": entry,
            "lines": entry.line_list,
            "is_draft": entry.state == EntryState.DRAFT,
            "can_post": can_post,
            "can_reverse": can_post
            and entry.state == EntryState.POSTED
            and entry.reversal_of_id is None
            and entry.reversed_by_entry is None,
            "reverse_form": reverse_form or ReverseForm(),
            "error": error,
            "total_debit": sum(line.debit for line in entry.line_list),
            "total_credit": sum(line.credit for line in entry.line_list),
        },
        status=status,
    )


@permission_required("ledger.view")
def entry_detail(request, pk: int):
    return _detail(request, entry_get(request.actor, pk))


@require_POST
@permission_required("ledger.post")
def entry_reverse(request, pk: int):
    entry = entry_get(request.actor, pk)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        return _detail(request, entry, status=422, reverse_form=form)
    try:
        reversal = services.entry_reverse(
            actor=request.actor, entry_id=pk, date=form.cleaned_data["date"], reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        if not _refused(exc):
            raise
        form_add_service_errors(form, exc)
        return _detail(request, entry_get(request.actor, pk), status=exc.status, error=exc.message, reverse_form=form)
    messages.success(
        request, _("Entry %(number)s reversed by %(reversal)s.") % {"number": entry.number, "reversal": reversal.number}
    )
    return redirect("ledger:entry_detail", pk=reversal.pk)


@require_POST
@permission_required("ledger.post")
def entry_post(request, pk: int):
    try:
        entry = services.entry_draft_post(actor=request.actor, entry_id=pk)
    except DomainError as exc:
        if not _refused(exc):
            raise
        message = " ".join([exc.message, *[m for m in exc.fields.get("lines", []) if m != exc.message]])
        return _detail(request, entry_get(request.actor, pk), status=exc.status, error=message)
    messages.success(request, _("Entry %(number)s posted.") % {"number": entry.number})
    return redirect("ledger:entry_detail", pk=entry.pk)


@require_POST
@permission_required("ledger.post")
def entry_delete(request, pk: int):
    try:
        services.entry_draft_delete(actor=request.actor, entry_id=pk)
    except DomainError as exc:
        if not _refused(exc):
            raise
        return _detail(request, entry_get(request.actor, pk), status=exc.status, error=exc.message)
    messages.success(request, _("Draft entry deleted."))
    return redirect("ledger:entry_list")


def _entry_form_page(request, *, entry=None):
    actor = request.actor
    journals, accounts = journals_list(actor), [a for a in accounts_list(actor) if a.is_active]
    status = 200
    if request.method == "POST":
        form = EntryForm(request.POST, journals=journals)
        if "add_lines" in request.POST:
            form.is_valid()
            form.errors.clear()
            formset = formset_with_more_rows(request.POST, accounts=accounts)
            formset.is_valid()
            for row in formset.forms:
                row.errors.clear()
        else:
            formset = line_formset(request.POST, accounts=accounts)
            if form.is_valid() & formset.is_valid():
                data = form.cleaned_data
                fields = dict(
                    actor=actor,
                    journal_id=data["journal"],
                    date=data["date"],
                    reference=data["reference"],
                    description=data["description"],
                    lines=line_specs(formset),
                )
                try:
                    if entry is None:
                        saved = services.entry_draft_create(
                            company=actor.company, post="post" in request.POST, **fields
                        )
                    else:
                        saved = services.entry_draft_update(entry_id=entry.pk, **fields)
                        if "post" in request.POST:
                            saved = services.entry_draft_post(actor=actor, entry_id=entry.pk)
                except DomainError as exc:
                    if not _refused(exc):
                        raise
                    form_add_service_errors(form, exc)
                    status = exc.status
                else:
                    if saved.state == EntryState.POSTED:
                        messages.success(request, _("Entry %(number)s posted.") % {"number": saved.number})
                    else:
                        messages.success(request, _("Draft entry saved."))
                    return redirect("ledger:entry_detail", pk=saved.pk)
            else:
                status = 422
    elif entry is not None:
        form = EntryForm(
            initial={
                "journal": str(entry.journal_id),
                "date": entry.date,
                "reference": entry.reference,
                "description": entry.description,
            },
            journals=journals,
        )
        initial = [
            {
                "account": str(line.account_id),
                "description": line.description,
                "debit": line.debit or None,
                "credit": line.credit or None,
            }
            for line in entry.line_list
        ]
        formset = line_formset(accounts=accounts, initial=initial, rows=max(len(initial) + 2, 6))
    else:
        form = EntryForm(journals=journals)
        formset = line_formset(accounts=accounts)
    return render(request, "ledger/entry_form.html", {"form": form, "formset": formset, "entry": entry}, status=status)


@permission_required("ledger.post")
def entry_create(request):
    return _entry_form_page(request)


@permission_required("ledger.post")
def entry_edit(request, pk: int):
    entry = entry_get(request.actor, pk)
    if entry.state != EntryState.DRAFT:
        messages.error(request, _("A posted entry cannot be changed; reverse it instead."))
        return redirect("ledger:entry_detail", pk=entry.pk)
    return _entry_form_page(request, entry=entry)


# --- periods and fiscal years -------------------------------------------------------------------


def _periods_page(request, *, status: int = 200, error: str = "", open_form=None):
    actor = request.actor
    return render(
        request,
        "ledger/period_list.html",
        {
            "years": fiscal_years_list(actor),
            "can_close": actor.can("ledger.close"),
            "open_form": open_form or FiscalYearOpenForm(),
            "error": error,
        },
        status=status,
    )


@permission_required("ledger.view")
def period_list(request):
    return _periods_page(request)


def _period_action(request, run, done):
    try:
        result = run()
    except DomainError as exc:
        if not _refused(exc):
            raise
        return _periods_page(request, status=exc.status, error=exc.message)
    messages.success(request, done(result))
    return redirect("ledger:period_list")


@require_POST
@permission_required("ledger.close")
def period_close(request, pk: int):
    return _period_action(
        request,
        lambda: services.period_close(actor=request.actor, period_id=pk),
        lambda p: _("Period %(code)s closed.") % {"code": p.code},
    )


@require_POST
@permission_required("ledger.close")
def period_reopen(request, pk: int):
    return _period_action(
        request,
        lambda: services.period_reopen(actor=request.actor, period_id=pk),
        lambda p: _("Period %(code)s reopened.") % {"code": p.code},
    )


@require_POST
@permission_required("ledger.close")
def fiscal_year_close(request, pk: int):
    return _period_action(
        request,
        lambda: services.fiscal_year_close(actor=request.actor, fiscal_year_id=pk),
        lambda y: _("Fiscal year %(name)s closed; its result was moved to retained earnings.") % {"name": y.name},
    )


@require_POST
@permission_required("ledger.close")
def fiscal_year_open(request):
    form = FiscalYearOpenForm(request.POST)
    if not form.is_valid():
        return _periods_page(request, status=422, open_form=form)
    return _period_action(
        request,
        lambda: services.fiscal_year_open(
            actor=request.actor, company=request.actor.company, year=form.cleaned_data["year"]
        ),
        lambda y: _("Fiscal year %(name)s opened.") % {"name": y.name},
    )


# --- exchange rates -----------------------------------------------------------------------------


@permission_required("ledger.view")
def rate_list(request):
    actor = request.actor
    form = None
    status = 200
    if request.method == "POST":
        if not actor.can("ledger.post"):
            return forbidden(request)
        form = RateForm(request.POST, base_currency=actor.company.base_currency)
        if form.is_valid():
            try:
                services.rate_set(actor=actor, company=actor.company, **form.cleaned_data)
            except DomainError as exc:
                if not _refused(exc):
                    raise
                form_add_service_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Exchange rate saved."))
                return redirect("ledger:rate_list")
        else:
            status = 422
    return render(
        request,
        "ledger/rate_list.html",
        {
            "rates": list(rates_list(actor)[:200]),
            "form": form or RateForm(base_currency=actor.company.base_currency),
            "can_post": actor.can("ledger.post"),
            "base_currency": actor.company.base_currency,
        },
        status=status,
    )
