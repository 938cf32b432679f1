"""One error shape for every 4xx: {"error": {"code", "message", "fields"}}, with "details" when a
refusal has machine-readable facts (the short lines of an order)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from retaguarda.common.errors import DomainError


def error_body(code: str, message: str, fields: dict | None = None, details: list | None = None) -> dict:
    body = {"code": code, "message": str(message), "fields": fields or {}}
    if details:
        body["details"] = details
    return {"error": body}


def _field_name(loc) -> str:
    # ninja locations look like ("body", "payload", "tax_id") or ("query", "limit").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload", "cookie", "form")]
    return ".".join(parts) or "__all__"


def install(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc):
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            message = err.get("msg", "")
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            fields.setdefault(_field_name(err.get("loc", ())), []).append(message)
        return api.create_response(
            request, error_body("validation_error", _("The request has invalid fields."), fields), status=422
        )

    @api.exception_handler(DomainError)
    def domain_error(request, exc):
        return api.create_response(
            request, error_body(exc.code, exc.message, exc.fields, exc.details), status=exc.status
        )

    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request, exc):
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {}
        return api.create_response(
            request, error_body("validation_error", _("The request has invalid fields."), fields), status=422
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, error_body("unauthenticated", _("A valid bearer token is required.")), status=401
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request, exc):
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if exc.status_code == 400:
            # ninja raises this for a body it cannot parse (not JSON, wrong encoding).
            return api.create_response(
                request, error_body("malformed_request", _("The request body could not be read as JSON.")), status=400
            )
        return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)
