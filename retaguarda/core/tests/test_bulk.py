from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from retaguarda.catalog.imports import ROW_FIELDS
from retaguarda.catalog.models import Product, TaxCategory, UnitOfMeasure
from retaguarda.catalog.testing import catalog_defaults_build
from retaguarda.core import bulk


def test_bulk_insert_returns_the_new_ids_in_order_and_converts_values(company, monkeypatch):
    catalog_defaults_build(company)
    uom = UnitOfMeasure.objects.get(company=company, code="kg")
    tax = TaxCategory.objects.get(company=company, code="standard")
    now = timezone.now()
    columns = ["company", *ROW_FIELDS, "created_at", "updated_at"]
    rows = [
        (
            company.pk,
            f"B-{i}",
            "",
            f"Bulk {i}",
            "",
            "goods",
            uom.pk,
            tax.pk,
            Decimal("0.125") if i % 2 else None,
            Decimal(i) / 100,
            Decimal("0.10"),
            "",
            i != 3,
            now,
            now,
        )
        for i in range(7)
    ]
    monkeypatch.setattr(bulk, "MAX_ROWS_PER_STATEMENT", 3)

    with CaptureQueriesContext(connection) as captured:
        ids = bulk.bulk_insert(Product, columns, rows)

    assert len(captured.captured_queries) == 3  # 3 + 3 + 1 rows
    products = Product.objects.in_bulk(ids)
    assert [products[pk].sku for pk in ids] == [f"B-{i}" for i in range(7)]
    assert [products[pk].list_price for pk in ids] == [Decimal(i) / 100 for i in range(7)]
    assert [products[pk].weight for pk in ids] == [Decimal("0.125") if i % 2 else None for i in range(7)]
    assert [products[pk].is_active for pk in ids] == [i != 3 for i in range(7)]
    assert {(p.uom.code, p.tax_category.code, p.standard_cost, p.created_at) for p in products.values()} == {
        ("kg", "standard", Decimal("0.10"), now)
    }


def test_bulk_insert_of_nothing_runs_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.bulk_insert(Product, ["sku"], []) == []
