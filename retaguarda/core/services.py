"""The writers of core: audit, sequences, events and webhooks, tokens, companies and users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound, ValidationFailed

from .models import (
    ApiToken,
    AuditLog,
    Company,
    Membership,
    OutboxEvent,
    Sequence,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from .permissions import Actor, require


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def audit_record(
    *,
    actor: Actor | None,
    company,
    obj=None,
    object_type: str = "",
    object_id="",
    action: str,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    """Write one audit row in the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = actor.user if actor else None
    return AuditLog.objects.create(
        company=company,
        actor=user if getattr(user, "pk", None) else None,
        actor_label=actor.label if actor else "system",
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(obj)[:200] if obj is not None else "",
        action=action,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )


def snapshot(obj, fields) -> dict:
    """The values of `fields` on `obj`, for an audit row's before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def sequence_next(*, company, series: str, year: int | None = None) -> int:
    """The next gap-free number of a series: must run inside the transaction that uses it.

    The UPDATE takes the counter row's lock (row lock on PostgreSQL, the database write lock
    on SQLite under BEGIN IMMEDIATE) until the caller's transaction ends, so a rolled-back
    document gives its number back and two writers never get the same one.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must be called inside a transaction")
    year = year or date.today().year
    filters = {"company": company, "series": series, "year": year}
    updated = Sequence.objects.filter(**filters).update(last_number=F("last_number") + 1)
    if not updated:
        try:
            with transaction.atomic():
                Sequence.objects.create(**filters, last_number=1)
            return 1
        except IntegrityError:
            # Another writer created the row first; now it exists, so increment it.
            Sequence.objects.filter(**filters).update(last_number=F("last_number") + 1)
    return Sequence.objects.filter(**filters).values_list("last_number", flat=True).get()


def event_emit(*, company, name: str, obj=None, payload: dict | None = None) -> OutboxEvent:
    """Write a domain event to the outbox and queue its webhook deliveries after commit."""
    event = OutboxEvent.objects.create(
        company=company,
        name=name,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        payload=_jsonable(payload or {}),
    )
    deliveries = [
        WebhookDelivery(subscription=sub, event=event, next_attempt_at=timezone.now())
        for sub in WebhookSubscription.objects.filter(company=company, is_active=True)
        if sub.wants(name)
    ]
    if deliveries:
        created = WebhookDelivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in created if d.pk] or list(
            WebhookDelivery.objects.filter(event=event).values_list("pk", flat=True)
        )
        from .tasks import deliver_webhook

        for delivery_id in ids:
            transaction.on_commit(lambda d=delivery_id: deliver_webhook.enqueue(d))
    return event


TOKEN_PREFIX = "rtg_"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Actor, user: User | None = None, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for `user` (default: the actor) in the actor's company.

    Returns the token row and the secret, which is never stored and cannot be shown again.
    """
    require(actor, "core.tokens.manage")
    user = user or actor.user
    if user is None:
        raise ValidationFailed(_("A token belongs to a user."), fields={"user": [_("Choose a user.")]})
    if user.pk != actor.user_id:
        require(actor, "core.users.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."), fields={"name": [_("This field is required.")]})
    if not Membership.objects.filter(user=user, company=actor.company, is_active=True).exists():
        raise ValidationFailed(_("The user has no access to this company."), fields={"user": [_("No access.")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, company=actor.company, name=name[:100], prefix=raw[:12], token_hash=_hash_token(raw)
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=token,
        action="token.create",
        after={"name": token.name, "user": user.username, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    require(actor, "core.tokens.manage")
    token = ApiToken.objects.select_for_update().filter(pk=token_id, company=actor.company).first()
    if token is None or (token.user_id != actor.user_id and not actor.can("core.users.manage")):
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            company=actor.company,
            obj=token,
            action="token.revoke",
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
    return token


def api_token_authenticate(raw: str) -> Actor | None:
    """The actor behind an active token: its user active and still a member of its company."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "company")
        .filter(token_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    membership = Membership.objects.filter(user_id=token.user_id, company_id=token.company_id, is_active=True).first()
    if membership is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Actor(user=token.user, company=token.company, role=membership.role, areas=tuple(membership.areas or ()))


@transaction.atomic
def company_create(
    *,
    legal_name: str,
    tax_id: str,
    country: str,
    base_currency: str,
    default_language: str,
    trade_name: str = "",
    fiscal_settings: dict | None = None,
    actor: Actor | None = None,
) -> Company:
    company = Company.objects.create(
        legal_name=legal_name,
        trade_name=trade_name,
        tax_id=tax_id,
        country=country,
        base_currency=base_currency,
        default_language=default_language,
        fiscal_settings=fiscal_settings or {},
    )
    audit_record(
        actor=actor,
        company=company,
        obj=company,
        action="company.create",
        after={"legal_name": legal_name, "tax_id": tax_id, "country": country},
    )
    return company


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    company: Company,
    role: str,
    areas: list[str] | None = None,
    email: str = "",
    language: str = "",
    first_name: str = "",
    last_name: str = "",
    actor: Actor | None = None,
) -> User:
    """Create a user with a role in `company` (or grant the role if the user exists)."""
    from .choices import Role

    if actor is not None:
        require(actor, "core.users.manage")
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), fields={"role": [_("Unknown role.")]})
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email, language=language, first_name=first_name, last_name=last_name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    Membership.objects.update_or_create(
        user=user, company=company, defaults={"role": role, "areas": list(areas or []), "is_active": True}
    )
    audit_record(
        actor=actor,
        company=company,
        obj=user,
        action="user.grant",
        after={"username": username, "role": role, "areas": list(areas or [])},
    )
    return user
