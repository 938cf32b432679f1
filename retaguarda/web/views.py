"""Log-in, language and company switching, the home dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.core.models import User
from retaguarda.core.selectors import memberships_for
from retaguarda.core.throttle import login_failure_record, login_success_record, login_wait_seconds

from .forms import LanguageForm, LoginForm
from .middleware import SESSION_COMPANY_KEY, SESSION_LANGUAGE_KEY


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def login_view(request):
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        wait = login_wait_seconds(username)
        if wait:
            error = _("Too many failed attempts. Try again in %(seconds)s seconds.") % {"seconds": wait}
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                locked = login_failure_record(username=username, ip=client_ip(request))
                error = (
                    _("Too many failed attempts. The account is locked for a while.")
                    if locked
                    else _("Wrong user name or password.")
                )
                status = 429 if locked else 200
            elif not memberships_for(user).exists():
                error = _("Your account has no access to any company. Ask an administrator.")
            else:
                login(request, user)
                login_success_record(user=user, ip=client_ip(request))
                target = request.GET.get("next", "")
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = "web:home"
                return redirect(target)
    return render(request, "web/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")


@require_POST
def language_view(request):
    form = LanguageForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    if form.is_valid():
        language = form.cleaned_data["language"]
        request.session[SESSION_LANGUAGE_KEY] = language
        if request.user.is_authenticated:
            User.objects.filter(pk=request.user.pk).update(language=language)
    return redirect(target)


@login_required
@require_POST
def company_switch_view(request):
    try:
        company_id = int(request.POST.get("company", ""))
    except ValueError:
        company_id = None
    if company_id is None or not memberships_for(request.user).filter(company_id=company_id).exists():
        return HttpResponseForbidden(_("You have no access to that company."))
    request.session[SESSION_COMPANY_KEY] = company_id
    messages.success(request, _("Company switched."))
    return redirect("web:home")


@login_required
def home_view(request):
    if request.actor is None:
        return HttpResponseForbidden(_("Your account has no access to any company."))
    from .dashboard import widgets_for

    return render(request, "web/home.html", {"widgets": widgets_for(request)})
