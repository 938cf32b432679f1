"""The writers of core: audit, sequences, events and webhooks, tokens, companies and users."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common import taxids
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.common.taxids import TaxIdInvalid, tax_id_validate

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
    if year is None:  # 0 names a series that never restarts (Brazil's NF-e numbers)
        year = timezone.localdate().year
    filters = {"company": company, "series": series, "year": year}
    number = _sequence_increment(company, series, year)
    if number is not None:
        return number
    try:
        with transaction.atomic():
            Sequence.objects.create(**filters, last_number=1)
        return 1
    except IntegrityError:
        # Another writer created the row first; now it exists, so increment it.
        return _sequence_increment(company, series, year)


def _sequence_increment(company, series: str, year: int) -> int | None:
    """Increment the counter and read it in one statement (UPDATE … RETURNING, which both
    PostgreSQL and SQLite 3.35+ have); None when the counter row does not exist yet."""
    table = Sequence._meta.db_table
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET last_number = last_number + 1"  # noqa: S608
            " WHERE company_id = %s AND series = %s AND year = %s RETURNING last_number",
            [company.pk if hasattr(company, "pk") else company, series, year],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def event_emit(*, company, name: str, obj=None, payload: dict | None = None) -> OutboxEvent:
    """Write a domain event to the outbox and queue its webhook deliveries after commit.

    Runs in the caller's transaction: if it rolls back, neither the event nor its deliveries
    exist and nothing is queued, so nothing is sent.
    """
    event = OutboxEvent.objects.create(
        company=company,
        name=name,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        payload=_jsonable(payload or {}),
    )
    now = timezone.now()
    deliveries = [
        WebhookDelivery(subscription=sub, event=event, next_attempt_at=now)
        for sub in WebhookSubscription.objects.filter(company=company, is_active=True).order_by("pk")
        if sub.wants(name)
    ]
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
        from .webhooks import delivery_enqueue

        for delivery_id in WebhookDelivery.objects.filter(event=event).values_list("pk", flat=True):
            transaction.on_commit(
                lambda d=delivery_id: delivery_enqueue(delivery_id=d, company_id=company.pk, scheduled_for=now)
            )
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


# Companies ----------------------------------------------------------------------------------

# Company.fiscal_settings holds three checked keys until billing brings typed fields:
#   regime    the tax regime, one of FISCAL_REGIMES[country] (countries not listed: "standard")
#   state     Brazil only: the UF whose ICMS applies (SP, RJ, ...), required there
#   province  elsewhere: the province or region as written on invoices, optional
#   rounding  where invoice tax is rounded: per "line" (the default) or once per "document"
# Other keys (municipality codes, Verifactu flags) are kept as they are.
FISCAL_REGIMES: dict[str, tuple[str, ...]] = {
    "BR": ("simples_nacional", "regime_normal"),
    "ES": ("general", "recargo_equivalencia", "simplificado"),
}
FISCAL_REGIME_DEFAULT = "standard"
FISCAL_ROUNDINGS = ("line", "document")
BR_STATES = tuple("AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO".split())
COMPANY_FIELDS = [
    "legal_name",
    "trade_name",
    "tax_id",
    "default_language",
    "fiscal_settings",
    "allow_backorders",
    "handling_days",
]
HANDLING_DAYS_MAX = 60


def fiscal_regimes_for(country: str) -> tuple[str, ...]:
    return FISCAL_REGIMES.get(country, (FISCAL_REGIME_DEFAULT,))


def fiscal_settings_clean(*, country: str, settings: dict, current: dict | None = None) -> dict:
    """The fiscal settings to store: the checked keys of `settings` over the `current` ones.

    Raises ValidationFailed naming every wrong key.
    """
    if not isinstance(settings, dict):
        raise ValidationFailed(_("The fiscal settings are not valid."), fields={"fiscal_settings": [_("Not valid.")]})
    cleaned = dict(current or {})
    errors: dict[str, list[str]] = {}
    regime = str(settings.get("regime") or "").strip()
    if regime not in fiscal_regimes_for(country):
        errors["regime"] = [_("Choose a tax regime from the list.")]
    rounding = str(settings.get("rounding") or "line").strip()
    if rounding not in FISCAL_ROUNDINGS:
        errors["rounding"] = [_("Choose whether tax is rounded per line or per document.")]
    if country == "BR":
        state = str(settings.get("state") or "").strip().upper()
        if state not in BR_STATES:
            errors["state"] = [_("Choose the state (UF) from the list.")]
        cleaned.pop("province", None)
        cleaned["state"] = state
    else:
        province = str(settings.get("province") or "").strip()
        if len(province) > 100 or _CONTROL_CHARACTERS.search(province):
            errors["province"] = [_("Use at most 100 printable characters.")]
        cleaned.pop("state", None)
        cleaned["province"] = province
    if errors:
        raise ValidationFailed(_("The fiscal settings are not valid."), fields=errors)
    cleaned["regime"], cleaned["rounding"] = regime, rounding
    return cleaned


def company_tax_id_clean(*, country: str, tax_id: str) -> str:
    """The compact, validated tax id of a company of `country`; ValidationFailed when it is not one.

    Brazil: a CNPJ. Spain: a CIF, or the NIF (DNI, NIE) of an autónomo trading in their own
    name. Other EU countries: the VAT number with its prefix. Elsewhere letters and digits.
    """
    try:
        try:
            return tax_id_validate(country=country, number=tax_id, kind=taxids.COMPANY).number
        except TaxIdInvalid as exc:
            if country == "ES" and exc.code == "wrong_kind":
                return tax_id_validate(country=country, number=tax_id, kind=taxids.PERSON).number
            raise
    except TaxIdInvalid as exc:
        raise ValidationFailed(exc.message, fields={"tax_id": [exc.message]})


def _company_tax_id_free(*, country: str, tax_id: str, exclude_pk=None) -> None:
    others = Company.objects.filter(country=country, tax_id=tax_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise _company_tax_id_conflict()


def _company_tax_id_conflict() -> Conflict:
    return Conflict(
        _("A company with this tax id already exists."),
        fields={"tax_id": [_("Another company of this country already has this tax id.")]},
    )


# Called with each new company inside company_create's transaction, right after its row is
# written: apps above core (the ledger installs its chart) register here, as core imports none.
COMPANY_CREATED_HOOKS: list[Callable[[Company], None]] = []


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
    """A new company (operators and the demo create them; there is no permission above them).

    The tax id is validated for the country and stored compact. Fiscal settings are stored as
    given (the demo brings its own keys); the settings page checks them through company_update.
    """
    from .choices import Country, Currency, Language

    legal_name, trade_name = (legal_name or "").strip(), (trade_name or "").strip()
    errors: dict[str, list[str]] = {}
    if not legal_name or len(legal_name) > 200:
        errors["legal_name"] = [_("Enter a legal name of 1 to 200 characters.")]
    if len(trade_name) > 200:
        errors["trade_name"] = [_("Use at most 200 characters.")]
    if country not in Country.values:
        errors["country"] = [_("Unknown country.")]
    else:
        try:
            tax_id = company_tax_id_clean(country=country, tax_id=tax_id)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if base_currency not in Currency.values:
        errors["base_currency"] = [_("Unknown currency.")]
    if default_language not in Language.values:
        errors["default_language"] = [_("Unknown language.")]
    if fiscal_settings is not None and not isinstance(fiscal_settings, dict):
        errors["fiscal_settings"] = [_("Not valid.")]
    elif fiscal_settings and country in Country.values:
        # Settings given at creation are checked like the settings page checks them; none at all
        # is allowed (the administrator completes them on the page).
        try:
            fiscal_settings = fiscal_settings_clean(country=country, settings=fiscal_settings, current=fiscal_settings)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("The company could not be created."), fields=errors)
    _company_tax_id_free(country=country, tax_id=tax_id)
    try:
        with transaction.atomic():
            company = Company.objects.create(
                legal_name=legal_name,
                trade_name=trade_name,
                tax_id=tax_id,
                country=country,
                base_currency=base_currency,
                default_language=default_language,
                fiscal_settings=fiscal_settings or {},
            )
    except IntegrityError:  # created by a concurrent writer since the check above
        raise _company_tax_id_conflict()
    for hook in COMPANY_CREATED_HOOKS:
        hook(company)
    audit_record(
        actor=actor,
        company=company,
        obj=company,
        action="company.create",
        after={"legal_name": legal_name, "tax_id": tax_id, "country": country},
    )
    return company


@transaction.atomic
def company_update(
    *,
    actor: Actor,
    legal_name: str,
    trade_name: str,
    tax_id: str,
    default_language: str,
    fiscal_settings: dict,
    allow_backorders: bool | None = None,
    handling_days: int | None = None,
) -> Company:
    """Change the actor's company: names, tax id, language, fiscal settings and, when given, the
    sales policy (`allow_backorders`, `handling_days` from 0 to HANDLING_DAYS_MAX).

    The country and base currency stay: every amount and number of the company depends on them.
    """
    from .choices import Language

    require(actor, "core.company.change")
    company = Company.objects.select_for_update().get(pk=actor.company.pk)
    legal_name, trade_name = (legal_name or "").strip(), (trade_name or "").strip()
    errors: dict[str, list[str]] = {}
    if not legal_name or len(legal_name) > 200:
        errors["legal_name"] = [_("Enter a legal name of 1 to 200 characters.")]
    if len(trade_name) > 200:
        errors["trade_name"] = [_("Use at most 200 characters.")]
    try:
        tax_id = company_tax_id_clean(country=company.country, tax_id=tax_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if default_language not in Language.values:
        errors["default_language"] = [_("Unknown language.")]
    try:
        fiscal_settings = fiscal_settings_clean(
            country=company.country, settings=fiscal_settings, current=company.fiscal_settings
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if allow_backorders is not None and not isinstance(allow_backorders, bool):
        errors["allow_backorders"] = [_("Choose yes or no.")]
    if handling_days is not None and (
        isinstance(handling_days, bool)
        or not isinstance(handling_days, int)
        or not 0 <= handling_days <= HANDLING_DAYS_MAX
    ):
        errors["handling_days"] = [
            _("Enter a whole number of days from 0 to %(maximum)d.") % {"maximum": HANDLING_DAYS_MAX}
        ]
    if errors:
        raise ValidationFailed(_("The company could not be saved."), fields=errors)
    _company_tax_id_free(country=company.country, tax_id=tax_id, exclude_pk=company.pk)
    before = snapshot(company, COMPANY_FIELDS)
    company.legal_name, company.trade_name, company.tax_id = legal_name, trade_name, tax_id
    company.default_language, company.fiscal_settings = default_language, fiscal_settings
    if allow_backorders is not None:
        company.allow_backorders = allow_backorders
    if handling_days is not None:
        company.handling_days = handling_days
    old, new = changed(before, snapshot(company, COMPANY_FIELDS))
    if new:
        try:
            with transaction.atomic():
                company.save(update_fields=list(new))
        except IntegrityError:
            raise _company_tax_id_conflict()
        audit_record(actor=actor, company=company, obj=company, action="company.update", before=old, after=new)
        event_emit(company=company, name="company.updated", obj=company, payload=new)
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
    grant_existing: bool = True,
) -> User:
    """Create a user with a role in `company`, or grant the role to an existing user.

    With an actor (the web pages) the company must be the actor's own; `grant_existing=False`
    refuses a user name that is already taken instead of granting it the role. Areas apply to
    partners only and are dropped for the other roles.
    """
    from .choices import Area, Role

    if actor is not None:
        require(actor, "core.users.manage")
        if company.pk != actor.company.pk:
            raise PermissionDenied(_("You do not have permission to do this."))
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        if not username or len(username) > 150:
            raise DjangoValidationError(_("Enter a user name of 1 to 150 characters."))
        User.username_validator(username)
    except DjangoValidationError as exc:
        errors["username"] = [str(m) for m in exc.messages]
    if role not in Role.values:
        errors["role"] = [_("Unknown role.")]
    areas = list(dict.fromkeys(areas or [])) if role == Role.PARTNER else []
    if any(area not in Area.values for area in areas):
        errors["areas"] = [_("Unknown area.")]
    if errors:
        raise ValidationFailed(_("The user could not be created."), fields=errors)
    user = User.objects.filter(username=username).first()
    before = None
    if user is None:
        user = User(username=username, email=email, language=language, first_name=first_name, last_name=last_name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    elif not grant_existing:
        raise ValidationFailed(
            _("This user name is taken."), fields={"username": [_("This user name is taken; choose another.")]}
        )
    else:
        previous = Membership.objects.filter(user=user, company=company).first()
        if previous is not None:
            before = {"role": previous.role, "areas": previous.areas, "is_active": previous.is_active}
    Membership.objects.update_or_create(
        user=user, company=company, defaults={"role": role, "areas": areas, "is_active": True}
    )
    audit_record(
        actor=actor,
        company=company,
        obj=user,
        action="user.grant",
        before=before,
        after={"username": username, "role": role, "areas": areas, "is_active": True},
    )
    return user


def _membership_set_active(*, actor: Actor, user_id: int, active: bool) -> Membership:
    require(actor, "core.users.manage")
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(user_id=user_id, company=actor.company)
        .first()
    )
    if membership is None:
        raise NotFound(_("No such user."))
    if membership.user_id == actor.user_id:
        raise ValidationFailed(_("You cannot change your own access."))
    if membership.is_active != active:
        membership.is_active = active
        membership.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            company=actor.company,
            obj=membership.user,
            action="user.activate" if active else "user.deactivate",
            before={"is_active": not active},
            after={"is_active": active},
        )
    return membership


@transaction.atomic
def membership_deactivate(*, actor: Actor, user_id: int) -> Membership:
    """Take the user's access to the actor's company away (their API tokens stop working too)."""
    return _membership_set_active(actor=actor, user_id=user_id, active=False)


@transaction.atomic
def membership_activate(*, actor: Actor, user_id: int) -> Membership:
    return _membership_set_active(actor=actor, user_id=user_id, active=True)


WEBHOOK_SECRET_PREFIX = "whsec_"
_EVENT_NAME = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _webhook_fields(*, name: str, url: str, events) -> tuple[str, str, list[str]]:
    """Clean and check a subscription's fields; one ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100 or _CONTROL_CHARACTERS.search(name):
        errors["name"] = [_("Use at most 100 printable characters.")]
    url = (url or "").strip()
    try:
        if len(url) > 500 or _CONTROL_CHARACTERS.search(url):
            raise DjangoValidationError("too long")
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError:
        errors["url"] = [_("Enter an http:// or https:// address of at most 500 characters.")]
    if isinstance(events, str):
        events = events.replace(",", " ").split()
    events = list(dict.fromkeys(str(e).strip() for e in events or () if str(e).strip()))
    if not events:
        errors["events"] = [_("Name at least one event, or * for all.")]
    elif len(events) > 50 or any(len(e) > 64 or not _EVENT_NAME.match(e) for e in events):
        errors["events"] = [_("Event names look like order.confirmed; use * for all events.")]
    if errors:
        raise ValidationFailed(_("The webhook has invalid fields."), fields=errors)
    if "*" in events:
        events = ["*"]
    return name, url, events


