"""The suite runs through the installed plugin (``pytest11`` entry point), as a user gets it:
nothing here starts a server. ``env`` puts a tenant's variables, and only those, in the
process environment."""

from __future__ import annotations

import os
from typing import Dict, Iterator

import pytest

import graphbox

_SDK_VARIABLES = (
    "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST", "AZURE_USERNAME",
    "AZURE_PASSWORD", "AZURE_CLIENT_CERTIFICATE_PATH", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS", "GRAPHBOX_GRAPH_URL", "GRAPHBOX_CONTROL_URL", "GRAPHBOX_TENANT_DOMAIN",
)


@pytest.fixture
def env(graphbox_tenant: graphbox.Tenant, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    for name in _SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    variables = graphbox_tenant.env()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    yield variables


