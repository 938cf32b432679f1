"""The writers of Brazil's NF-e: queue a posted invoice's NF-e (built, signed, validated), send
the queue to the authority with retries and contingency, cancel an authorized note.

Calls to the authority happen outside database transactions (a slow SEFAZ must not hold a lock);
each submission is claimed before it is sent and its outcome recorded after, so a crash in
between leaves it "sent" and the next run asks again under the same key (the authority answers
204 duplicate, and the consultation recovers the protocol): nothing is authorized twice.

Contingency (NF-e, model 55): after `CONTINGENCY_AFTER_FAILURES` consecutive outages of the
state's authority the company enters contingency. Notes that were never possibly received are
re-issued for the state's virtual contingency authority (SVC-AN, tpEmis 6, or SVC-RS, tpEmis 7:
new key, dhCont and xJust, signed again) and sent there when the caller gives one; otherwise they
wait. Each run first asks the state's authority for its status; when it answers, the company
leaves contingency and the waiting notes are sent to it. Notes already re-issued for SVC stay
with SVC (their key says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict, DomainError, NotFound, ValidationFailed
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit

from . import nfe
from .authority import Authority, AuthorityResponse, AuthorityUnavailable
from .document import InvoiceDocument
from .models import (
    PENDING_STATUSES,
    AuthorityMode,
    EmissionType,
    EventStatus,
    NFeAuthorityState,
    NFeEvent,
    NFeSubmission,
    SubmissionStatus,
)
from .signing import A1Certificate, nfe_sign

CONTINGENCY_AFTER_FAILURES = 3
# Seconds to wait before the next attempt after the n-th failed one (the last repeats).
RETRY_DELAYS = (60, 300, 900, 1800, 3600)
CANCEL_WINDOW = timedelta(hours=24)
SEND_BATCH = 100


class AuthorityUnreachable(DomainError):
    """The authority could not be reached for an action the user is waiting for."""

    code = "authority_unavailable"
    status = 503


@dataclass(frozen=True)
class AuthoritySet:
    """What sending needs for one company: its state's authority, the SVC authority (or None)
    and the certificate to sign contingency re-issues."""

    authority: Authority
    contingency_authority: Authority | None
    certificate: A1Certificate | None


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1])


def _state_locked(company) -> NFeAuthorityState:
    NFeAuthorityState.objects.get_or_create(company=company)
    return NFeAuthorityState.objects.select_for_update().get(company=company)


def _invalid_xml(errors: list[str]) -> ValidationFailed:
    return ValidationFailed(
        _("The NF-e does not pass the official schema: %(error)s") % {"error": errors[0]},
        code="nfe_schema",
        details=errors,
    )


# --- queue --------------------------------------------------------------------------------------


def nfe_submission_queue(
    *,
    company,
    invoice_id: int,
    document: InvoiceDocument,
    certificate: A1Certificate,
    actor: Actor | None = None,
) -> NFeSubmission:
    """Build, sign and validate the NF-e of a posted invoice and queue it for the authority.

    Runs in the caller's transaction (billing's posting). Queuing the same invoice again returns
    the submission it already has, unless that one was rejected (a corrected document is then
    queued under the same number). Refused with ValidationFailed when the document cannot make a
    valid NF-e (details list the schema's messages) or the certificate is another company's."""
    seller_cnpj = (document.seller.tax_id or "").upper()
    if certificate.cnpj and certificate.cnpj[:8] != seller_cnpj[:8]:
        # SEFAZ refuses it (rejection 213): the certificate must be the issuer's (or its head office's).
        raise ValidationFailed(
            _("The certificate belongs to CNPJ %(cert)s, not to the issuer %(cnpj)s.")
            % {"cert": certificate.cnpj, "cnpj": seller_cnpj},
            code="certificate_other_company",
        )
    with transaction.atomic():
        existing = (
            NFeSubmission.objects.select_for_update()
            .filter(company=company, invoice_id=invoice_id)
            .exclude(status=SubmissionStatus.REJECTED)
            .first()
        )
        if existing is not None:
            return existing
        uf_code = nfe.uf_code_for(document.seller.state)
        city_code = document.seller.city_code
        if len(city_code) != 7 or not city_code.isdigit() or city_code[:2] != uf_code:
            raise ValidationFailed(
                _("The issuer's municipality code (IBGE, 7 digits) is missing or not in its state."),
                fields={"city_code": _("An IBGE municipality code of the issuer's state.")},
            )
        numeric_code = nfe.nfe_numeric_code(document.sequence_number)
        xml = nfe.nfe_build(document, uf_code=uf_code, city_code=city_code, numeric_code=numeric_code)
        key = nfe.nfe_access_key_of(xml)
        signed = nfe_sign(xml, certificate)
        errors = nfe.nfe_validate(signed, require_signature=True)
        if errors:
            raise _invalid_xml(errors)
        now = timezone.now()
        submission = NFeSubmission.objects.create(
            company=company,
            invoice_id=invoice_id,
            access_key=key,
            series=int(key[22:25]),
            number=int(key[25:34]),
            environment=document.environment,
            uf_code=uf_code,
            xml=signed.decode(),
            status=SubmissionStatus.QUEUED,
            next_attempt_at=now,
        )
        audit_record(
            actor=actor,
            company=company,
            obj=submission,
            action="nfe.queued",
            after={"access_key": submission.access_key, "invoice_id": invoice_id},
        )
    transaction.on_commit(lambda: _send_enqueue(company.pk))
    return submission


def _send_enqueue(company_id: int) -> None:
    from .tasks import nfe_send_queue

    nfe_send_queue.enqueue(company_id=company_id)


# --- send ---------------------------------------------------------------------------------------


def _contingency_reason(error: str) -> str:
    reason = _("The state's authorization service is unavailable: %(error)s") % {"error": error}
    return nfe._text(reason, 256)


def _record_failure(state: NFeAuthorityState, error: str, now: datetime) -> bool:
    """Count one outage of the state's authority; True when it puts the company in contingency."""
    state.consecutive_failures += 1
    entered = state.mode == AuthorityMode.NORMAL and state.consecutive_failures >= CONTINGENCY_AFTER_FAILURES
    if entered:
        state.mode = AuthorityMode.CONTINGENCY
        state.contingency_since = now
        state.contingency_reason = _contingency_reason(error)
        NFeSubmission.objects.filter(
            company=state.company_id, status=SubmissionStatus.QUEUED, emission_type=EmissionType.NORMAL
        ).update(status=SubmissionStatus.CONTINGENCY)
        audit_record(
            actor=None,
            company=state.company,
            obj=state,
            action="nfe.contingency_entered",
            after={"reason": state.contingency_reason, "failures": state.consecutive_failures},
        )
    state.save()
    return entered


def _contingency_leave(company, now: datetime) -> None:
    with transaction.atomic():
        state = _state_locked(company)
        if state.mode != AuthorityMode.CONTINGENCY:
            return
        before = {"mode": state.mode, "since": state.contingency_since}
        state.mode = AuthorityMode.NORMAL
        state.consecutive_failures = 0
        state.contingency_since = None
        state.contingency_reason = ""
        state.save()
        # Notes that waited under their normal key go to the state's authority now.
        NFeSubmission.objects.filter(
            company=company, status=SubmissionStatus.CONTINGENCY, emission_type=EmissionType.NORMAL
        ).update(status=SubmissionStatus.QUEUED, next_attempt_at=now)
        audit_record(
            actor=None,
            company=company,
            obj=state,
            action="nfe.contingency_left",
            before=before,
            after={"mode": "normal"},
        )


def _claim(submission_id: int, state_mode: str, certificate: A1Certificate | None, can_use_svc: bool, now: datetime):
    """Lock one due submission and mark it sent; in contingency, re-issue it for SVC first.

    Returns (submission, was_uncertain, target) where target is "normal", "svc" or None (it must
    wait); None when another worker took it."""
    with transaction.atomic():
        submission = (
            NFeSubmission.objects.select_for_update()
            .filter(pk=submission_id, status__in=PENDING_STATUSES, next_attempt_at__lte=now)
            .first()
        )
        if submission is None:
            return None, False, None
        was_uncertain = submission.outcome_uncertain
        if submission.emission_type == EmissionType.NORMAL and state_mode == AuthorityMode.CONTINGENCY:
            state = NFeAuthorityState.objects.get(company=submission.company_id)
            if was_uncertain or not can_use_svc or certificate is None:
                # It may be authorized under its normal key (or no SVC is at hand): it waits.
                submission.status = SubmissionStatus.CONTINGENCY
                submission.next_attempt_at = now + _retry_delay(submission.attempts or 1)
                submission.save(update_fields=["status", "next_attempt_at", "updated_at"])
                return submission, was_uncertain, None
            _reissue_for_svc(submission, state, certificate)
        target = "svc" if submission.emission_type != EmissionType.NORMAL else "normal"
        if target == "svc" and not can_use_svc:
            submission.status = SubmissionStatus.CONTINGENCY
            submission.next_attempt_at = now + _retry_delay(submission.attempts or 1)
            submission.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return submission, was_uncertain, None
        submission.status = SubmissionStatus.SENT
        submission.attempts += 1
        # Until the answer is recorded, the note may be at the authority.
        submission.outcome_uncertain = True
        submission.next_attempt_at = now + _retry_delay(submission.attempts)
        submission.save()
        return submission, was_uncertain, target


def _reissue_for_svc(submission: NFeSubmission, state: NFeAuthorityState, certificate: A1Certificate) -> None:
    emission_type = nfe.svc_emission_type(submission.uf_code)
    unsigned = nfe.nfe_contingency_convert(
        submission.xml.encode(),
        emission_type=emission_type,
        at=state.contingency_since,
        reason=state.contingency_reason,
    )
    signed = nfe_sign(unsigned, certificate)
    errors = nfe.nfe_validate(signed, require_signature=True)
    if errors:
        raise _invalid_xml(errors)
    before = {"access_key": submission.access_key, "emission_type": submission.emission_type}
    submission.previous_access_key = submission.access_key
    submission.access_key = nfe.nfe_access_key_of(signed)
    submission.xml = signed.decode()
    submission.emission_type = emission_type
    submission.contingency_at = state.contingency_since
    submission.contingency_reason = state.contingency_reason
    audit_record(
        actor=None,
        company=state.company,
        obj=submission,
        action="nfe.reissued_in_contingency",
        before=before,
        after={"access_key": submission.access_key, "emission_type": emission_type},
    )


def _exchange(submission: NFeSubmission, authority: Authority) -> AuthorityResponse:
    """Send one note; a duplicate (204) is resolved by asking the authority for its record."""
    response = authority.authorize(submission.xml.encode())
    if response.duplicate:
        consulted = authority.consult(submission.access_key)
        if consulted.authorized:
            return consulted
    return response


def _record_answer(submission_id: int, response: AuthorityResponse, now: datetime) -> str:
    with transaction.atomic():
        submission = NFeSubmission.objects.select_for_update().get(pk=submission_id)
        submission.cstat = response.cstat[:3]
        submission.xmotivo = response.xmotivo[:255]
        submission.outcome_uncertain = False
        submission.last_error = ""
        submission.next_attempt_at = None
        if response.authorized:
            submission.status = SubmissionStatus.AUTHORIZED
            submission.protocol = response.protocol
            submission.protocol_xml = response.xml.decode()
            submission.authorized_at = response.received_at or now
            name = "nfe.authorized"
        elif response.denied:
            submission.status = SubmissionStatus.DENIED
            name = "nfe.denied"
        else:
            submission.status = SubmissionStatus.REJECTED
            name = "nfe.rejected"
        submission.save()
        payload = {
            "invoice_id": submission.invoice_id,
            "access_key": submission.access_key,
            "cstat": submission.cstat,
            "xmotivo": submission.xmotivo,
            "protocol": submission.protocol,
        }
        audit_record(actor=None, company=submission.company, obj=submission, action=name, after=payload)
        event_emit(company=submission.company, name=name, obj=submission, payload=payload)
        return str(submission.status)


def _record_outage(
    submission_id: int, error: AuthorityUnavailable, was_uncertain: bool, target: str, now: datetime
) -> bool:
    """Keep the note for a later attempt; True when this outage put the company in contingency."""
    with transaction.atomic():
        state = _state_locked(NFeSubmission.objects.get(pk=submission_id).company)
        submission = NFeSubmission.objects.select_for_update().get(pk=submission_id)
        submission.outcome_uncertain = was_uncertain or error.uncertain
        submission.last_error = error.message[:255]
        if not submission.outcome_uncertain:
            submission.status = (
                SubmissionStatus.CONTINGENCY if state.mode == AuthorityMode.CONTINGENCY else SubmissionStatus.QUEUED
            )
        submission.save()
        if target != "normal":
            return False
        return _record_failure(state, error.message, now)


def nfe_submissions_send(
    *,
    company,
    authority: Authority,
    contingency_authority: Authority | None = None,
    certificate: A1Certificate | None = None,
    now: datetime | None = None,
    limit: int = SEND_BATCH,
) -> dict[str, int]:
    """Send the company's due submissions; returns how many ended authorized, rejected, denied,
    failed (kept for a retry) and waiting (in contingency without SVC), and `contingency` (1 when
    the company is in contingency after the run).

    `contingency_authority` is the state's SVC and `certificate` signs the re-issues for it;
    without them, notes wait during contingency until the state's authority is back."""
    now = now or timezone.now()
    counts = {"authorized": 0, "rejected": 0, "denied": 0, "failed": 0, "waiting": 0, "contingency": 0}
    with transaction.atomic():
        mode = _state_locked(company).mode
    if mode == AuthorityMode.CONTINGENCY and authority.status():
        _contingency_leave(company, now)
        mode = AuthorityMode.NORMAL
    due = list(
        NFeSubmission.objects.filter(company=company, status__in=PENDING_STATUSES, next_attempt_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for submission_id in due:
        submission, was_uncertain, target = _claim(
            submission_id, mode, certificate, contingency_authority is not None, now
        )
        if submission is None:
            continue
        if target is None:
            counts["waiting"] += 1
            continue
        chosen = contingency_authority if target == "svc" else authority
        try:
            response = _exchange(submission, chosen)
        except AuthorityUnavailable as error:
            counts["failed"] += 1
            if _record_outage(submission_id, error, was_uncertain, target, now):
                mode = AuthorityMode.CONTINGENCY
            continue
        status = _record_answer(submission_id, response, now)
        counts[{"authorized": "authorized", "denied": "denied"}.get(status, "rejected")] += 1
        if target == "normal":
            NFeAuthorityState.objects.filter(company=company).update(consecutive_failures=0)
    with transaction.atomic():
        counts["contingency"] = int(_state_locked(company).mode == AuthorityMode.CONTINGENCY)
    return counts


def nfe_authorities_for(company) -> AuthoritySet | None:
    """The authorities and certificate of `company`, from the factory named in the
    RETAGUARDA_NFE_AUTHORITIES setting (a dotted path to `factory(company) -> AuthoritySet |
    None`). None when the instance has not configured one: nothing is sent."""
    path = getattr(settings, "RETAGUARDA_NFE_AUTHORITIES", "")
    return import_string(path)(company) if path else None


# --- cancel -------------------------------------------------------------------------------------


def nfe_cancel(
    *,
    actor: Actor,
    submission_id: int,
    reason: str,
    authority: Authority,
    certificate: A1Certificate,
    now: datetime | None = None,
) -> NFeEvent:
    """Cancel an authorized NF-e at the authority (event 110111) within 24 hours of its
    authorization. The reason needs 15 to 255 characters. The authority's refusal is recorded
    as a rejected event and raised as Conflict; an unreachable authority writes nothing."""
    require(actor, "billing.change")
    now = now or timezone.now()
    submission = NFeSubmission.objects.filter(company=actor.company, pk=submission_id).first()
    if submission is None:
        raise NotFound(_("NF-e not found."))
    reason = nfe._text(reason, nfe.CANCEL_REASON_MAX + 1)
    if not nfe.CANCEL_REASON_MIN <= len(reason) <= nfe.CANCEL_REASON_MAX:
        raise ValidationFailed(
            _("The reason needs %(min)s to %(max)s characters.")
            % {"min": nfe.CANCEL_REASON_MIN, "max": nfe.CANCEL_REASON_MAX},
            fields={"reason": _("From 15 to 255 characters.")},
        )
    _cancellable(submission, now)
    event_xml = nfe.nfe_cancel_event_build(
        access_key=submission.access_key,
        protocol=submission.protocol,
        reason=reason,
        environment=submission.environment,
        at=now,
    )
    signed = nfe_sign(event_xml, certificate)
    errors = nfe.nfe_event_validate(signed)
    if errors:
        raise _invalid_xml(errors)
    try:
        response = authority.cancel(submission.access_key, submission.protocol, reason, signed)
    except AuthorityUnavailable as error:
        raise AuthorityUnreachable(
            _("The authority could not be reached; nothing was cancelled. %(error)s") % {"error": error.message}
        ) from error
    with transaction.atomic():
        submission = NFeSubmission.objects.select_for_update().get(pk=submission.pk)
        registered = response.event_registered
        event = NFeEvent.objects.create(
            company=actor.company,
            submission=submission,
            event_type=nfe.CANCEL_EVENT_TYPE,
            reason=reason,
            xml=signed.decode(),
            status=EventStatus.REGISTERED if registered else EventStatus.REJECTED,
            cstat=response.cstat[:3],
            xmotivo=response.xmotivo[:255],
            protocol=response.protocol,
            response_xml=response.xml.decode(),
            registered_at=(response.received_at or now) if registered else None,
            created_by=actor.user if actor.user_id else None,
        )
        if registered:
            before = {"status": submission.status}
            submission.status = SubmissionStatus.CANCELLED
            submission.cancelled_at = now
            submission.save(update_fields=["status", "cancelled_at", "updated_at"])
            payload = {
                "invoice_id": submission.invoice_id,
                "access_key": submission.access_key,
                "protocol": event.protocol,
                "reason": reason,
            }
            audit_record(
                actor=actor,
                company=actor.company,
                obj=submission,
                action="nfe.cancelled",
                before=before,
                after={"status": submission.status, **payload},
            )
            event_emit(company=actor.company, name="nfe.cancelled", obj=submission, payload=payload)
        else:
            audit_record(
                actor=actor,
                company=actor.company,
                obj=submission,
                action="nfe.cancellation_refused",
                after={"cstat": event.cstat, "xmotivo": event.xmotivo},
            )
    if not registered:
        raise Conflict(
            _("The authority refused the cancellation (%(code)s: %(reason)s).")
            % {"code": response.cstat, "reason": response.xmotivo},
            code="nfe_cancel_refused",
        )
    return event


def _cancellable(submission: NFeSubmission, now: datetime) -> None:
    if submission.status != SubmissionStatus.AUTHORIZED:
        raise Conflict(
            _("Only an authorized NF-e can be cancelled; this one is %(status)s.")
            % {"status": submission.get_status_display().lower()},
            code="nfe_not_authorized",
        )
    if submission.authorized_at is None or now - submission.authorized_at > CANCEL_WINDOW:
        raise Conflict(
            _(
                "An NF-e can be cancelled only within 24 hours of its authorization (authorized %(at)s); "
                "issue a return (credit note) instead."
            )
            % {
                "at": timezone.localtime(submission.authorized_at).strftime("%Y-%m-%d %H:%M")
                if submission.authorized_at
                else "?"
            },
            code="nfe_cancel_window",
        )
