"""Deviations: a registry of the kinds each area raises, and the services that open and close
them. The inbox itself (comments, detectors run by the worker) builds on these."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import OPEN_DEVIATION_STATUSES, DeviationStatus
from .models import Deviation


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
