"""Microsoft's MSAL for Python, unmodified, through graphbox's sign-in flows.

Usage: msal_signin.py AUTHORITY TENANT CLIENT_ID CLIENT_SECRET ADMIN_USER ADMIN_PASSWORD CONTROL_URL
A test client fills the real sign-in and consent forms (requests + the
stdlib HTML parser), as a user's browser would. Prints one JSON line.
"""
import base64
import html.parser
import json
import sys
import threading
import time
import urllib.parse

import jwt  # PyJWT, installed with msal
import msal
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

authority, tenant, client_id, secret, admin, password, control = sys.argv[1:8]
graph = f"{authority}/v1.0"
result = {}


class Forms(html.parser.HTMLParser):
    """Every form of a page: id, action and hidden fields."""

    def __init__(self):
        super().__init__()
        self.forms, self.current = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = a.get("id")
            self.forms[self.current] = {"action": a.get("action"), "fields": {}}
        elif tag == "input" and self.current and a.get("type") == "hidden":
            self.forms[self.current]["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def forms(page):
    p = Forms()
    p.feed(page)
    return p.forms


def sign_in(session, response):
    """Fill the sign-in form, then accept consent if asked; the last response."""
    found = forms(response.text)
    if "signin" in found:
        f = found["signin"]
        response = session.post(f["action"], data=dict(f["fields"], login=admin, passwd=password), allow_redirects=False)
        found = forms(response.text) if response.status_code == 200 else {}
    if "consent" in found:
        f = found["consent"]
        response = session.post(f["action"], data=dict(f["fields"], consent="accept"), allow_redirects=False)
    return response


app_token = msal.ConfidentialClientApplication(
    client_id, client_credential=secret, authority=f"{authority}/{tenant}", instance_discovery=False
).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
bearer = {"Authorization": "Bearer " + app_token}


def create_app(body):
    app = requests.post(f"{graph}/applications", json=body, headers=bearer).json()
    requests.post(f"{graph}/servicePrincipals", json={"appId": app["appId"]}, headers=bearer)
    return app


# 1. Authorization code flow with PKCE, nonce and state, through the real form.
public = create_app({"displayName": "msal-public", "isFallbackPublicClient": True,
                     "publicClient": {"redirectUris": ["http://localhost"]}})
pca = msal.PublicClientApplication(public["appId"], authority=f"{authority}/{tenant}", instance_discovery=False)
flow = pca.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost:8400")
browser = requests.Session()
last = sign_in(browser, browser.get(flow["auth_uri"], allow_redirects=False))
location = last.headers.get("Location", "")
auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
token = pca.acquire_token_by_auth_code_flow(flow, auth_response)
result["auth_code"] = {k: token.get(k) for k in ("token_type", "error", "error_description", "scope")}
result["auth_code_user"] = token.get("id_token_claims", {}).get("preferred_username")

# 2. Device code flow, approved through the verification page by a fresh browser.
device = pca.initiate_device_flow(scopes=["User.Read"])
result["device_message"] = device.get("message", "")


def approve():
    time.sleep(1)
    b = requests.Session()
    page = b.get(device["verification_uri"])
    f = forms(page.text)["devicecode"]
    page = b.post(f["action"], data={"otc": device["user_code"]}, allow_redirects=False)
    done = sign_in(b, page)
    result["device_page"] = "You have signed in" in done.text


threading.Thread(target=approve).start()
token = pca.acquire_token_by_device_flow(device)
result["device"] = {k: token.get(k) for k in ("token_type", "error", "error_description")}

# 3. Workload identity federation: an external issuer's token as the client assertion.
issuer = "https://issuer.graphbox.test"
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
numbers = key.public_key().public_numbers()
b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}]}
r = requests.put(f"{control}/tenants/{tenant}/federation/issuers", json={"issuer": issuer, "jwks": jwks})
result["issuer_registered"] = r.status_code
workload = create_app({"displayName": "msal-workload"})
requests.post(f"{graph}/applications/{workload['id']}/federatedIdentityCredentials", headers=bearer,
              json={"name": "ci", "issuer": issuer, "subject": "repo:graphbox/ci:ref:refs/heads/main",
                    "audiences": ["api://AzureADTokenExchange"]})
now = int(time.time())
assertion = jwt.encode({"iss": issuer, "sub": "repo:graphbox/ci:ref:refs/heads/main",
                        "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 600},
                       key, algorithm="RS256", headers={"kid": "k1"})
cca = msal.ConfidentialClientApplication(workload["appId"], client_credential={"client_assertion": assertion},
                                         authority=f"{authority}/{tenant}", instance_discovery=False)
token = cca.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
result["federated"] = {k: token.get(k) for k in ("token_type", "error", "error_description")}

# 4. On-behalf-of: the front end signs in to a middle-tier API (auth code flow
# through the form), and the middle tier trades that token for a Graph token.
middle = requests.post(f"{graph}/applications", headers=bearer, json={
    "displayName": "msal-middle-tier",
    "api": {"oauth2PermissionScopes": [{"id": "2b7c9e41-6d3a-4f8e-9c1b-5a2d7e4f6b13", "value": "access_as_user",
                                        "type": "User", "isEnabled": True,
                                        "adminConsentDisplayName": "Access the API",
                                        "adminConsentDescription": "Access the API as the user"}]}}).json()
requests.patch(f"{graph}/applications/{middle['id']}", headers=bearer,
               json={"identifierUris": [f"api://{middle['appId']}"]})
middle_sp = requests.post(f"{graph}/servicePrincipals", headers=bearer, json={"appId": middle["appId"]}).json()
graph_sp = requests.get(f"{graph}/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", headers=bearer).json()
requests.post(f"{graph}/oauth2PermissionGrants", headers=bearer, json={
    "clientId": middle_sp["id"], "consentType": "AllPrincipals", "resourceId": graph_sp["id"], "scope": "User.Read"})
middle_secret = requests.post(f"{graph}/applications/{middle['id']}/addPassword", headers=bearer, json={}).json()["secretText"]
api_scope = f"api://{middle['appId']}/access_as_user"
flow = pca.initiate_auth_code_flow([api_scope], redirect_uri="http://localhost:8400")
last = sign_in(browser, browser.get(flow["auth_uri"], allow_redirects=False))
auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(last.headers.get("Location", "")).query))
user_token = pca.acquire_token_by_auth_code_flow(flow, auth_response)
result["api_token"] = {k: user_token.get(k) for k in ("token_type", "error", "error_description")}
if "access_token" in user_token:
    middle_app = msal.ConfidentialClientApplication(middle["appId"], client_credential=middle_secret,
                                                    authority=f"{authority}/{tenant}", instance_discovery=False)
    token = middle_app.acquire_token_on_behalf_of(user_token["access_token"], ["https://graph.microsoft.com/User.Read"])
    result["obo"] = {k: token.get(k) for k in ("token_type", "error", "error_description")}
    if "access_token" in token:
        me = requests.get(f"{graph}/users?$select=userPrincipalName",
                          headers={"Authorization": "Bearer " + token["access_token"]})
        result["obo_graph_status"] = me.status_code

print(json.dumps(result))
