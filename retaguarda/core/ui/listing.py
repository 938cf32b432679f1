"""List pages: search, filters, sorting and pagination from one declaration.

Every area's list view declares a `Listing` (which fields are searched, which filters and
sort keys exist) and calls `listing.page(request, queryset)`. The API list endpoints apply the
same `Listing.filter()` so the two cannot drift apart. Fragments: when the request comes from
htmx, views render only the table partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Filter:
    """A query-string parameter mapped to a lookup; `choices` limits accepted values."""

    param: str
    lookup: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    # Converts the raw string; return None to ignore the value.
    parse: object = None


@dataclass(frozen=True)
class Listing:
    search_fields: tuple[str, ...]
    sorts: dict[str, str]  # public key -> order_by expression (prefix "-" on the key for descending)
    default_sort: str
    filters: tuple[Filter, ...] = field(default_factory=tuple)
    per_page: int = 25

    def filter(self, queryset: QuerySet, params) -> QuerySet:
        """Apply search (`q`) and filters from a QueryDict or dict; unknown values are ignored."""
        # PostgreSQL refuses NUL characters in text: they are dropped from the search, and a
        # filter value carrying one is ignored like any other unknown value.
        q = (params.get("q") or "").replace("\x00", "").strip()
        if q and self.search_fields:
            terms = q.split()
            for term in terms[:5]:
                queryset = queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": term}) for f in self.search_fields)))
        for flt in self.filters:
            raw = params.get(flt.param)
            if raw in (None, "") or (isinstance(raw, str) and "\x00" in raw):
                continue
            if flt.choices and raw not in {c for c, _ in flt.choices}:
                continue
            value = raw
            if flt.parse is not None:
                value = flt.parse(raw)
                if value is None:
                    continue
            queryset = queryset.filter(**{flt.lookup: value})
        return queryset

    def sort(self, queryset: QuerySet, key: str | None) -> tuple[QuerySet, str]:
        key = key or self.default_sort
        descending = key.startswith("-")
        base = key[1:] if descending else key
        if base not in self.sorts:
            key, descending = self.default_sort, self.default_sort.startswith("-")
            base = key.lstrip("-")
        expression = self.sorts[base]
        order = f"-{expression}" if descending else expression
        return queryset.order_by(order, "-pk" if descending else "pk"), key

    def page(self, request, queryset: QuerySet) -> dict:
        """Context for a list template: page object, current sort, active filters, query string."""
        params = request.GET
        queryset = self.filter(queryset, params)
        queryset, sort = self.sort(queryset, params.get("sort"))
        paginator = Paginator(queryset, self.per_page)
        page = paginator.get_page(params.get("page"))
        keep = params.copy()
        keep.pop("page", None)
        without_sort = keep.copy()
        without_sort.pop("sort", None)
        return {
            "page_obj": page,
            "object_list": page.object_list,
            "sort": sort,
            "q": params.get("q", ""),
            "filters": self.filters,
            "active_filters": {f.param: params.get(f.param, "") for f in self.filters},
            "querystring": keep.urlencode(),
            "querystring_without_sort": without_sort.urlencode(),
        }


def yes_no(raw: str):
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(raw.lower())
