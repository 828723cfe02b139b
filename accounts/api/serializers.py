"""Request and response shapes of the accounts API."""

from django.utils import timezone
from rest_framework import serializers

from ..access import projects_visible_to
from ..models import ApiToken, Project, User
from .mfa import CodeField


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "is_staff"]


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, default="login",
                                 help_text="A name for the token, shown in the token list.")
    code = CodeField(required=False, allow_blank=True)


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    user = UserSerializer()


class ApiTokenSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.none(), required=False, allow_null=True,
        help_text="Limit the token to this project (one of yours); null: all your projects.")
    read_only = serializers.BooleanField(required=False, default=False,
                                         help_text="The token may only read.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="After this time the token answers 401.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "project", "read_only", "expires_at", "created_at",
                  "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["project"].queryset = projects_visible_to(request.user)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("must be in the future")
        return value


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; only a digest is kept.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
