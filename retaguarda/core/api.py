"""Core endpoints: who am I, the caller's API tokens, webhook subscriptions."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from .apikit import ERRORS, Pagination
from .permissions import require
from .selectors import api_tokens_for, webhook_subscriptions_for
from .services import api_token_revoke, webhook_subscription_create

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
@paginate(Pagination)
def token_list(request):
    require(request.actor, "core.tokens.manage")
    return api_tokens_for(request.actor).order_by("-id")


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    return api_token_revoke(actor=request.actor, token_id=token_id)


class WebhookIn(Schema):
    name: str
    url: str = Field(description="Where events are POSTed (http or https).")
    events: list[str] = Field(["*"], description='Event names such as "order.confirmed", "order.*", or "*".')


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Signing secret: verify X-Retaguarda-Signature with it (HMAC-SHA256).")


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
@paginate(Pagination)
def webhook_list(request):
    require(request.actor, "core.webhooks.manage")
    return webhook_subscriptions_for(request.actor).order_by("id")


@router.post("/webhooks", response={201: WebhookCreatedOut, **ERRORS})
def webhook_post(request, payload: WebhookIn):
    subscription = webhook_subscription_create(actor=request.actor, **payload.model_dump())
    return Status(201, subscription)


__all__ = ["router", "Pagination"]
