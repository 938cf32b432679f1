"""The deviations inbox: who sees which deviation, in which order, acknowledging and resolving
(audited, refused with nothing changed for what the user cannot see), and the dashboard widget."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from retaguarda.common.errors import Conflict, NotFound, PermissionDenied
from retaguarda.core.choices import Area, Role, Severity
from retaguarda.core.deviations import (
    DeviationKind,
    deviation_acknowledge,
    deviation_raise,
    deviation_resolve,
    register,
)
from retaguarda.core.models import AuditLog, Deviation
from retaguarda.core.testing import actor_build, client_for, company_build

LATE = register(
    DeviationKind(
        code="test.late_order",
        title="Order %(number)s is late",
        area=Area.SALES,
        severity=Severity.CRITICAL,
        owner_role=Role.SALES,
    )
)
UNPAID = register(
    DeviationKind(
        code="test.unpaid",
        title="Invoice %(number)s is unpaid",
        area=Area.ACCOUNTING,
        severity=Severity.MEDIUM,
        owner_role=Role.FINANCE,
    )
)

LIST_URL = "/deviations/"


def raise_one(company, kind: str, n: int, *, days_ago: int = 0, **params) -> Deviation:
    deviation = deviation_raise(
        company=company,
        kind=kind,
        object_type="inventory.stocklevel" if kind.startswith("inventory.") else "test.thing",
        object_id=n,
        object_repr=f"Thing {n}",
        params={"number": n, "sku": f"S{n}", "warehouse": "MAIN", "available": "1.000", **params},
    )
    if days_ago:
        Deviation.objects.filter(pk=deviation.pk).update(opened_at=timezone.now() - timedelta(days=days_ago))
    return deviation


@pytest.fixture
def inbox(company):
    """Deviations of three owners, raised in this order (the primary key order)."""
    return {
        "low": raise_one(company, "inventory.stock_low", 1, days_ago=5),
        "late_old": raise_one(company, "test.late_order", 2, days_ago=3),
        "out": raise_one(company, "inventory.stock_out", 3, days_ago=1),
        "late_new": raise_one(company, "test.late_order", 4),
        "unpaid": raise_one(company, "test.unpaid", 5, days_ago=9),
        "over": raise_one(company, "inventory.overstock", 6, on_hand="9.000", maximum="5.000"),
    }


def titles(response) -> list[str]:
    return [d.title for d in response.context["object_list"]]


def state():
    return (
        sorted(Deviation.objects.values_list("pk", "status", "owner_id", "ended_at")),
        AuditLog.objects.count(),
    )


@pytest.mark.parametrize(
    "role, expected",
    [
        (
            Role.ADMINISTRATOR,
            [
                "Order 2 is late",
                "Order 4 is late",
                "S3 is out of stock in MAIN",
                "S1 is at or below its reorder point in MAIN (1.000 available)",
                "Invoice 5 is unpaid",
                "S6 is above its maximum in MAIN (9.000 on hand, maximum 5.000)",
            ],
        ),
        (Role.MANAGER, None),
        (
            Role.WAREHOUSE,
            [
                "S3 is out of stock in MAIN",
                "S1 is at or below its reorder point in MAIN (1.000 available)",
                "S6 is above its maximum in MAIN (9.000 on hand, maximum 5.000)",
            ],
        ),
        (Role.SALES, ["Order 2 is late", "Order 4 is late"]),
        (Role.FINANCE, ["Invoice 5 is unpaid"]),
        (Role.HR, []),
    ],
)
def test_each_role_sees_its_own_deviations_most_severe_and_oldest_first(inbox, role_user, role, expected):
    response = client_for(role_user(role)).get(LIST_URL)
    assert response.status_code == 200
    if expected is None:  # managers see what administrators see
        expected = titles(client_for(role_user(Role.ADMINISTRATOR)).get(LIST_URL))
    assert titles(response) == expected


def test_the_page_shows_age_severity_object_and_buttons(inbox, admin_client):
    html = admin_client.get(LIST_URL).content.decode()
    assert '<span class="badge bad">High</span>' in html
    assert '<a href="/inventory/levels/3/">Thing 3</a>' in html  # stock levels link to their product's page
    assert "Thing 2" in html and '<a href="/inventory/levels/2/"' not in html  # no page for test objects
    assert ">5\xa0days</time>" in html and ">1\xa0day</time>" in html
    assert (html.count('/acknowledge/">'), html.count('/resolve/">')) == (6, 6)
    assert f'action="/deviations/{inbox["out"].pk}/acknowledge/"' in html


def test_filters_and_the_htmx_fragment(inbox, admin_client):
    assert titles(admin_client.get(LIST_URL, {"severity": "medium"})) == [
        "S1 is at or below its reorder point in MAIN (1.000 available)",
        "Invoice 5 is unpaid",
    ]
    assert titles(admin_client.get(LIST_URL, {"area": "sales"})) == ["Order 2 is late", "Order 4 is late"]
    assert titles(admin_client.get(LIST_URL, {"q": "Thing 6"})) == [
        "S6 is above its maximum in MAIN (9.000 on hand, maximum 5.000)"
    ]
    assert len(titles(admin_client.get(LIST_URL, {"severity": "bogus"}))) == 6
    # Oldest first, whatever the severity.
    assert [d.pk for d in admin_client.get(LIST_URL, {"sort": "opened"}).context["object_list"]] == [
        inbox[k].pk for k in ("unpaid", "low", "late_old", "out", "late_new", "over")
    ]
    fragment = admin_client.get(LIST_URL, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith("<table") and "<html" not in fragment


def test_closed_and_resolved_deviations_are_not_listed(inbox, admin_client, company):
    Deviation.objects.filter(pk=inbox["low"].pk).update(status="closed")
    Deviation.objects.filter(pk=inbox["out"].pk).update(status="resolved")
    Deviation.objects.filter(pk=inbox["over"].pk).update(status="acknowledged")
    raise_one(company_build(), "test.late_order", 7)  # another company's
    assert [d.pk for d in admin_client.get(LIST_URL).context["object_list"]] == [
        inbox[k].pk for k in ("late_old", "late_new", "unpaid", "over")
    ]


def test_list_query_count_does_not_grow(company, admin_client, django_assert_num_queries):
    for n in range(3):
        raise_one(company, "inventory.stock_low", n)
    # session, user, membership, count, page (owner joined), companies menu
    with django_assert_num_queries(6):
        assert admin_client.get(LIST_URL).status_code == 200
    for n in range(3, 30):
        raise_one(company, "test.late_order", n)
    with django_assert_num_queries(6):
        assert len(admin_client.get(LIST_URL).context["object_list"]) == 25
    with django_assert_num_queries(5):
        assert admin_client.get(LIST_URL, HTTP_HX_REQUEST="true").status_code == 200


def test_acknowledging_takes_the_deviation_on(inbox, role_user):
    user = role_user(Role.WAREHOUSE)
    client = client_for(user)
    deviation = inbox["out"]
    response = client.post(reverse("web:deviation_acknowledge", args=[deviation.pk]))
    assert response.status_code == 302 and response["Location"] == LIST_URL
    deviation.refresh_from_db()
    assert (deviation.status, deviation.owner, deviation.ended_at) == ("acknowledged", user, None)
    audit = AuditLog.objects.get(action="deviation.acknowledge")
    assert (audit.object_type, audit.object_id, audit.actor) == ("core.deviation", str(deviation.pk), user)
    assert audit.before == {"status": "open"}
    assert audit.after == {"status": "acknowledged", "owner": user.username, "title": "S3 is out of stock in MAIN"}
    html = client.get(LIST_URL).content.decode()
    assert f"Acknowledged · {user.username}" in html
    assert f'action="/deviations/{deviation.pk}/acknowledge/"' not in html
    # Twice: refused with a message, nothing changed.
    before = state()
    response = client.post(reverse("web:deviation_acknowledge", args=[deviation.pk]), follow=True)
    assert "This cannot be done while the document is Acknowledged." in response.content.decode()
    assert state() == before


def test_resolving_ends_the_deviation(inbox, admin_client, admin_user):
    deviation = inbox["late_old"]
    admin_client.post(reverse("web:deviation_resolve", args=[deviation.pk]))
    deviation.refresh_from_db()
    assert (deviation.status, deviation.owner, deviation.ended_at is not None) == ("resolved", admin_user, True)
    audit = AuditLog.objects.get(action="deviation.resolve")
    assert (audit.before, audit.after) == ({"status": "open"}, {"status": "resolved", "title": "Order 2 is late"})
    assert deviation.pk not in [d.pk for d in admin_client.get(LIST_URL).context["object_list"]]
    # Raised again after resolving: a new deviation, not the resolved one.
    again = raise_one(deviation.company, "test.late_order", 2)
    assert again.pk != deviation.pk and again.status == "open"


def test_acknowledged_deviations_can_be_resolved_by_whoever_sees_them(inbox, role_user):
    warehouse, manager = role_user(Role.WAREHOUSE), role_user(Role.MANAGER)
    deviation = inbox["over"]
    client_for(warehouse).post(reverse("web:deviation_acknowledge", args=[deviation.pk]))
    client_for(manager).post(reverse("web:deviation_resolve", args=[deviation.pk]))
    deviation.refresh_from_db()
    # The owner stays who took it on.
    assert (deviation.status, deviation.owner) == ("resolved", warehouse)


@pytest.mark.parametrize("action", ["deviation_acknowledge", "deviation_resolve"])
def test_deviations_the_user_cannot_see_are_not_found_and_not_changed(inbox, role_user, action):
    sales = client_for(role_user(Role.SALES))
    other = raise_one(company_build(), "test.late_order", 1)
    before = state()
    for deviation in (inbox["out"], other):
        assert sales.post(reverse(f"web:{action}", args=[deviation.pk])).status_code == 404
    assert sales.post(f"/deviations/999999/{action.split('_')[1]}/").status_code == 404
    assert state() == before


@pytest.mark.parametrize("action", ["deviation_acknowledge", "deviation_resolve"])
def test_partners_and_anonymous_users_are_refused(inbox, role_user, action):
    url = reverse(f"web:{action}", args=[inbox["out"].pk])
    partner = client_for(role_user(Role.PARTNER, (Area.WAREHOUSE,)))
    admin = client_for(role_user(Role.ADMINISTRATOR))
    before = state()
    assert partner.post(url).status_code == 403
    assert partner.get(LIST_URL).status_code == 403
    anonymous = Client().post(url)
    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/login/?next={url}")
    # State changes are POST only.
    assert admin.get(url).status_code == 405
    assert state() == before


def test_the_services_check_permission_and_visibility(company, inbox):
    partner = actor_build(company, Role.PARTNER, areas=(Area.WAREHOUSE,))
    sales = actor_build(company, Role.SALES)
    before = state()
    with pytest.raises(PermissionDenied):
        deviation_acknowledge(actor=partner, deviation_id=inbox["out"].pk)
    with pytest.raises(PermissionDenied):
        deviation_resolve(actor=partner, deviation_id=inbox["out"].pk)
    with pytest.raises(NotFound):
        deviation_resolve(actor=sales, deviation_id=inbox["out"].pk)
    with pytest.raises(NotFound):
        deviation_acknowledge(actor=sales, deviation_id="x")
    deviation_resolve(actor=sales, deviation_id=inbox["late_new"].pk)
    with pytest.raises(Conflict):
        deviation_resolve(actor=sales, deviation_id=inbox["late_new"].pk)
    with pytest.raises(Conflict):
        deviation_acknowledge(actor=sales, deviation_id=inbox["late_new"].pk)
    after = state()
    assert after[1] == before[1] + 1
    assert [row for row in after[0] if row[0] != inbox["late_new"].pk] == [
        row for row in before[0] if row[0] != inbox["late_new"].pk
    ]


# --- the dashboard widget ----------------------------------------------------------------------------


def test_the_widget_counts_the_users_deviations_by_severity(inbox, role_user):
    response = client_for(role_user(Role.WAREHOUSE)).get("/dashboard/widgets/deviations/")
    assert response.status_code == 200
    assert [(c["severity"], c["count"]) for c in response.context["counts"]] == [
        ("high", 1),
        ("medium", 1),
        ("low", 1),
    ]
    assert [d.title for d in response.context["top"]] == [
        "S3 is out of stock in MAIN",
        "S1 is at or below its reorder point in MAIN (1.000 available)",
        "S6 is above its maximum in MAIN (9.000 on hand, maximum 5.000)",
    ]
    html = response.content.decode()
    assert '<a href="/deviations/?severity=high">1</a>' in html
    assert "See all 3 open deviations" in html


def test_the_widget_when_nothing_is_open(company, role_user):
    html = client_for(role_user(Role.HR)).get("/dashboard/widgets/deviations/").content.decode()
    assert "Nothing needs your attention." in html


def test_partners_do_not_get_the_widget(role_user):
    client = client_for(role_user(Role.PARTNER, (Area.WAREHOUSE,)))
    assert client.get("/dashboard/widgets/deviations/").status_code == 403


def test_widget_query_count_does_not_grow(company, admin_client, django_assert_num_queries):
    for n in range(3):
        raise_one(company, "inventory.stock_low", n)
    # session, user, membership, counts by severity, the top five
    with django_assert_num_queries(5):
        admin_client.get("/dashboard/widgets/deviations/")
    for n in range(3, 30):
        raise_one(company, "test.late_order", n)
    with django_assert_num_queries(5):
        response = admin_client.get("/dashboard/widgets/deviations/")
    assert len(response.context["top"]) == 5
