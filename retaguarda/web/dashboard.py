"""The home dashboard: a registry of widgets, each checking its own permission and rendering itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class Widget:
    code: str
    permission: str
    template: str
    context: Callable


WIDGETS: list[Widget] = []


def register(widget: Widget) -> Widget:
    WIDGETS.append(widget)
    return widget


def widgets_for(request) -> list[str]:
    actor = request.actor
    return [render_to_string(w.template, w.context(actor), request=request) for w in WIDGETS if actor.can(w.permission)]
