"""What every area's ninja router shares: bearer authentication, the error shape, pagination."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer

from .services import api_token_authenticate


def bearer_actor(request, raw: str):
    """The actor behind the bearer token `raw`, looked up once per request (the idempotency
    middleware and the API's authentication both need it)."""
    cached = getattr(request, "_bearer_actor", None)
    if cached is not None and cached[0] == raw:
        return cached[1]
    actor = api_token_authenticate(raw)
    request._bearer_actor = (raw, actor)
    return actor


class BearerToken(HttpBearer):
    """`Authorization: Bearer rtg_…`; sets request.actor and request.user."""

    def authenticate(self, request, token):
        actor = bearer_actor(request, token)
        if actor is None:
            return None
        request.actor = actor
        request.user = actor.user
        return actor


bearer = BearerToken()


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}
    details: list[dict[str, str]] = Field(
        [],
        description="Present on some refusals: for `insufficient_stock`, one entry per short line "
        "with `line`, `sku`, `requested` and `available`.",
    )


class ErrorOut(Schema):
    error: ErrorDetail


# Responses every authenticated endpoint may give, for the OpenAPI document.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`; responses are {"items": [...], "count": n}. Limit capped at 500."""

    class Input(LimitOffsetPagination.Input):
        pass

    def paginate_queryset(self, queryset, pagination, request=None, **params):
        pagination.limit = max(1, min(int(pagination.limit or 50), 500))
        # Capped so that offset + limit stays a 64-bit integer in SQL (a larger one is a 500).
        pagination.offset = max(0, min(int(pagination.offset or 0), 10**15))
        return super().paginate_queryset(queryset, pagination, request=request, **params)