@transaction.atomic
def webhook_subscription_create(*, actor: Actor, name: str, url: str, events) -> WebhookSubscription:
    """Subscribe a URL to events; the signing secret is generated here."""
    require(actor, "core.webhooks.manage")
    name, url, events = _webhook_fields(name=name, url=url, events=events)
    subscription = WebhookSubscription.objects.create(
        company=actor.company,
        name=name,
        url=url,
        events=events,
        secret=WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32),
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=subscription,
        action="webhook.create",
        after=snapshot(subscription, ["name", "url", "events", "is_active"]),
    )
    return subscription


def _subscription_locked(actor: Actor, subscription_id: int) -> WebhookSubscription:
    subscription = (
        WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, company=actor.company).first()
    )
    if subscription is None:
        raise NotFound(_("No such webhook."))
    return subscription


@transaction.atomic
def webhook_subscription_update(
    *, actor: Actor, subscription_id: int, name: str, url: str, events, is_active: bool
) -> WebhookSubscription:
    require(actor, "core.webhooks.manage")
    subscription = _subscription_locked(actor, subscription_id)
    name, url, events = _webhook_fields(name=name, url=url, events=events)
    fields = ["name", "url", "events", "is_active"]
    before = snapshot(subscription, fields)
    subscription.name, subscription.url, subscription.events = name, url, events
    subscription.is_active = bool(is_active)
    old, new = changed(before, snapshot(subscription, fields))
    if new:
        subscription.save(update_fields=fields)
        audit_record(
            actor=actor, company=actor.company, obj=subscription, action="webhook.update", before=old, after=new
        )
    return subscription


