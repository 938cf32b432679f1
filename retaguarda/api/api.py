"""The versioned JSON API under /api/v1/: every area's router mounted on one NinjaAPI."""

from __future__ import annotations

from ninja import NinjaAPI

from retaguarda.core.apikit import bearer

from . import errors

api = NinjaAPI(
    title="retaguarda API",
    version="1",
    description=(
        "The back office's API for the front office and other systems. Authenticate with "
        "`Authorization: Bearer <token>`; POSTs accept an `Idempotency-Key` header. Every 4xx "
        'answers {"error": {"code", "message", "fields"}}.'
    ),
    auth=bearer,
    urls_namespace="api-v1",
)
errors.install(api)


def mount() -> None:
    from retaguarda.billing.api import router as billing_router
    from retaguarda.catalog.api import router as catalog_router
    from retaguarda.collections.api import router as collections_router
    from retaguarda.core.api import router as core_router
    from retaguarda.dunning.api import router as dunning_router
    from retaguarda.einvoicing.api import router as einvoicing_router
    from retaguarda.fulfilment.api import router as fulfilment_router
    from retaguarda.inventory.api import router as inventory_router
    from retaguarda.ledger.api import router as ledger_router
    from retaguarda.ledger.api_reports import router as ledger_reports_router
    from retaguarda.parties.api import router as parties_router
    from retaguarda.sales.api import router as sales_router

    api.add_router("/core/", core_router)
    api.add_router("/parties/", parties_router)
    api.add_router("/catalog/", catalog_router)
    api.add_router("/inventory/", inventory_router)
    api.add_router("/sales/", sales_router)
    api.add_router("/fulfilment/", fulfilment_router)
    api.add_router("/collections/", collections_router)
    api.add_router("/billing/", billing_router)
    api.add_router("/dunning/", dunning_router)
    api.add_router("/einvoicing/", einvoicing_router)
    api.add_router("/ledger/reports/", ledger_reports_router)
    api.add_router("/ledger/", ledger_router)


mount()
