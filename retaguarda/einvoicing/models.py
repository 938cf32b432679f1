"""The records of electronic invoicing in Brazil: each NF-e submitted to the authority with its
answer, each event (cancellation) registered on it, each company's standing with the
authority (normal or in contingency), and the company's A1 certificate that signs them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retaguarda.core.models import Company, User


class SubmissionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # in flight, or sent without a definite answer
    AUTHORIZED = "authorized", _("Authorized")
    REJECTED = "rejected", _("Rejected")  # the number is still free: correct and submit again
    DENIED = "denied", _("Use denied")  # the number is used up; the sale cannot go ahead on it
    CONTINGENCY = "contingency", _("Waiting in contingency")
    CANCELLED = "cancelled", _("Cancelled")


# Waiting to be sent (queued) or re-sent (sent without an answer, waiting in contingency).
PENDING_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SENT, SubmissionStatus.CONTINGENCY)


class EmissionType(models.TextChoices):
    """tpEmis. NF-e (model 55) uses the virtual contingency authorities when the state's own is
    down: each state has one SVC (AN or RS) that authorizes in its place, online, so no note
    waits for the state's return once it was re-issued there."""

    NORMAL = "1", _("Normal")
    SVC_AN = "6", _("Contingency SVC-AN")
    SVC_RS = "7", _("Contingency SVC-RS")


class AuthorityMode(models.TextChoices):
    NORMAL = "normal", _("Normal")
    CONTINGENCY = "contingency", _("Contingency")


class EventStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    REJECTED = "rejected", _("Rejected")


class NFeSubmission(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="nfe_submissions")
    access_key = models.CharField(_("access key"), max_length=44, unique=True)
    # The key the note had before it was re-issued in contingency (the key changes with tpEmis).
    previous_access_key = models.CharField(_("access key before contingency"), max_length=44, blank=True)
    series = models.PositiveSmallIntegerField(_("series"))
    number = models.PositiveIntegerField(_("number"))
    environment = models.CharField(_("environment"), max_length=1, default="2")
    uf_code = models.CharField(_("state code"), max_length=2)
    xml = models.TextField(_("signed XML"))
    status = models.CharField(
        _("status"), max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED
    )
    cstat = models.CharField(_("status code (cStat)"), max_length=3, blank=True)
    xmotivo = models.CharField(_("authority's message (xMotivo)"), max_length=255, blank=True)
    protocol = models.CharField(_("authorization protocol"), max_length=20, blank=True)
    protocol_xml = models.TextField(_("authorization (protNFe)"), blank=True)
    authorized_at = models.DateTimeField(_("authorized"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    # The last attempt timed out after sending: the authority may have authorized the note, so it
    # is asked again under the same key before anything else.
    outcome_uncertain = models.BooleanField(default=False)
    emission_type = models.CharField(
        _("emission type"), max_length=1, choices=EmissionType.choices, default=EmissionType.NORMAL
    )
    contingency_reason = models.CharField(_("contingency reason"), max_length=256, blank=True)
    contingency_at = models.DateTimeField(_("in contingency since"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("NF-e submission")
        verbose_name_plural = _("NF-e submissions")
        constraints = [
            # A rejected note may be corrected and submitted again; anything else is the one.
            models.UniqueConstraint(
                fields=["company", "invoice"], condition=~Q(status="rejected"), name="nfe_one_live_per_invoice"
            ),
        ]
        indexes = [models.Index(fields=["company", "status", "next_attempt_at"], name="nfe_submission_queue_idx")]

    def __str__(self) -> str:
        return self.access_key


class NFeEvent(models.Model):
    """An event registered (or refused) on an NF-e; today the cancellation (110111)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(NFeSubmission, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(_("event type"), max_length=6)
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    reason = models.CharField(_("reason"), max_length=255)
    xml = models.TextField(_("signed XML"))
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices)
    cstat = models.CharField(_("status code (cStat)"), max_length=3, blank=True)
    xmotivo = models.CharField(_("authority's message (xMotivo)"), max_length=255, blank=True)
    protocol = models.CharField(_("event protocol"), max_length=20, blank=True)
    response_xml = models.TextField(_("authority's answer (retEvento)"), blank=True)
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("NF-e event")
        verbose_name_plural = _("NF-e events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.submission.access_key}"


class NFeAuthorityState(models.Model):
    """A company's standing with its authority: consecutive failures, and whether it issues in
    contingency (SVC) because its state's authority is down."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(_("mode"), max_length=12, choices=AuthorityMode.choices, default=AuthorityMode.NORMAL)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    contingency_since = models.DateTimeField(_("in contingency since"), null=True, blank=True)
    contingency_reason = models.CharField(_("contingency reason"), max_length=256, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("NF-e authority state")
        verbose_name_plural = _("NF-e authority states")

    def __str__(self) -> str:
        return f"{self.company} {self.mode}"


class CompanyCertificate(models.Model):
    """A company's A1 certificate (PKCS#12 file) that signs its NF-e and identifies it to SEFAZ.

    One is active per company. The password is stored encrypted with a key derived from the
    instance's SECRET_KEY (see `certificates.py` for why and what that costs). A replaced
    certificate keeps its facts for the record, but its file and password are erased."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    pfx = models.BinaryField(_("certificate file"), blank=True, editable=False)
    password_token = models.TextField(_("encrypted password"), blank=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    cnpj = models.CharField(_("CNPJ"), max_length=14)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    uploaded_at = models.DateTimeField(_("uploaded"))
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("A1 certificate")
        verbose_name_plural = _("A1 certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["company"], condition=Q(is_active=True), name="certificate_one_active_per_company"
            ),
        ]

    def __str__(self) -> str:
        return self.subject
