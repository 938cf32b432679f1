"""Fulfilment endpoints under /api/v1/fulfilment/: pick lists, picks, parcels, shipments, returns."""

from ninja import Router

router = Router(tags=["fulfilment"])
