"""Smoke test: Microsoft's MSAL for Python, unmodified, against graphbox.

Usage: msal_smoke.py AUTHORITY TENANT CLIENT_ID CLIENT_SECRET ADMIN_USER ADMIN_PASSWORD
The CA to trust comes from REQUESTS_CA_BUNDLE. Prints one JSON line of results.
"""
import json
import sys

import msal
import requests

authority, tenant, client_id, secret, admin, password = sys.argv[1:7]
graph = f"{authority}/v1.0"
result = {}

app = msal.ConfidentialClientApplication(
    client_id, client_credential=secret, authority=f"{authority}/{tenant}", instance_discovery=False
)
token = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
result["client_credentials"] = {k: token.get(k) for k in ("token_type", "error", "error_description")}
if "access_token" in token:
    users = requests.get(f"{graph}/users?$select=id,userPrincipalName", headers={"Authorization": "Bearer " + token["access_token"]})
    result["list_users_status"] = users.status_code
    result["list_users_count"] = len(users.json().get("value", []))

# MSAL's password flow first asks https://<host>/common/userrealm/... and drops
# the authority's port when it does (msal/authority.py, user_realm_discovery).
# The mock answers that endpoint, but only on its own port; tell MSAL the host
# has no realm discovery, which is what it concludes itself after a 404.
msal.authority.Authority._domains_without_user_realm_discovery.add(authority.split("://")[1].split(":")[0])
public = msal.PublicClientApplication(client_id, authority=f"{authority}/{tenant}", instance_discovery=False)
delegated = public.acquire_token_by_username_password(admin, password, scopes=["https://graph.microsoft.com/User.Read"])
result["password"] = {k: delegated.get(k) for k in ("token_type", "error", "error_description")}
if "access_token" in delegated:
    accounts = public.get_accounts()
    result["accounts"] = [a.get("username") for a in accounts]
    silent = public.acquire_token_silent(["https://graph.microsoft.com/User.Read"], account=accounts[0], force_refresh=True)
    result["refreshed"] = bool(silent and "access_token" in silent)

print(json.dumps(result))
