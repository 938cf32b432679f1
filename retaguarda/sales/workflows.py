"""The sales order's lifecycle as a table (STYLE.md: workflows as data)."""

from retaguarda.common.workflow import Transition, Workflow

from .choices import OrderStatus as S

ORDER_WORKFLOW = Workflow(
    "status",
    [
        Transition(S.DRAFT, S.CONFIRMED, "confirm", "sales.change"),
        Transition(S.DRAFT, S.CANCELLED, "cancel", "sales.change"),
        Transition(S.CONFIRMED, S.CANCELLED, "cancel", "sales.change"),
        Transition(S.CONFIRMED, S.CLOSED, "close", "sales.change"),
    ],
)
