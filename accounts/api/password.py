"""Password change (signed in) and password reset by email: /api/auth/password[/reset[/confirm]]."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from wfaib.exceptions import ErrorSerializer

from ..password import (
    PasswordRejected,
    password_change,
    password_reset_confirm,
    password_reset_request,
)

_PASSWORD = {"trim_whitespace": False, "max_length": 4096, "style": {"input_type": "password"}}
RESET_ANSWER = ("If an account with this email exists, a link to choose a new password is on "
                "its way.")


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(**_PASSWORD)
    new_password = serializers.CharField(**_PASSWORD)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="From the emailed link.")
    token = serializers.CharField(max_length=128, help_text="From the emailed link.")
    new_password = serializers.CharField(**_PASSWORD)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class BadRequest(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


def as_api_error(exc: PasswordRejected) -> APIException:
    """400 {"code": "invalid", "fields": {...}} naming the field, or a specific code
    (invalid_token) with its message."""
    if exc.code == "invalid_token":
        return BadRequest(str(exc), code=exc.code)
    return ValidationError(exc.fields)


class PasswordChangeView(APIView):
    """Change the signed-in user's password (the old one is required)."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"

    @extend_schema(request=PasswordChangeSerializer, operation_id="auth_password_change",
                   tags=["auth"], responses={204: None, 400: OpenApiResponse(
                       ErrorSerializer, description="invalid: wrong old_password, or "
                       "new_password refused by the password validators")})
    def post(self, request: Request) -> Response:
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            password_change(user=request.user, old_password=data.validated_data["old_password"],
                            new_password=data.validated_data["new_password"],
                            request=request._request)
        except PasswordRejected as exc:
            raise as_api_error(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Ask for a password-reset link by email. The answer is the same whether or not the
    email has an account."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"

    @extend_schema(request=PasswordResetSerializer, operation_id="auth_password_reset",
                   tags=["auth"], responses={202: MessageSerializer})
    def post(self, request: Request) -> Response:
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            password_reset_request(email=data.validated_data["email"], request=request._request)
        except PasswordRejected as exc:
            raise as_api_error(exc) from exc
        return Response({"message": RESET_ANSWER}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Set a new password with the uid and token from the emailed link (works once)."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"

    @extend_schema(request=PasswordResetConfirmSerializer,
                   operation_id="auth_password_reset_confirm", tags=["auth"],
                   responses={204: None, 400: OpenApiResponse(
                       ErrorSerializer, description="invalid_token (wrong, used or expired "
                       "link) or invalid (new_password refused by the validators)")})
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            password_reset_confirm(**data.validated_data)
        except PasswordRejected as exc:
            raise as_api_error(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
