"""Log-in and log-out, profile (language, password), language and company switching, the home
dashboard and its widget fragments, and the error pages."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.selectors import memberships_for
from retaguarda.core.services import user_language_set, user_password_change
from retaguarda.core.throttle import login_failure_record, login_success_record, login_wait_seconds
from retaguarda.core.ui.forms import form_add_service_errors

from .dashboard import widget_get, widgets_for
from .forms import LanguageForm, LoginForm, PasswordChangeForm
from .middleware import SESSION_COMPANY_KEY, SESSION_LANGUAGE_KEY
from .navigation import url_or_none

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def safe_next(request, target: str, default: str) -> str:
    """`target` if it is a local URL, else `default` (no open redirects)."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_page(request, status: int, message: str | None = None):
    """403/404 pages in the user's language, inside the normal page frame."""
    titles = {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Page not found"),
    }
    default_messages = {
        400: _("The request could not be understood."),
        403: _("You do not have permission to see this page."),
        404: _("The page you asked for does not exist, or you have no access to it."),
    }
    context = {"status": status, "title": titles[status], "message": message or default_messages[status]}
    return render(request, "web/errors/error.html", context, status=status)


def throttle_message(wait_seconds: int) -> str:
    if wait_seconds >= 60:
        minutes = math.ceil(wait_seconds / 60)
        return ngettext(
            "Too many failed attempts. Try again in %(count)d minute.",
            "Too many failed attempts. Try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    return ngettext(
        "Too many failed attempts. Try again in %(count)d second.",
        "Too many failed attempts. Try again in %(count)d seconds.",
        wait_seconds,
    ) % {"count": wait_seconds}


def locked_message() -> str:
    minutes = math.ceil(settings.LOGIN_THROTTLE_LOCK_SECONDS / 60)
    return ngettext(
        "Too many failed attempts. The account is locked for %(count)d minute.",
        "Too many failed attempts. The account is locked for %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


@require_http_methods(["GET", "POST"])
def login_view(request):
    home = reverse("web:home")
    if request.method == "GET" and request.user.is_authenticated and request.actor is not None:
        return redirect(safe_next(request, request.GET.get("next", ""), home))
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        wait = login_wait_seconds(username)
        if wait:
            # Throttled: the password is not even checked, so guessing gains nothing.
            error, status = throttle_message(wait), 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                locked = login_failure_record(username=username, ip=client_ip(request))
                if locked:
                    error, status = locked_message(), 429
                else:
                    error = _("Wrong user name or password.")
            elif not memberships_for(user).exists():
                error, status = _("Your account has no access to any company. Ask an administrator."), 403
            else:
                login(request, user)
                login_success_record(user=user, ip=client_ip(request))
                return redirect(safe_next(request, request.GET.get("next", ""), home))
    return render(request, "web/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    # The language outlives the session: the log-in page stays in the language just used.
    language = request.LANGUAGE_CODE
    logout(request)
    request.session[SESSION_LANGUAGE_KEY] = language
    return redirect("web:login")


@require_POST
def language_view(request):
    """Switch the interface language: stored on the user when logged in, in the session always."""
    form = LanguageForm(request.POST)
    target = safe_next(request, request.POST.get("next", ""), reverse("web:home"))
    if not form.is_valid():
        messages.error(request, _("Choose a language from the list."))
        return redirect(target)
    language = form.cleaned_data["language"]
    request.session[SESSION_LANGUAGE_KEY] = language
    if request.user.is_authenticated and request.actor is not None:
        user_language_set(actor=request.actor, user=request.user, language=language)
    return redirect(target)


@login_required
@require_POST
def company_switch_view(request):
    """Make another of the user's companies the active one; a company not granted is refused."""
    try:
        company_id = int(request.POST.get("company", ""))
    except ValueError:
        company_id = None
    if company_id is None or not memberships_for(request.user).filter(company_id=company_id).exists():
        return error_page(request, 403, _("You have no access to that company."))
    request.session[SESSION_COMPANY_KEY] = company_id
    messages.success(request, _("Company switched."))
    return redirect("web:home")


@login_required
@require_GET
def home_view(request):
    if request.actor is None:
        return error_page(request, 403, _("Your account has no access to any company. Ask an administrator."))
    return render(request, "web/home.html", {"widgets": widgets_for(request.actor)})


@require_GET
def widget_view(request, code: str):
    """One dashboard widget's content, loaded by the home page with hx-get."""
    if not request.user.is_authenticated:
        login_url = f"{reverse(settings.LOGIN_URL)}?next={reverse('web:home')}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        return redirect_to_login(request.get_full_path())
    widget = widget_get(code)
    if widget is None:
        raise Http404(code)
    if not widget.visible_to(request.actor):
        return render(
            request,
            "web/widgets/forbidden.html",
            {"message": _("You do not have permission to see this page.")},
            status=403,
        )
    return HttpResponse(widget.render(request))


@login_required
@require_GET
def profile_view(request):
    if request.actor is None:
        return error_page(request, 403, _("Your account has no access to any company. Ask an administrator."))
    language_form = LanguageForm(initial={"language": request.LANGUAGE_CODE})
    context = {
        "language_form": language_form,
        "actor_role_label": Role(request.actor.role).label,
        "tokens_url": url_or_none("web:token_list") if request.actor.can("core.tokens.manage") else None,
    }
    return render(request, "web/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    if request.actor is None:
        return error_page(request, 403, _("Your account has no access to any company. Ask an administrator."))
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_password_change(
                actor=request.actor, user=request.user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationFailed as exc:
            form_add_service_errors(form, exc)
        else:
            # Keep this session logged in; other sessions of the user end with the old password.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("web:profile")
    return render(request, "web/password_change.html", {"form": form})


# Error handlers, wired in retaguarda/urls.py (handler400/403/404/500).


def bad_request(request, exception=None):
    return error_page(request, 400)


def permission_denied(request, exception=None):
    return error_page(request, 403)


def page_not_found(request, exception=None):
    return error_page(request, 404)


def server_error(request):
    """The 500 page renders without the page frame or any query: the database may be what failed.

    The user's language is still active (the language middleware ran before the view failed).
    """
    try:
        template = loader.get_template("web/errors/500.html")
        language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
        return HttpResponseServerError(template.render({"LANGUAGE_CODE": language}))
    except Exception:  # the last line of defence must not raise
        logger.exception("rendering the 500 page failed")
        return HttpResponseServerError("Server error", content_type="text/plain")