@transaction.atomic
def webhook_subscription_deactivate(*, actor: Actor, subscription_id: int) -> WebhookSubscription:
    """Stop sending to this URL; deliveries still queued for it fail without being sent."""
    require(actor, "core.webhooks.manage")
    subscription = _subscription_locked(actor, subscription_id)
    if subscription.is_active:
        subscription.is_active = False
        subscription.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            company=actor.company,
            obj=subscription,
            action="webhook.deactivate",
            before={"is_active": True},
            after={"is_active": False},
        )
    return subscription


def _self_or_user_manager(actor: Actor, user: User) -> None:
    """A user changes their own preferences and password; changing another's needs users.manage."""
    if user.pk != actor.user_id:
        require(actor, "core.users.manage")


@transaction.atomic
def user_language_set(*, actor: Actor, user: User, language: str) -> User:
    """Store the user's preferred language (one of settings.LANGUAGES)."""
    from django.conf import settings

    _self_or_user_manager(actor, user)
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationFailed(_("Unknown language."), fields={"language": [_("Choose a language from the list.")]})
    before = User.objects.filter(pk=user.pk).values_list("language", flat=True).get()
    if before != language:
        User.objects.filter(pk=user.pk).update(language=language)
        audit_record(
            actor=actor,
            company=actor.company,
            obj=user,
            action="user.language",
            before={"language": before},
            after={"language": language},
        )
    user.language = language
    return user


@transaction.atomic
def user_password_change(*, actor: Actor, user: User, new_password: str) -> User:
    """Set a new password (already validated by the caller's form); the audit row holds no secret."""
    _self_or_user_manager(actor, user)
    if not new_password:
        raise ValidationFailed(_("Enter a password."), fields={"new_password1": [_("This field is required.")]})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, company=actor.company, obj=user, action="user.password_change")
    return user
