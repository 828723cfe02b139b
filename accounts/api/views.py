"""Login (email + password -> token), logout (revokes the token in use), me, and tokens."""

from django.contrib.auth import authenticate, logout
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from wfaib.exceptions import ErrorSerializer

from ..mfa import MfaError, login_second_factor
from ..models import ApiToken
from ..tokens import token_create, token_revoke
from .serializers import (
    ApiTokenSerializer,
    LoginResponseSerializer,
    LoginSerializer,
    NewApiTokenSerializer,
    UserSerializer,
)


class LoginView(APIView):
    """Exchange email and password (and the 2FA code, when the account has 2FA) for a new API
    token."""

    authentication_classes = ()  # public; and no session, so no CSRF token needed
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"  # so wrong credentials answer 401, not 403

    @extend_schema(request=LoginSerializer, operation_id="auth_login", tags=["auth"],
                   responses={200: LoginResponseSerializer, 401: OpenApiResponse(
                       ErrorSerializer, description="invalid_credentials; mfa_required (the "
                       "account has two-factor sign-in: send `code` too); invalid_code")})
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, email=data.validated_data["email"].lower(),
                            password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise AuthenticationFailed("Wrong email or password.", code="invalid_credentials")
        try:
            login_second_factor(request=request._request, user=user,
                                code=data.validated_data.get("code", ""))
        except MfaError as exc:
            raise AuthenticationFailed(str(exc), code=exc.code) from exc
        # A login like the admin's: updates last_login and resets the lockout count (axes).
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        _, key = token_create(user=user, name=data.validated_data["name"])
        return Response({"token": key, "user": UserSerializer(user).data})


class LogoutView(APIView):
    """Revoke the token this request used (or end the session)."""

    read_only_token_may_post = True  # a read-only token may still revoke itself

    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout", tags=["auth"])
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserSerializer}, operation_id="auth_me", tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)


@extend_schema(tags=["auth"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """The signed-in user's API tokens: list, create (the key is returned once), revoke."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = ApiTokenSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        limits = {k: data.validated_data.get(k) for k in ("project", "read_only", "expires_at")}
        calling = request.auth if isinstance(request.auth, ApiToken) else None
        if calling is not None and calling.project_id is not None:
            # A project-limited token cannot mint a wider one.
            if limits["project"] is None or limits["project"].pk != calling.project_id:
                raise PermissionDenied("a token limited to a project can only create tokens "
                                       "for that project", code="forbidden")
        token, key = token_create(user=request.user, name=data.validated_data.get("name", "api"),
                                  project=limits["project"], read_only=bool(limits["read_only"]),
                                  expires_at=limits["expires_at"])
        token.key = key
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        token_revoke(token=instance)
