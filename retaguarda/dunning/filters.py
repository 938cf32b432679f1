"""The one declaration of how dunning runs and promises to pay are filtered and sorted on their
list pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing

from .choices import PromiseStatus, RunStatus

RUN_LISTING = Listing(
    search_fields=(),
    sorts={"as_of": "as_of", "created": "created_at", "letters": "letter_count"},
    default_sort="-as_of",
    filters=(Filter("status", "status", _("Status"), choices=tuple(RunStatus.choices)),),
)

PROMISE_LISTING = Listing(
    search_fields=("party__legal_name", "party__trade_name", "invoice__number", "note"),
    sorts={"date": "promised_date", "customer": "party__legal_name", "created": "created_at"},
    default_sort="date",
    filters=(Filter("status", "status", _("Status"), choices=tuple(PromiseStatus.choices)),),
)
