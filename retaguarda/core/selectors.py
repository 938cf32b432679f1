"""Reads of core with business meaning."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditLog, Company, Membership
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
