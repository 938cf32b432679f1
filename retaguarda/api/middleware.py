"""Idempotency for API POSTs: a retry with the same `Idempotency-Key` gets the first response.

The request runs inside one transaction together with the insert of its idempotency record,
so either both are kept or neither. Two concurrent requests with one key: the unique
constraint lets one win; the other's writes are rolled back and it answers the winner's
stored response. Only successful (2xx) responses are kept: a rejected request may be retried.
The same key with a different body or path is refused with 422.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from retaguarda.core.apikit import bearer_actor
from retaguarda.core.models import IdempotencyRecord

from .errors import error_body

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 200


class _Rollback(Exception):
    def __init__(self, response):
        self.response = response


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(record.response_body, status=record.status_code, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return JsonResponse(
                error_body("invalid_idempotency_key", _("The Idempotency-Key header must have 1 to 200 characters.")),
                status=422,
            )
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        actor = bearer_actor(request, auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if actor is None:
            return self.get_response(request)  # the API answers 401 itself
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
        ).hexdigest()
        existing = IdempotencyRecord.objects.filter(company=actor.company, key=key).first()
        if existing is not None:
            return self._answer_existing(existing, digest)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if not 200 <= response.status_code < 300:
                    raise _Rollback(response)
                IdempotencyRecord.objects.create(
                    company=actor.company,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    request_hash=digest,
                    status_code=response.status_code,
                    response_body=response.content.decode("utf-8"),
                )
                return response
        except _Rollback as rollback:
            return rollback.response
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(company=actor.company, key=key).first()
            if existing is None:
                raise
            return self._answer_existing(existing, digest)

    @staticmethod
    def _answer_existing(record: IdempotencyRecord, digest: str) -> HttpResponse:
        if record.request_hash != digest:
            return JsonResponse(
                error_body(
                    "idempotency_key_reused",
                    _("This Idempotency-Key was already used with a different request."),
                ),
                status=422,
            )
        return _replay(record)
