"""View guards: log-in, an active company, and a permission from the role table."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _


def forbidden(request, message: str | None = None):
    return render(
        request,
        "core/forbidden.html",
        {"message": message or _("You do not have permission to see this page.")},
        status=403,
    )


def permission_required(permission: str):
    """Anonymous users go to the log-in page; users without the permission get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = getattr(request, "actor", None)
            if actor is None or not actor.can(permission):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator
