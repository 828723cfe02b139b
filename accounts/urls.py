"""The account pages under /admin/ (accounts/views.py), included by wfaib/urls.py ahead of the
admin site so they take its login and password-change URLs. The URL names are Django's
(`admin_password_reset` makes the admin login page show its "Forgotten your password?" link;
`password_reset_confirm` is the link in the email)."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.AdminLoginView.as_view(), name="admin_login"),
    path("login/code/", views.AdminLoginCodeView.as_view(), name="admin_login_code"),
    path("password_change/", admin.site.admin_view(views.AdminPasswordChangeView.as_view()),
         name="admin_password_change"),
    path("password_reset/", views.PasswordResetView.as_view(), name="admin_password_reset"),
    path("password_reset/done/", views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("reset/done/", views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("account/two-factor/", admin.site.admin_view(views.TwoFactorView.as_view()),
         name="admin_two_factor"),
]
