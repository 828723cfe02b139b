"""Two-factor sign-in for the signed-in user, under /api/auth/mfa: status, totp (enrol),
totp/confirm, disable, recovery-codes.

The TOTP secret is in the answer of `POST /api/auth/mfa/totp` only (enrolment), the recovery
codes in the answers of confirm and regenerate only; the status never shows either.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from wfaib.exceptions import ErrorSerializer

from ..mfa import (
    MAX_CODE_LENGTH,
    MfaError,
    mfa_disable,
    mfa_status,
    normalize_code,
    recovery_codes_regenerate,
    totp_enrol_confirm,
    totp_enrol_start,
)

CODE_HELP = ("The 6-digit code of the authenticator app, or an 8-digit recovery code "
             "(spaces and dashes are ignored).")


class CodeField(serializers.CharField):
    """A 2FA code: digits only (6 or 8, separators ignored), or a 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", CODE_HELP)
        super().__init__(max_length=MAX_CODE_LENGTH, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == "":
            return value
        try:
            return normalize_code(value)
        except ValueError:
            raise serializers.ValidationError(
                "Enter the 6-digit code of your authenticator app or an 8-digit recovery "
                "code.") from None


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MfaStatusSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    enabled_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    recovery_codes_left = serializers.IntegerField()
    required_by_projects = ProjectRefSerializer(
        many=True, help_text="Your projects that require two-factor sign-in: while it is off, "
                             "their workflows, runs and credentials are hidden from you.")


class EnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32; type it into the app if you cannot scan.")
    uri = serializers.CharField(help_text="otpauth:// URI (the QR code's content).")
    qr_svg = serializers.CharField(help_text="The URI as a QR code, SVG.")


class ConfirmSerializer(serializers.Serializer):
    code = CodeField()


class ProofSerializer(serializers.Serializer):
    code = CodeField(required=False, allow_blank=True)
    password = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                     max_length=4096, style={"input_type": "password"})


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="Each works once; shown only now.")


class MfaRefused(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_code"


_CONFLICTS = {"mfa_already_enabled", "mfa_not_enabled", "mfa_not_pending"}


def refused(exc: MfaError) -> MfaRefused:
    error = MfaRefused(str(exc), code=exc.code)
    if exc.code in _CONFLICTS:
        error.status_code = status.HTTP_409_CONFLICT
    return error


class _MfaView(APIView):
    # Codes and passwords are guessable: the login rate limit applies.
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"


class MfaStatusView(APIView):
    @extend_schema(responses={200: MfaStatusSerializer}, operation_id="auth_mfa_status",
                   tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MfaStatusSerializer(mfa_status(request.user)).data)


class TotpEnrolView(_MfaView):
    """Start enrolment: a new secret for the authenticator app, pending until confirmed."""

    @extend_schema(request=None, responses={201: EnrolmentSerializer, 409: OpenApiResponse(
        ErrorSerializer, description="mfa_already_enabled")}, operation_id="auth_mfa_totp",
        tags=["auth"])
    def post(self, request: Request) -> Response:
        try:
            enrolment = totp_enrol_start(user=request.user)
        except MfaError as exc:
            raise refused(exc) from exc
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)


class TotpConfirmView(_MfaView):
    """Turn 2FA on with the app's current code; answers the recovery codes, once."""

    @extend_schema(request=ConfirmSerializer, responses={
        200: RecoveryCodesSerializer,
        400: OpenApiResponse(ErrorSerializer, description="invalid_code, invalid"),
        409: OpenApiResponse(ErrorSerializer, description="mfa_not_pending")},
        operation_id="auth_mfa_totp_confirm", tags=["auth"])
    def post(self, request: Request) -> Response:
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            codes = totp_enrol_confirm(user=request.user, code=data.validated_data["code"])
        except MfaError as exc:
            raise refused(exc) from exc
        return Response({"recovery_codes": codes})


class MfaDisableView(_MfaView):
    """Turn 2FA off, with a current code (or recovery code) or the password."""

    @extend_schema(request=ProofSerializer, responses={
        204: None,
        400: OpenApiResponse(ErrorSerializer, description="invalid_code, invalid_password, "
                             "proof_required"),
        409: OpenApiResponse(ErrorSerializer, description="mfa_not_enabled")},
        operation_id="auth_mfa_disable", tags=["auth"])
    def post(self, request: Request) -> Response:
        data = ProofSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            mfa_disable(user=request.user, **data.validated_data)
        except MfaError as exc:
            raise refused(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecoveryCodesView(_MfaView):
    """New recovery codes (the old ones stop working), with a code or the password."""

    @extend_schema(request=ProofSerializer, responses={
        200: RecoveryCodesSerializer,
        400: OpenApiResponse(ErrorSerializer, description="invalid_code, invalid_password, "
                             "proof_required"),
        409: OpenApiResponse(ErrorSerializer, description="mfa_not_enabled")},
        operation_id="auth_mfa_recovery_codes", tags=["auth"])
    def post(self, request: Request) -> Response:
        data = ProofSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            codes = recovery_codes_regenerate(user=request.user, **data.validated_data)
        except MfaError as exc:
            raise refused(exc) from exc
        return Response({"recovery_codes": codes})
