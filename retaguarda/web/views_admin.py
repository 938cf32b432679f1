"""Administration pages: company settings, audit log, webhooks and their deliveries, background jobs, API tokens, users.

Thin views: they parse the request, call one core service or selector, and render. Lists
answer htmx requests with their table fragment only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from retaguarda.common.errors import Conflict, ValidationFailed
from retaguarda.core.choices import Area, Role
from retaguarda.core.models import WebhookSubscription
from retaguarda.core.selectors import (
    api_tokens_for,
    audit_log_for,
    jobs_for,
    members_for,
    timeline_for,
    webhook_deliveries_for,
    webhook_subscriptions_for,
)
from retaguarda.core.services import (
    api_token_create,
    api_token_revoke,
    company_update,
    membership_activate,
    membership_deactivate,
    user_create,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_subscription_update,
)
from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.ui.forms import form_add_service_errors
from retaguarda.core.ui.listing import Filter, Listing, yes_no
from retaguarda.core.webhooks import webhook_delivery_replay

from .forms_admin import (
    CompanySettingsForm,
    TokenForm,
    UserCreateForm,
    WebhookEditForm,
    WebhookForm,
)


def _list_response(request, template: str, partial: str, context: dict):
    return render(request, partial if request.htmx else template, {**context, "partial": partial})


def _as_int(raw: str):
    return int(raw) if raw.isdigit() else None


# Company settings ---------------------------------------------------------------------------

COMPANY_TIMELINE_LENGTH = 50


@permission_required("core.company.change")
def company_settings_view(request):
    company = request.actor.company
    form = CompanySettingsForm(request.POST or None, company=company, initial=CompanySettingsForm.initial_for(company))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                company_update(actor=request.actor, **form.service_arguments())
            except (ValidationFailed, Conflict) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, _("Company settings saved."))
                return redirect("web:company_settings")
        status = 422
    timeline = timeline_for(company=company, obj=company)[:COMPANY_TIMELINE_LENGTH]
    return render(
        request,
        "web/admin/company_settings.html",
        {"form": form, "company": company, "timeline": timeline},
        status=status,
    )


# Audit log ----------------------------------------------------------------------------------


def _audit_listing(queryset, actor) -> Listing:
    """The audit log's listing; the filter choices are the values present in the company's log."""
    actions = queryset.order_by("action").values_list("action", flat=True).distinct()
    object_types = queryset.order_by("object_type").values_list("object_type", flat=True).distinct()
    users = members_for(actor).order_by("user__username").values_list("user_id", "user__username")
    return Listing(
        search_fields=("object_repr", "object_id", "actor_label"),
        sorts={"at": "at", "action": "action", "object_type": "object_type"},
        default_sort="-at",
        filters=(
            Filter("action", "action", gettext_lazy("Action"), choices=tuple((a, a) for a in actions)),
            Filter("object_type", "object_type", gettext_lazy("Object type"), tuple((t, t) for t in object_types)),
            Filter("user", "actor_id", gettext_lazy("User"), tuple((str(pk), name) for pk, name in users), _as_int),
        ),
        per_page=50,
    )


@permission_required("core.audit.view")
def audit_log_view(request):
    queryset = audit_log_for(request.actor)
    context = _audit_listing(queryset, request.actor).page(request, queryset)
    return _list_response(request, "web/admin/audit_log.html", "web/admin/partials/audit_table.html", context)


# Webhooks -----------------------------------------------------------------------------------

DELIVERIES_PER_PAGE = 20


def _subscription(request, subscription_id: int) -> WebhookSubscription:
    return get_object_or_404(webhook_subscriptions_for(request.actor), pk=subscription_id)


@permission_required("core.webhooks.manage")
def webhook_list_view(request):
    subscriptions = webhook_subscriptions_for(request.actor).order_by("name", "pk")
    return render(request, "web/admin/webhook_list.html", {"subscriptions": subscriptions})


@permission_required("core.webhooks.manage")
def webhook_create_view(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = webhook_subscription_create(actor=request.actor, **form.cleaned_data)
        except ValidationFailed as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook created. Give its signing secret to the receiving system."))
            return redirect("web:webhook_detail", subscription_id=subscription.pk)
    return render(request, "web/admin/webhook_form.html", {"form": form, "subscription": None})


@permission_required("core.webhooks.manage")
def webhook_edit_view(request, subscription_id: int):
    subscription = _subscription(request, subscription_id)
    initial = {
        "name": subscription.name,
        "url": subscription.url,
        "events": " ".join(subscription.events),
        "is_active": subscription.is_active,
    }
    form = WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_subscription_update(actor=request.actor, subscription_id=subscription.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("web:webhook_detail", subscription_id=subscription.pk)
    return render(request, "web/admin/webhook_form.html", {"form": form, "subscription": subscription})


@permission_required("core.webhooks.manage")
def webhook_detail_view(request, subscription_id: int):
    subscription = _subscription(request, subscription_id)
    page = Paginator(webhook_deliveries_for(subscription), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/admin/webhook_detail.html",
        {"subscription": subscription, "page_obj": page, "deliveries": page.object_list, "querystring": ""},
    )


@permission_required("core.webhooks.manage")
@require_POST
def webhook_deactivate_view(request, subscription_id: int):
    webhook_subscription_deactivate(actor=request.actor, subscription_id=subscription_id)
    messages.success(request, _("Webhook deactivated: nothing more is sent to it."))
    return redirect("web:webhook_detail", subscription_id=subscription_id)


@permission_required("core.webhooks.manage")
@require_POST
def webhook_delivery_replay_view(request, delivery_id: int):
    delivery = webhook_delivery_replay(actor=request.actor, delivery_id=delivery_id)
    messages.success(request, _("Delivery queued to be sent again."))
    return redirect("web:webhook_detail", subscription_id=delivery.subscription_id)


# Background jobs ----------------------------------------------------------------------------

JOB_LISTING = Listing(
    search_fields=("task_path",),
    sorts={"enqueued": "enqueued_at", "started": "started_at", "finished": "finished_at", "task": "task_path"},
    default_sort="-enqueued",
    filters=(
        Filter("status", "status", gettext_lazy("Status"), choices=tuple(TaskResultStatus.choices)),
        Filter("queue", "queue_name", gettext_lazy("Queue")),
    ),
    per_page=50,
)


@permission_required("core.jobs.view")
def job_list_view(request):
    context = JOB_LISTING.page(request, jobs_for(request.actor))
    context["statuses"] = TaskResultStatus
    return _list_response(request, "web/admin/job_list.html", "web/admin/partials/job_table.html", context)


@permission_required("core.jobs.view")
def job_detail_view(request, job_id):
    job: DBTaskResult = get_object_or_404(jobs_for(request.actor), pk=job_id)
    return render(request, "web/admin/job_detail.html", {"job": job, "statuses": TaskResultStatus})


# API tokens ---------------------------------------------------------------------------------

TOKEN_LISTING = Listing(
    search_fields=("name", "prefix"),
    sorts={"created": "created_at", "name": "name", "last_used": "last_used_at"},
    default_sort="-created",
)


def _token_page(request, form, *, created=None, secret=None, status=200):
    context = TOKEN_LISTING.page(request, api_tokens_for(request.actor))
    context.update({"form": form, "created": created, "secret": secret})
    return render(request, "web/admin/token_list.html", context, status=status)


@permission_required("core.tokens.manage")
def token_list_view(request):
    return _token_page(request, TokenForm())


@permission_required("core.tokens.manage")
@require_POST
def token_create_view(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = api_token_create(actor=request.actor, name=form.cleaned_data["name"])
        except ValidationFailed as exc:
            form_add_service_errors(form, exc)
        else:
            # The secret is in this response only: it is stored nowhere and cannot be shown again.
            return _token_page(request, TokenForm(), created=token, secret=secret, status=201)
    return _token_page(request, form, status=422)


@permission_required("core.tokens.manage")
@require_POST
def token_revoke_view(request, token_id: int):
    token = api_token_revoke(actor=request.actor, token_id=token_id)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("web:token_list")


# Users --------------------------------------------------------------------------------------

USER_LISTING = Listing(
    search_fields=("user__username", "user__first_name", "user__last_name", "user__email"),
    sorts={"username": "user__username", "role": "role"},
    default_sort="username",
    filters=(
        Filter("role", "role", gettext_lazy("Role"), choices=tuple(Role.choices)),
        Filter(
            "active",
            "is_active",
            gettext_lazy("Active"),
            choices=(("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))),
            parse=yes_no,
        ),
    ),
    per_page=50,
)


@permission_required("core.users.manage")
def user_list_view(request):
    context = USER_LISTING.page(request, members_for(request.actor))
    context["area_labels"] = dict(Area.choices)
    return _list_response(request, "web/admin/user_list.html", "web/admin/partials/user_table.html", context)


@permission_required("core.users.manage")
def user_create_view(request):
    form = UserCreateForm(request.POST or None, initial={"language": request.actor.company.default_language})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                actor=request.actor,
                company=request.actor.company,
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                areas=data["areas"],
                email=data["email"],
                language=data["language"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                grant_existing=False,
            )
        except ValidationFailed as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("User %(username)s created.") % {"username": user.username})
            return redirect("web:user_list")
    return render(request, "web/admin/user_form.html", {"form": form})


def _membership_action(request, service, user_id: int, done: str):
    try:
        membership = service(actor=request.actor, user_id=user_id)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"username": membership.user.username})
    return redirect("web:user_list")


@permission_required("core.users.manage")
@require_POST
def user_deactivate_view(request, user_id: int):
    return _membership_action(request, membership_deactivate, user_id, _("%(username)s can no longer sign in here."))


@permission_required("core.users.manage")
@require_POST
def user_activate_view(request, user_id: int):
    return _membership_action(request, membership_activate, user_id, _("%(username)s has access again."))
