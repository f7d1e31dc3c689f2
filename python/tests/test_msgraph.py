"""Microsoft's msgraph-sdk against a per-test tenant: a user created, users listed page by page,
an application given a new secret that then gets its own token. Only Tenant.env() configures it;
in code stay the Graph base URL (GRAPHBOX_GRAPH_URL) and the allowed host of the token provider,
which a Graph SDK takes nowhere else."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.parse
from typing import Dict, List

from azure.identity import ClientSecretCredential
from azure.identity.aio import EnvironmentCredential
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.applications.item.add_password.add_password_post_request_body import (
    AddPasswordPostRequestBody,
)
from msgraph.generated.models.application import Application
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _client(credential: EnvironmentCredential) -> GraphServiceClient:
    graph_url = os.environ["GRAPHBOX_GRAPH_URL"]
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE],
                                               allowed_hosts=[urllib.parse.urlparse(graph_url).hostname or ""])
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = graph_url
    return GraphServiceClient(request_adapter=adapter)


async def _flow(domain: str) -> Dict[str, object]:
    credential = EnvironmentCredential(disable_instance_discovery=True)
    try:
        client = _client(credential)
        for n in range(5):
            created = await client.users.post(User(
                account_enabled=True, display_name=f"Pytest {n}", mail_nickname=f"pytest{n}",
                user_principal_name=f"pytest{n}@{domain}",
                password_profile=PasswordProfile(password="Str0ng!Passw0rd", force_change_password_next_sign_in=False),
            ))
            assert created is not None and created.id
        config = UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(
            query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=2, select=["id", "userPrincipalName"]))
        page = await client.users.get(request_configuration=config)
        names: List[str] = []
        pages = 0
        while page is not None:
            pages += 1
            names += [u.user_principal_name or "" for u in page.value or []]
            page = await client.users.with_url(page.odata_next_link).get() if page.odata_next_link else None
        app = await client.applications.post(Application(display_name="pytest app"))
        assert app is not None and app.id and app.app_id
        await client.service_principals.post(ServicePrincipal(app_id=app.app_id))
        secret = await client.applications.by_application_id(app.id).add_password.post(
            AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="ci")))
        assert secret is not None and secret.secret_text
        return {"names": names, "pages": pages, "app_id": app.app_id, "secret": secret.secret_text}
    finally:
        await credential.close()


def test_msgraph_sdk_creates_a_user_lists_with_paging_and_an_app_secret_gets_a_token(env: Dict[str, str]) -> None:
    result = asyncio.run(_flow(os.environ["GRAPHBOX_TENANT_DOMAIN"]))
    names = result["names"]
    assert isinstance(names, list)
    for n in range(5):
        assert f"pytest{n}@{os.environ['GRAPHBOX_TENANT_DOMAIN']}" in names
    assert len(names) == len(set(names)) and result["pages"] >= 3, result
    token = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], str(result["app_id"]), str(result["secret"]),
                                   disable_instance_discovery=True).get_token(GRAPH_SCOPE)
    assert token.token.count(".") == 2 and token.expires_on > time.time()
