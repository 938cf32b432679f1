from django.urls import path

from . import views

app_name = "inventory"

urlpatterns: list = [
    path("stock/", views.stock_list_view, name="stock_list"),
    path("stock/<int:product_id>/", views.stock_product_view, name="stock_product"),
    path("stock/<int:product_id>/limits/", views.stock_limits_view, name="stock_limits"),
    path("levels/<int:level_id>/", views.level_detail_view, name="level_detail"),
    path("alerts/", views.alert_list_view, name="alert_list"),
    path("moves/", views.move_list_view, name="move_list"),
    path("receive/", views.receive_view, name="receive"),
    path("adjust/", views.adjust_view, name="adjust"),
    path("relocate/", views.relocate_view, name="relocate"),
    path("transfer/", views.transfer_view, name="transfer"),
    path("warehouses/", views.warehouse_list_view, name="warehouse_list"),
    path("warehouses/new/", views.warehouse_create_view, name="warehouse_create"),
    path("warehouses/<int:warehouse_id>/", views.warehouse_detail_view, name="warehouse_detail"),
    path("warehouses/<int:warehouse_id>/locations/", views.location_create_view, name="location_create"),
    path("counts/", views.count_list_view, name="count_list"),
    path("counts/new/", views.count_create_view, name="count_create"),
    path("counts/<int:count_id>/", views.count_detail_view, name="count_detail"),
    path("counts/<int:count_id>/record/", views.count_record_view, name="count_record"),
    path("counts/<int:count_id>/lines/", views.count_line_add_view, name="count_line_add"),
    path("counts/<int:count_id>/<slug:action>/", views.count_action_view, name="count_action"),
]
