"""The lifecycles of pick lists, shipments and customer returns as tables (STYLE.md: workflows
as data)."""

from retaguarda.common.workflow import Transition, Workflow

from .choices import PickListStatus as P
from .choices import ReturnStatus as R
from .choices import ShipmentStatus as S

CHANGE = "fulfilment.change"

PICK_LIST_WORKFLOW = Workflow(
    "status",
    [
        Transition(P.OPEN, P.DONE, "complete", CHANGE),
        Transition(P.OPEN, P.CANCELLED, "cancel", CHANGE),
    ],
)

SHIPMENT_WORKFLOW = Workflow(
    "status",
    [
        Transition(S.DRAFT, S.PACKED, "pack", CHANGE),
        Transition(S.PACKED, S.DRAFT, "reopen", CHANGE),
        Transition(S.PACKED, S.SHIPPED, "ship", CHANGE),
        Transition(S.DRAFT, S.CANCELLED, "cancel", CHANGE),
        Transition(S.PACKED, S.CANCELLED, "cancel", CHANGE),
    ],
)

RETURN_WORKFLOW = Workflow(
    "status",
    [
        Transition(R.REGISTERED, R.RECEIVED, "receive", CHANGE),
        Transition(R.REGISTERED, R.CANCELLED, "cancel", CHANGE),
    ],
)
