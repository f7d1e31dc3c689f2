"""MSAL for Python against a per-test tenant, configured from Tenant.env()."""

from __future__ import annotations

import os
from typing import Dict

import msal
import requests


def test_msal_client_credentials_and_a_graph_call(env: Dict[str, str]) -> None:
    app = msal.ConfidentialClientApplication(
        os.environ["AZURE_CLIENT_ID"], client_credential=os.environ["AZURE_CLIENT_SECRET"],
        authority=f"{os.environ['AZURE_AUTHORITY_HOST']}/{os.environ['AZURE_TENANT_ID']}", instance_discovery=False)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    r = requests.get(os.environ["GRAPHBOX_GRAPH_URL"] + "/organization",
                     headers={"Authorization": "Bearer " + result["access_token"]})
    assert r.status_code == 200 and r.json()["value"][0]["id"] == os.environ["AZURE_TENANT_ID"]
