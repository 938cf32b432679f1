"""Fulfilment pages under /fulfilment/."""

from django.urls import path

from . import views

app_name = "fulfilment"

urlpatterns: list = [
    path("pick-lists/", views.pick_list_list_view, name="picklist_list"),
    path("pick-lists/new/", views.pick_list_create_view, name="picklist_create"),
    path("pick-lists/<int:pick_list_id>/", views.pick_list_detail_view, name="picklist_detail"),
    path("pick-lists/<int:pick_list_id>/pick/", views.pick_list_pick_view, name="picklist_pick"),
    path("pick-lists/<int:pick_list_id>/confirm-all/", views.pick_list_confirm_all_view, name="picklist_confirm_all"),
    path("pick-lists/<int:pick_list_id>/complete/", views.pick_list_complete_view, name="picklist_complete"),
    path("pick-lists/<int:pick_list_id>/cancel/", views.pick_list_cancel_view, name="picklist_cancel"),
    path("pick-lines/<int:line_id>/confirm/", views.pick_line_confirm_view, name="pickline_confirm"),
    path("shipments/", views.shipment_list_view, name="shipment_list"),
    path("shipments/<int:shipment_id>/", views.shipment_detail_view, name="shipment_detail"),
    path("shipments/<int:shipment_id>/parcels/", views.parcel_add_view, name="parcel_add"),
    path(
        "shipments/<int:shipment_id>/parcels/<int:parcel_id>/remove/",
        views.parcel_remove_view,
        name="parcel_remove",
    ),
    path("shipments/<int:shipment_id>/pack/", views.shipment_pack_view, name="shipment_pack"),
    path("shipments/<int:shipment_id>/reopen/", views.shipment_reopen_view, name="shipment_reopen"),
    path("shipments/<int:shipment_id>/ship/", views.shipment_ship_view, name="shipment_ship"),
    path("shipments/<int:shipment_id>/cancel/", views.shipment_cancel_view, name="shipment_cancel"),
    path(
        "shipments/<int:shipment_id>/delivery-note.pdf",
        views.shipment_delivery_note_view,
        name="shipment_delivery_note",
    ),
    path("returns/", views.return_list_view, name="return_list"),
    path("returns/new/", views.return_create_view, name="return_create"),
    path("returns/<int:return_id>/", views.return_detail_view, name="return_detail"),
    path("returns/<int:return_id>/receive/", views.return_receive_view, name="return_receive"),
    path("returns/<int:return_id>/cancel/", views.return_cancel_view, name="return_cancel"),
]
