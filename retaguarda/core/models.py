"""Company, users and their roles, and the cross-cutting records: audit, sequences, events,
webhooks, idempotency, API tokens, login attempts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    OPEN_DEVIATION_STATUSES,
    Area,
    Country,
    Currency,
    DeviationStatus,
    Language,
    Role,
    Severity,
    WebhookDeliveryStatus,
)


class Company(models.Model):
    legal_name = models.CharField(_("legal name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=32)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    base_currency = models.CharField(_("base currency"), max_length=3, choices=Currency.choices)
    default_language = models.CharField(_("default language"), max_length=8, choices=Language.choices)
    # Fiscal settings: regime (e.g. Simples Nacional / Regime Normal, IVA general), state or
    # province, rounding policy. Typed fields come with billing; kept as data until then.
    fiscal_settings = models.JSONField(_("fiscal settings"), default=dict, blank=True)
    # Sales policy: confirm orders whose stock is short, the missing part waiting for stock.
    allow_backorders = models.BooleanField(_("allow back-orders"), default=False)
    # The handling time promised to customers: days from confirmation to shipment.
    handling_days = models.PositiveSmallIntegerField(_("handling time (days)"), default=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [models.UniqueConstraint(fields=["country", "tax_id"], name="company_unique_tax_id")]

    def __str__(self) -> str:
        return self.trade_name or self.legal_name


class User(AbstractUser):
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Membership(models.Model):
    """Grants a user one role in one company; partners are limited to `areas`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    areas = models.JSONField(_("partner areas"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user_company")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}: {self.role}"


class AuditLog(models.Model):
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit record")
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx")]
        ordering = ["-at", "-id"]


class Sequence(models.Model):
    """The locked counter row behind gap-free numbering per company, series and year."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "series", "year"], name="sequence_unique_series_year")
        ]


class OutboxEvent(models.Model):
    """A domain event, written in the transaction that caused it and delivered after commit."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]


class WebhookSubscription(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    # Event names, or ["*"] for all.
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_name: str) -> bool:
        """Subscribed to `event_name`: listed, or "*", or a prefix pattern such as "order.*"."""
        return any(
            pattern == "*" or pattern == event_name or (pattern.endswith(".*") and event_name.startswith(pattern[:-1]))
            for pattern in self.events
        )


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=WebhookDeliveryStatus.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(_("Webhook delivery #%(id)s") % {"id": self.pk})


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery: the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]


class IdempotencyRecord(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "key"], name="idempotency_unique_key")]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """Failed log-ins, kept in the database so throttling works across processes."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The failure that crossed the lock threshold: the lock runs from it, whatever the window.
    locked = models.BooleanField(default=False)


class Deviation(models.Model):
    """Something in the operation that went wrong or is about to, with an owner and an age.

    Raised by the area that detects it (a short pick, stock low); at most one is open per kind
    and object, and it closes by itself when its condition clears.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=64)
    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    owner_role = models.CharField(_("owner role"), max_length=20, choices=Role.choices)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=DeviationStatus.choices, default="open")
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "object_type", "object_id"],
                condition=models.Q(status__in=OPEN_DEVIATION_STATUSES),
                name="deviation_one_open_per_kind_and_object",
            )
        ]
        indexes = [models.Index(fields=["company", "status", "area"], name="deviation_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_type}:{self.object_id}"


__all__ = [
    "Area",
    "ApiToken",
    "AuditLog",
    "Company",
    "Deviation",
    "IdempotencyRecord",
    "LoginFailure",
    "Membership",
    "OutboxEvent",
    "Role",
    "Sequence",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
