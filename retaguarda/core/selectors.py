"""Reads of core with business meaning."""

from __future__ import annotations

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast, Lower

from .models import ApiToken, AuditLog, Company, Membership, WebhookDelivery, WebhookSubscription
from .permissions import Actor


def memberships_for(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True, user__is_active=True).select_related("company")


def actor_for(user, company_id: int | None = None) -> Actor | None:
    """The actor for `user` in the requested company, or in their first company; None if none granted."""
    memberships = memberships_for(user).order_by("company_id")
    membership = None
    if company_id is not None:
        membership = memberships.filter(company_id=company_id).first()
    if membership is None:
        membership = memberships.first()
    if membership is None:
        return None
    return Actor(user=user, company=membership.company, role=membership.role, areas=tuple(membership.areas or ()))


def companies_for(user) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user, memberships__is_active=True).order_by("legal_name")


def timeline_for(*, company, obj) -> QuerySet[AuditLog]:
    """The audit rows of one object, newest first: a document's timeline."""
    return AuditLog.objects.filter(
        company=company, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")


def audit_recent(*, company, limit: int = 10) -> list[AuditLog]:
    """The company's latest audit rows, newest first (the dashboard's recent activity)."""
    return list(AuditLog.objects.filter(company=company).order_by("-at", "-id")[:limit])


def audit_log_for(actor: Actor) -> QuerySet[AuditLog]:
    """The company's audit rows, plus the log-in events (failures, locks, successes) of its members."""
    members = Membership.objects.filter(company=actor.company)
    member_usernames = members.annotate(name=Lower("user__username")).values("name")
    member_ids = members.annotate(uid=Cast("user_id", CharField())).values("uid")
    return AuditLog.objects.filter(
        Q(company=actor.company)
        | Q(company__isnull=True, object_type="auth.login", object_id__in=member_usernames)
        | Q(company__isnull=True, object_type="core.user", action="login.succeeded", object_id__in=member_ids)
    ).select_related("actor")


def webhook_subscriptions_for(actor: Actor) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(company=actor.company)


def webhook_deliveries_for(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """A subscription's delivery log, newest first, with each delivery's attempts."""
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-id")
    )


def jobs_for(actor: Actor):
    """Background jobs of the actor's company, and the instance-wide ones that name no company."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        Q(args_kwargs__kwargs__company_id=actor.company.pk) | ~Q(args_kwargs__kwargs__has_key="company_id")
    )


def api_tokens_for(actor: Actor) -> QuerySet[ApiToken]:
    """The actor's own tokens in the active company."""
    return ApiToken.objects.filter(user_id=actor.user_id, company=actor.company)


def members_for(actor: Actor) -> QuerySet[Membership]:
    """Everyone granted a role in the actor's company, active or not."""
    return Membership.objects.filter(company=actor.company).select_related("user")
