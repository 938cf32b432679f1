"""The one helper that moves a document along its workflow table: checks the transition and
the permission, stamps who and when, and writes the audit row and the event."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict
from retaguarda.common.workflow import Transition, Workflow

from .permissions import Actor, require
from .services import audit_record, event_emit


def transition_find(*, actor: Actor, obj, workflow: Workflow, action: str) -> Transition:
    """The transition `action` from the document's current state, permission checked; refuses
    with 409 `invalid_transition` when the state does not allow it."""
    source = getattr(obj, workflow.field)
    transition = workflow.find(source, action)
    if transition is None:
        label = obj.get_status_display() if hasattr(obj, "get_status_display") else source
        raise Conflict(
            _("This cannot be done while the document is %(status)s.") % {"status": label},
            code="invalid_transition",
        )
    require(actor, transition.permission)
    return transition


def transition_apply(
    *,
    actor: Actor,
    obj,
    workflow: Workflow,
    action: str,
    transition: Transition | None = None,
    update_fields: tuple[str, ...] = (),
    audit_after: dict | None = None,
    event: str | None = None,
    payload: dict | None = None,
):
    """Apply `action` to `obj` in the caller's transaction and return the transition.

    Stamps `<target>_at` and `<target>_by` when the model has them, saves the status with
    `update_fields`, writes one audit row (`<model>.<action>`) and, if named, one outbox event.
    """
    transition = transition or transition_find(actor=actor, obj=obj, workflow=workflow, action=action)
    source = getattr(obj, workflow.field)
    setattr(obj, workflow.field, transition.target)
    fields = [workflow.field, *update_fields]
    names = {f.name for f in obj._meta.get_fields()}
    if f"{transition.target}_at" in names:
        setattr(obj, f"{transition.target}_at", timezone.now())
        fields.append(f"{transition.target}_at")
    if f"{transition.target}_by" in names:
        setattr(obj, f"{transition.target}_by", actor.user if actor.user_id else None)
        fields.append(f"{transition.target}_by")
    obj.save(update_fields=list(dict.fromkeys(fields)))
    audit_record(
        actor=actor,
        company=actor.company,
        obj=obj,
        action=f"{obj._meta.model_name}.{action}",
        before={workflow.field: source},
        after={workflow.field: transition.target, **(audit_after or {})},
    )
    if event:
        event_emit(company=actor.company, name=event, obj=obj, payload=payload)
    return transition


def transitions_available(*, actor: Actor, obj, workflow: Workflow) -> list[Transition]:
    """The actions this actor may take on the document now: for buttons and API hints."""
    return [t for t in workflow.actions_from(getattr(obj, workflow.field)) if actor.can(t.permission)]
