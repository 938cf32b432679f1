"""The cycle count's lifecycle as a table: counting, counted (awaiting approval), posted or cancelled."""

from retaguarda.common.workflow import Transition, Workflow

from .choices import CycleCountStatus as S

COUNT_WORKFLOW = Workflow(
    "status",
    [
        Transition(S.DRAFT, S.COUNTED, "complete", "inventory.change"),
        Transition(S.COUNTED, S.DRAFT, "reopen", "inventory.change"),
        Transition(S.COUNTED, S.POSTED, "post", "inventory.change"),
        Transition(S.DRAFT, S.CANCELLED, "cancel", "inventory.change"),
        Transition(S.COUNTED, S.CANCELLED, "cancel", "inventory.change"),
    ],
)
