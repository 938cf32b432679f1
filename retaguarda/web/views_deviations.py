"""The deviations inbox: the open deviations the user's role owns (all of them for administrators
and managers), most severe and oldest first, with acknowledge and resolve buttons."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from retaguarda.common.errors import Conflict
from retaguarda.core.choices import Area, Severity
from retaguarda.core.deviations import deviation_acknowledge, deviation_resolve, deviation_title, deviations_open_for
from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.ui.listing import Filter, Listing

from .navigation import url_or_none

DEVIATION_LISTING = Listing(
    search_fields=("object_repr", "kind"),
    sorts={"priority": "priority", "opened": "opened_at"},
    default_sort="priority",
    filters=(
        Filter("severity", "severity", gettext_lazy("Severity"), choices=tuple(Severity.choices)),
        Filter("area", "area", gettext_lazy("Area"), choices=tuple(Area.choices)),
    ),
)

# Where a deviation's object is shown, by object type: a URL name taking the object's id.
OBJECT_PAGES = {"inventory.stocklevel": "inventory:level_detail"}


def object_url(deviation) -> str | None:
    url_name = OBJECT_PAGES.get(deviation.object_type)
    return url_or_none(url_name, deviation.object_id) if url_name else None


@permission_required("core.deviations.view")
def deviation_list_view(request):
    context = DEVIATION_LISTING.page(request, deviations_open_for(actor=request.actor))
    for deviation in context["object_list"]:
        deviation.title = deviation_title(deviation)
        deviation.url = object_url(deviation)
    context.update(severities=Severity.choices, areas=Area.choices)
    template = "web/deviations/partials/table.html" if request.htmx else "web/deviations/list.html"
    return render(request, template, context)


def _act(request, service, deviation_id: int, done: str):
    try:
        deviation = service(actor=request.actor, deviation_id=deviation_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"title": deviation_title(deviation)})
    return redirect("web:deviation_list")


@permission_required("core.deviations.view")
@require_POST
def deviation_acknowledge_view(request, deviation_id: int):
    return _act(request, deviation_acknowledge, deviation_id, _("You took on: %(title)s."))


@permission_required("core.deviations.view")
@require_POST
def deviation_resolve_view(request, deviation_id: int):
    return _act(request, deviation_resolve, deviation_id, _("Resolved: %(title)s."))


urlpatterns = [
    path("", deviation_list_view, name="deviation_list"),
    path("<int:deviation_id>/acknowledge/", deviation_acknowledge_view, name="deviation_acknowledge"),
    path("<int:deviation_id>/resolve/", deviation_resolve_view, name="deviation_resolve"),
]
