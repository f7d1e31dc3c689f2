"""azure-identity fed only by Tenant.env(): the one thing left in code is
disable_instance_discovery=True (MSAL asks login.microsoftonline.com about any authority host
it does not know; azure-identity reads no variable that turns this off)."""

from __future__ import annotations

import os
from typing import Dict

import requests
from azure.identity import ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _me_or_users(token: str) -> requests.Response:
    # requests trusts the mock through REQUESTS_CA_BUNDLE from env(), nothing passed here.
    return requests.get(os.environ["GRAPHBOX_GRAPH_URL"] + "/users", headers={"Authorization": f"Bearer {token}"})


def test_env_alone_is_enough_for_azure_identity_environment_credential(env: Dict[str, str]) -> None:
    token = EnvironmentCredential(disable_instance_discovery=True).get_token(GRAPH_SCOPE)
    assert _me_or_users(token.token).status_code == 200


def test_env_alone_is_enough_for_default_azure_credential(env: Dict[str, str]) -> None:
    token = DefaultAzureCredential(disable_instance_discovery=True).get_token(GRAPH_SCOPE)
    assert _me_or_users(token.token).status_code == 200


def test_client_secret_credential_takes_its_authority_from_env(env: Dict[str, str]) -> None:
    credential = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
                                        os.environ["AZURE_CLIENT_SECRET"], disable_instance_discovery=True)
    assert _me_or_users(credential.get_token(GRAPH_SCOPE).token).status_code == 200
