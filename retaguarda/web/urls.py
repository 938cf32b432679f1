from django.urls import include, path

from . import views, views_deviations

app_name = "web"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.language_view, name="language"),
    path("company/", views.company_switch_view, name="company_switch"),
    path("profile/", views.profile_view, name="profile"),
    path("profile/password/", views.password_change_view, name="password_change"),
    path("dashboard/widgets/<slug:code>/", views.widget_view, name="widget"),
    path("deviations/", include(views_deviations.urlpatterns)),
    path("admin/", include("retaguarda.web.urls_admin")),
]
