"""Core endpoints: who am I, and the caller's API tokens."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from .apikit import ERRORS, Pagination
from .models import ApiToken
from .permissions import require
from .services import api_token_revoke

router = Router(tags=["core"])


class MeOut(Schema):
    username: str
    company_id: int
    company: str
    role: str
    areas: list[str]


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request):
    actor = request.actor
    return MeOut(
        username=actor.user.username,
        company_id=actor.company.pk,
        company=str(actor.company),
        role=actor.role,
        areas=list(actor.areas),
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def token_list(request, limit: int = 50, offset: int = 0):
    require(request.actor, "core.tokens.manage")
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    return list(
        ApiToken.objects.filter(user=request.actor.user, company=request.actor.company).order_by("-id")[
            offset : offset + limit
        ]
    )


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    return api_token_revoke(actor=request.actor, token_id=token_id)


__all__ = ["router", "Pagination"]
