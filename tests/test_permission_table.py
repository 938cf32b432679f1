"""The role table itself: who holds which permission, and how partner areas scope a partner."""

import pytest

from retaguarda.common.errors import PermissionDenied
from retaguarda.core.permissions import PERMISSIONS, Actor, has_permission, require

STAFF_ROLES = ["administrator", "manager", "sales", "warehouse", "finance", "hr", "support", "legal"]
EXPECTED = {
    "parties.view": {"administrator", "manager", "sales", "finance", "legal", "support"},
    "parties.change": {"administrator", "manager", "sales", "finance"},
    "parties.import": {"administrator", "manager"},
    "catalog.view": {"administrator", "manager", "sales", "warehouse", "finance", "support", "legal"},
    "catalog.change": {"administrator", "manager", "sales"},
    "catalog.import": {"administrator", "manager"},
    "inventory.view": {"administrator", "manager", "warehouse", "sales", "finance", "support"},
    "inventory.change": {"administrator", "manager", "warehouse"},
    "inventory.allocate": {"administrator", "manager", "warehouse", "sales"},
    "sales.view": {"administrator", "manager", "sales", "warehouse", "finance", "support"},
    "sales.change": {"administrator", "manager", "sales"},
    "fulfilment.view": {"administrator", "manager", "warehouse", "sales", "support"},
    "fulfilment.change": {"administrator", "manager", "warehouse"},
    "billing.view": {"administrator", "manager", "finance", "sales"},
    "billing.change": {"administrator", "finance"},
    "collections.view": {"administrator", "manager", "finance"},
    "collections.change": {"administrator", "finance"},
    "ledger.view": {"administrator", "manager", "finance"},
    "ledger.post": {"administrator", "finance"},
    "ledger.close": {"administrator", "finance"},
    "dunning.view": {"administrator", "manager", "finance", "legal"},
    "dunning.run": {"administrator", "finance"},
    "core.deviations.view": set(STAFF_ROLES),
    "core.audit.view": {"administrator", "manager"},
    "core.users.manage": {"administrator"},
    "core.company.change": {"administrator"},
    "core.webhooks.manage": {"administrator"},
    "core.jobs.view": {"administrator"},
}
STAFF = ["administrator", "manager", "sales", "warehouse", "finance", "hr", "support", "legal"]


@pytest.mark.parametrize("permission", sorted(EXPECTED))
def test_staff_roles_per_permission(permission):
    assert {role for role in STAFF if has_permission(role, (), permission)} == EXPECTED[permission]


def test_every_permission_is_pinned_here():
    assert set(PERMISSIONS) - {"core.tokens.manage"} == set(EXPECTED)


@pytest.mark.parametrize(
    "areas, allowed",
    [
        ((), set()),
        (("accounting",), {"parties.view", "billing.view", "collections.view", "ledger.view", "ledger.post"}),
        (
            ("warehouse",),
            {"catalog.view", "inventory.view", "inventory.change", "fulfilment.view", "fulfilment.change"},
        ),
        (("sales",), {"catalog.view", "sales.view"}),
        (
            ("accounting", "warehouse"),
            {
                "parties.view",
                "billing.view",
                "collections.view",
                "ledger.view",
                "ledger.post",
                "catalog.view",
                "inventory.view",
                "inventory.change",
                "fulfilment.view",
                "fulfilment.change",
            },
        ),
    ],
)
def test_partner_is_scoped_to_named_areas(areas, allowed):
    granted = {p for p in EXPECTED if has_permission("partner", areas, p)}
    assert granted == allowed


def test_partner_never_changes_or_administers_outside_the_warehouse():
    """A logistics partner runs the warehouse (receipts, picking, shipping); no partner changes
    customers, products or orders, reserves stock for orders, or administers."""
    areas = ("accounting", "warehouse", "parties", "catalog", "sales", "administration")
    for permission in (
        "parties.change",
        "catalog.change",
        "sales.change",
        "inventory.allocate",
        "core.users.manage",
        "core.webhooks.manage",
    ):
        assert not has_permission("partner", areas, permission)


def test_require_raises_permission_denied_with_a_message():
    actor = Actor(user=None, company=None, role="hr")
    with pytest.raises(PermissionDenied) as info:
        require(actor, "parties.change")
    assert info.value.status == 403
    assert info.value.code == "permission_denied"


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        has_permission("administrator", (), "parties.delete_everything")
