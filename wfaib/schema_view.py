"""The view serving the OpenAPI document at /api/schema/: YAML by default, JSON with
`?format=json` (or `openapi-json`) or `Accept: application/json`, as generators ask for it.

Apart from wfaib/schema.py (the AutoSchema class drf-spectacular's own views import)."""

from __future__ import annotations

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation

# ?format= values clients and generators use, by the renderer format they mean.
FORMAT_ALIASES = {"json": "json", "openapi-json": "json", "yaml": "yaml", "openapi": "yaml",
                  "yml": "yaml"}


class SchemaFormatNegotiation(DefaultContentNegotiation):
    """`?format=` picks the document's format here, although the API turns URL format
    overrides off everywhere else (one JSON shape per endpoint)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        asked = request.query_params.get("format")
        if asked:
            format_suffix = FORMAT_ALIASES.get(asked.lower(), asked)
        return super().select_renderer(request, renderers, format_suffix)


class SchemaView(SpectacularAPIView):
    # application/json first among the JSON renderers: `?format=json` answers that type.
    renderer_classes = [OpenApiYamlRenderer, OpenApiYamlRenderer2, OpenApiJsonRenderer2,
                        OpenApiJsonRenderer]
    content_negotiation_class = SchemaFormatNegotiation
