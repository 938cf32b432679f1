"""Readable names for the actions of the audit log, as the timelines show them.

An action is `<thing>.<verb>` ("salesorder.confirm"); the verb names it ("Confirmed") unless
the whole action has a name of its own. Unknown actions show as they are. The verbs have their
own message context: one word serves every kind of document, and a column label such as
"Created" may need other words.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

VERBS = {
    "create": pgettext_lazy("audit action", "Created"),
    "update": pgettext_lazy("audit action", "Edited"),
    "confirm": pgettext_lazy("audit action", "Confirmed"),
    "cancel": pgettext_lazy("audit action", "Cancelled"),
    "close": pgettext_lazy("audit action", "Closed"),
    "complete": pgettext_lazy("audit action", "Completed"),
    "reopen": pgettext_lazy("audit action", "Reopened"),
    "pack": pgettext_lazy("audit action", "Packed"),
    "ship": pgettext_lazy("audit action", "Shipped"),
    "receive": pgettext_lazy("audit action", "Received"),
    "register": pgettext_lazy("audit action", "Registered"),
    "post": pgettext_lazy("audit action", "Posted"),
    "archive": pgettext_lazy("audit action", "Archived"),
    "restore": pgettext_lazy("audit action", "Restored"),
    "import": pgettext_lazy("audit action", "Imported"),
    "block": pgettext_lazy("audit action", "Blocked for new orders"),
    "unblock": pgettext_lazy("audit action", "Unblocked for new orders"),
    "record": pgettext_lazy("audit action", "Counts entered"),
    "short_pick": pgettext_lazy("audit action", "Short pick"),
    "pick": pgettext_lazy("audit action", "Picked"),
    "pick_all": pgettext_lazy("audit action", "Every line picked"),
    "parcel_add": pgettext_lazy("audit action", "Parcel added"),
    "parcel_remove": pgettext_lazy("audit action", "Parcel removed"),
    "line_add": pgettext_lazy("audit action", "Line added"),
    "limits": pgettext_lazy("audit action", "Reorder point and maximum changed"),
    "acknowledge": pgettext_lazy("audit action", "Acknowledged"),
    "resolve": pgettext_lazy("audit action", "Resolved"),
    "item_set": pgettext_lazy("audit action", "Price set"),
    "item_remove": pgettext_lazy("audit action", "Price removed"),
}

ACTIONS = {
    "salesorder.return": _("Goods came back"),
    "salesorder.backorder_allocate": _("Stock arrived for back-ordered lines"),
    "stock.receive": _("Stock received"),
    "stock.adjust": _("Stock adjusted"),
    "stock.transfer": _("Stock transferred"),
    "stock.relocate": _("Stock relocated"),
    "stock.allocate": _("Stock reserved"),
    "stock.release": _("Reservation released"),
    "stock.ship": _("Stock shipped"),
    "stock.return": _("Stock returned"),
    "party.contact.add": _("Contact added"),
    "party.contact.update": _("Contact edited"),
    "party.contact.remove": _("Contact removed"),
    "party.address.add": _("Address added"),
    "party.address.update": _("Address edited"),
    "party.address.remove": _("Address removed"),
}


def action_label(action: str) -> str:
    if action in ACTIONS:
        return str(ACTIONS[action])
    verb = action.rsplit(".", 1)[-1]
    return str(VERBS[verb]) if verb in VERBS else action


def value_text(value) -> str:
    """An audit value in one line: a list of records as "MUG 3.000 9.90; TEA 2.000 24.00"."""
    if isinstance(value, list):
        return "; ".join(value_text(item) for item in value)
    if isinstance(value, dict):
        return " ".join(value_text(item) for item in value.values())
    if value is None:
        return "—"
    return str(value)
