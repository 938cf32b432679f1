"""Showing a service's refusal on a page's form."""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from retaguarda.common.errors import DomainError


def form_add_service_errors(
    form: forms.Form, exc: DomainError, *, field_for: Callable[[str], str | None] | None = None
) -> None:
    """Put each field error of `exc` on its form field, the rest on top; the message if none was placed.

    `field_for` maps a service's field key to the form's field name where the two differ.
    """
    placed = False
    for key, messages in (exc.fields or {}).items():
        name = field_for(key) if field_for else key
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
