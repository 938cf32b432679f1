"""Deviations: a registry of the kinds each area raises, the services that open and close them,
and the inbox: who sees which, and acknowledging or resolving one by hand."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.common.workflow import Transition, Workflow

from .choices import OPEN_DEVIATION_STATUSES, DeviationStatus, Role, Severity
from .models import Deviation
from .permissions import Actor, require
from .workflow import transition_apply


@dataclass(frozen=True)
class DeviationKind:
    """What a kind of deviation is: `title` is a lazy translation formatted with the params."""

    code: str
    title: object
    area: str
    severity: str
    owner_role: str


KINDS: dict[str, DeviationKind] = {}


def register(kind: DeviationKind) -> DeviationKind:
    KINDS[kind.code] = kind
    return kind


def deviation_title(deviation: Deviation) -> str:
    kind = KINDS.get(deviation.kind)
    if kind is None:
        return deviation.kind
    try:
        return str(kind.title) % deviation.params
    except (KeyError, TypeError, ValueError):
        return str(kind.title)


def deviation_raise(
    *, company, kind: str, obj=None, object_type: str = "", object_id="", object_repr: str = "", params=None
) -> Deviation:
    """Open a deviation of `kind` about `obj`, or return the one already open: never two.

    Runs in the caller's transaction, so it exists only if what caused it is committed.
    """
    spec = KINDS[kind]
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    key = {"company": company, "kind": kind, "object_type": object_type, "object_id": str(object_id)}
    existing = Deviation.objects.filter(**key, status__in=OPEN_DEVIATION_STATUSES).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Deviation.objects.create(
                **key,
                area=spec.area,
                severity=spec.severity,
                owner_role=spec.owner_role,
                object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
                params={k: str(v) for k, v in (params or {}).items()},
            )
    except IntegrityError:
        return Deviation.objects.get(**key, status__in=OPEN_DEVIATION_STATUSES)


def deviation_clear(*, company, kind: str, obj=None, object_type: str = "", object_id="") -> int:
    """Close the open deviation of `kind` about `obj` because its condition cleared."""
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    return Deviation.objects.filter(
        company=company,
        kind=kind,
        object_type=object_type,
        object_id=str(object_id),
        status__in=OPEN_DEVIATION_STATUSES,
    ).update(status=DeviationStatus.CLOSED, ended_at=timezone.now())


# --- the inbox ----------------------------------------------------------------------------------

S = DeviationStatus
DEVIATION_WORKFLOW = Workflow(
    "status",
    [
        Transition(S.OPEN, S.ACKNOWLEDGED, "acknowledge", "core.deviations.view"),
        Transition(S.OPEN, S.RESOLVED, "resolve", "core.deviations.view"),
        Transition(S.ACKNOWLEDGED, S.RESOLVED, "resolve", "core.deviations.view"),
    ],
)

# Roles that see every deviation of the company; everyone else sees those their role owns.
SEE_ALL_ROLES = frozenset({Role.ADMINISTRATOR, Role.MANAGER})
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def deviations_visible(*, actor: Actor) -> QuerySet[Deviation]:
    """The deviations the actor may see and act on, whatever their status."""
    require(actor, "core.deviations.view")
    rows = Deviation.objects.filter(company=actor.company)
    if actor.role not in SEE_ALL_ROLES:
        rows = rows.filter(owner_role=actor.role)
    return rows


def deviations_open_for(*, actor: Actor) -> QuerySet[Deviation]:
    """The actor's open and acknowledged deviations with `priority` (0 for critical): sorted by
    priority then primary key, the most severe come first and, among equals, the oldest."""
    return (
        deviations_visible(actor=actor)
        .filter(status__in=OPEN_DEVIATION_STATUSES)
        .select_related("owner")
        .annotate(
            priority=Case(
                *[When(severity=severity, then=Value(rank)) for rank, severity in enumerate(SEVERITY_ORDER)],
                default=Value(len(SEVERITY_ORDER)),
                output_field=IntegerField(),
            )
        )
        .order_by("priority", "pk")
    )


def _visible_for_update(actor: Actor, deviation_id) -> Deviation:
    try:
        deviation_id = int(deviation_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such deviation."))
    deviation = deviations_visible(actor=actor).select_for_update().filter(pk=deviation_id).first()
    if deviation is None:
        raise NotFound(_("No such deviation."))
    return deviation


@transaction.atomic
def deviation_acknowledge(*, actor: Actor, deviation_id) -> Deviation:
    """Someone takes the deviation on: it stays open, with them as its owner."""
    require(actor, "core.deviations.view")
    deviation = _visible_for_update(actor, deviation_id)
    deviation.owner = actor.user if actor.user_id else None
    transition_apply(
        actor=actor,
        obj=deviation,
        workflow=DEVIATION_WORKFLOW,
        action="acknowledge",
        update_fields=("owner",),
        audit_after={"owner": actor.label, "title": deviation_title(deviation)},
    )
    return deviation


@transaction.atomic
def deviation_resolve(*, actor: Actor, deviation_id) -> Deviation:
    """The deviation was dealt with by hand; if its condition comes back, a new one opens."""
    require(actor, "core.deviations.view")
    deviation = _visible_for_update(actor, deviation_id)
    deviation.ended_at = timezone.now()
    if deviation.owner_id is None and actor.user_id:
        deviation.owner = actor.user
    transition_apply(
        actor=actor,
        obj=deviation,
        workflow=DEVIATION_WORKFLOW,
        action="resolve",
        update_fields=("ended_at", "owner"),
        audit_after={"title": deviation_title(deviation)},
    )
    return deviation
