"""Dunning pages: run a preview and see the letters that would go out, then send them; the run
history; a letter and its PDF; the procedure's levels and the late-charge settings; promises to
pay; writing a bad debt off. Views parse input and call one service; a refusal is shown on the
page it came from, with the refusal's status and nothing changed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.core.ui.decorators import permission_required

from . import services
from .choices import PromiseStatus, RunStatus
from .filters import PROMISE_LISTING, RUN_LISTING
from .forms import LevelForm, PromiseForm, RunForm, SettingsForm, WriteOffForm
from .letters import letter_html, letter_pdf
from .selectors import (
    invoice_by_number,
    letter_get,
    level_get,
    procedures_list,
    promise_list,
    run_get,
    run_list,
    settings_get,
)

REFUSALS = (ValidationFailed, Conflict, NotFound)


# --- runs ---------------------------------------------------------------------------------------


def _home(request, *, run_form=None, write_off_form=None, status: int = 200):
    actor = request.actor
    context = RUN_LISTING.page(request, run_list(actor))
    context.update(
        {
            "can_run": actor.can("dunning.run"),
            "run_form": run_form or RunForm(),
            "write_off_form": write_off_form or WriteOffForm(),
            "statuses": RunStatus.choices,
        }
    )
    return render(request, "dunning/home.html", context, status=status)


@permission_required("dunning.view")
def home_view(request):
    return _home(request)


@permission_required("dunning.run")
@require_POST
def run_create_view(request):
    """A preview by default; the "send at once" button runs for real."""
    form = RunForm(request.POST)
    status = 422
    if form.is_valid():
        preview = "send" not in request.POST
        try:
            run = services.dunning_run(
                actor=request.actor, company=request.actor.company, as_of=form.cleaned_data["as_of"], preview=preview
            )
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            if preview:
                messages.success(request, _("Preview ready: check the letters, then send them."))
            else:
                messages.success(request, _("Dunning run sent: %(count)s letters.") % {"count": run.letter_count})
            return redirect("dunning:run_detail", run_id=run.pk)
    return _home(request, run_form=form, status=status)


def _run_page(request, run_id, *, error: str = "", status: int = 200):
    actor = request.actor
    run = run_get(actor, run_id)
    return render(
        request,
        "dunning/run_detail.html",
        {
            "run": run,
            "letters": run.prefetched_letters,
            "can_send": actor.can("dunning.run") and run.status == RunStatus.PREVIEW,
            "error": error,
        },
        status=status,
    )


@permission_required("dunning.view")
def run_detail_view(request, run_id: int):
    return _run_page(request, run_id)


@permission_required("dunning.run")
@require_POST
def run_send_view(request, run_id: int):
    try:
        run = services.dunning_run_send(actor=request.actor, run_id=run_id)
    except (ValidationFailed, Conflict) as exc:
        return _run_page(request, run_id, error=exc.message, status=exc.status)
    messages.success(request, _("Dunning run sent: %(count)s letters.") % {"count": run.letter_count})
    return redirect("dunning:run_detail", run_id=run.pk)


# --- letters ------------------------------------------------------------------------------------


@permission_required("dunning.view")
def letter_detail_view(request, letter_id: int):
    letter = letter_get(request.actor, letter_id)
    return render(request, "dunning/letter_detail.html", {"letter": letter, "letter_html": letter_html(letter)})


@permission_required("dunning.view")
def letter_pdf_view(request, letter_id: int):
    name, pdf = letter_pdf(actor=request.actor, letter_id=letter_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- the procedure ------------------------------------------------------------------------------


def _settings_initial(settings) -> dict:
    if settings is None:
        return {}
    return {
        "rule": settings.rule,
        "fine_percent": settings.fine_percent,
        "monthly_interest_percent": settings.monthly_interest_percent,
        "annual_interest_percent": settings.annual_interest_percent,
        "fixed_compensation": settings.fixed_compensation,
        "booking": settings.booking,
        "payment_days": settings.payment_days,
    }


def _procedure_page(request, *, level_form=None, settings_form=None, status: int = 200):
    actor = request.actor
    procedures = procedures_list(actor)
    settings = settings_get(actor)
    return render(
        request,
        "dunning/procedure.html",
        {
            "procedures": procedures,
            "settings": settings,
            "can_change": actor.can("dunning.run"),
            "level_form": level_form or LevelForm(),
            "settings_form": settings_form or SettingsForm(initial=_settings_initial(settings)),
        },
        status=status,
    )


@permission_required("dunning.view")
def procedure_view(request):
    if request.actor.can("dunning.run") and not procedures_list(request.actor):
        # First use: the company's default procedure and settings, in its language.
        services.dunning_defaults_install(company=request.actor.company)
    return _procedure_page(request)


@permission_required("dunning.run")
@require_POST
def level_create_view(request):
    form = LevelForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            level = services.dunning_level_save(actor=request.actor, **form.cleaned_data)
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Level %(name)s added.") % {"name": level.name})
            return redirect("dunning:procedure")
    return _procedure_page(request, level_form=form, status=status)


@permission_required("dunning.run")
def level_edit_view(request, level_id: int):
    level = level_get(request.actor, level_id)
    initial = {
        name: getattr(level, name)
        for name in ("days_overdue", "name", "letter", "fee", "charge_interest", "block_customer", "handover_legal")
    }
    form = LevelForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.dunning_level_save(actor=request.actor, level_id=level.pk, **form.cleaned_data)
            except REFUSALS as exc:
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("Level saved."))
                return redirect("dunning:procedure")
    return render(request, "dunning/level_form.html", {"form": form, "level": level}, status=status)


@permission_required("dunning.run")
@require_POST
def level_delete_view(request, level_id: int):
    services.dunning_level_delete(actor=request.actor, level_id=level_id)
    messages.success(request, _("Level removed."))
    return redirect("dunning:procedure")


@permission_required("dunning.run")
@require_POST
def settings_update_view(request):
    form = SettingsForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.late_charge_settings_update(actor=request.actor, **form.cleaned_data)
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Late-charge settings saved."))
            return redirect("dunning:procedure")
    return _procedure_page(request, settings_form=form, status=status)


# --- promises and write-offs --------------------------------------------------------------------


def _promises_page(request, *, form=None, status: int = 200):
    actor = request.actor
    context = PROMISE_LISTING.page(request, promise_list(actor))
    context.update(
        {
            "can_run": actor.can("dunning.run"),
            "form": form or PromiseForm(),
            "statuses": PromiseStatus.choices,
        }
    )
    return render(request, "dunning/promise_list.html", context, status=status)


@permission_required("dunning.view")
def promise_list_view(request):
    return _promises_page(request)


@permission_required("dunning.run")
@require_POST
def promise_create_view(request):
    """From the promises page (by invoice number) or the customer page (for the customer)."""
    form = PromiseForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        invoice_id = party_id = None
        if data["invoice"]:
            invoice = invoice_by_number(request.actor, data["invoice"])
            invoice_id = invoice.pk if invoice else 0
        else:
            party_id = data["party"]
        try:
            services.promise_register(
                actor=request.actor,
                invoice_id=invoice_id,
                party_id=party_id,
                promised_date=data["promised_date"],
                amount=data["amount"],
                note=data["note"],
            )
        except REFUSALS as exc:
            if isinstance(exc, NotFound):
                form.add_error("invoice", exc.message)
            else:
                form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Promise to pay recorded: dunning pauses until then."))
            return redirect("dunning:promise_list")
    return _promises_page(request, form=form, status=status)


@permission_required("dunning.run")
@require_POST
def promise_cancel_view(request, promise_id: int):
    services.promise_cancel(actor=request.actor, promise_id=promise_id)
    messages.success(request, _("Promise withdrawn: dunning resumes at the next run."))
    return redirect("dunning:promise_list")


@permission_required("dunning.run")
@require_POST
def write_off_view(request):
    form = WriteOffForm(request.POST)
    status = 422
    if form.is_valid():
        invoice = invoice_by_number(request.actor, form.cleaned_data["invoice"])
        try:
            if invoice is None:
                raise NotFound(_("No such invoice."), fields={"invoice": [_("No such invoice.")]})
            services.invoice_write_off(actor=request.actor, invoice_id=invoice.pk, reason=form.cleaned_data["reason"])
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Invoice %(number)s written off.") % {"number": invoice.number})
            return redirect("dunning:home")
    return _home(request, write_off_form=form, status=status)
