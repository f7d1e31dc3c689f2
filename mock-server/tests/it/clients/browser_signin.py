"""A real browser (headless Chromium) signs in on graphbox's sign-in page.

Usage: browser_signin.py CHROMIUM AUTHORITY TENANT CLIENT_ID CLIENT_SECRET ADMIN_USER ADMIN_PASSWORD
Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
JSON messages ending in NUL on file descriptors 3 and 4), with the stdlib
only: open the authorize URL, type the user name and password, press Sign in,
press Accept on the consent page, and land on the redirect URI (a local HTTP
server) with a code, which is then redeemed with its PKCE verifier.
Prints one JSON line.
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

import requests

chromium, authority, tenant, client_id, secret, admin, password = sys.argv[1:8]
graph = f"{authority}/v1.0"
result = {}

# The redirect URI: a local server that records what the browser brings back.
landed = {}


class Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        landed.update(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"signed in")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
threading.Thread(target=server.serve_forever, daemon=True).start()
redirect_uri = f"http://localhost:{server.server_address[1]}/callback"

token = requests.post(f"{authority}/{tenant}/oauth2/v2.0/token", data={
    "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
    "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
bearer = {"Authorization": "Bearer " + token}
app = requests.post(f"{graph}/applications", headers=bearer, json={
    "displayName": "browser-app", "isFallbackPublicClient": True,
    "publicClient": {"redirectUris": ["http://localhost/callback"]}}).json()
requests.post(f"{graph}/servicePrincipals", headers=bearer, json={"appId": app["appId"]})

verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
authorize = f"{authority}/{tenant}/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
    "client_id": app["appId"], "response_type": "code", "redirect_uri": redirect_uri,
    "scope": "openid profile User.Read", "state": "browser-state", "nonce": "browser-nonce",
    "code_challenge": challenge, "code_challenge_method": "S256"})

profile = tempfile.mkdtemp(prefix="graphbox-chromium-")
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()
actions = [(os.POSIX_SPAWN_DUP2, to_chrome_r, 3), (os.POSIX_SPAWN_DUP2, from_chrome_w, 4)]
args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--remote-debugging-pipe", f"--user-data-dir={profile}",
        # The mock's CA is not in this throwaway profile's trust store.
        "--ignore-certificate-errors", "about:blank"]
pid = os.posix_spawn(chromium, args, os.environ, file_actions=actions)
os.close(to_chrome_r)
os.close(from_chrome_w)

buffer = b""
next_id = 0


def send(method, params=None, session=None):
    global next_id, buffer
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_chrome_w, json.dumps(message).encode() + b"\0")
    while True:
        while b"\0" not in buffer:
            chunk = os.read(from_chrome_r, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            buffer += chunk
        raw, buffer = buffer.split(b"\0", 1)
        reply = json.loads(raw)
        if reply.get("id") == next_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply.get("result", {})


def evaluate(session, expression):
    r = send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    return r.get("result", {}).get("value")


def wait_for(session, expression, what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if evaluate(session, expression):
                return
        except RuntimeError:
            pass  # the page is navigating
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}; page: {evaluate(session, 'document.documentElement.outerHTML')}")


try:
    targets = send("Target.getTargets")["targetInfos"]
    page = next(t for t in targets if t["type"] == "page")
    session = send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
    send("Page.navigate", {"url": authorize}, session)
    wait_for(session, "document.getElementById('signin') !== null", "the sign-in form")
    result["signin_title"] = evaluate(session, "document.title")
    evaluate(session, f"document.getElementById('login').value = {json.dumps(admin)};"
                      f"document.getElementById('passwd').value = {json.dumps(password)};"
                      "document.getElementById('idSIButton9').click(); true")
    wait_for(session, "document.getElementById('accept') !== null", "the consent form")
    result["consent_shown"] = True
    evaluate(session, "document.getElementById('accept').click(); true")
    deadline = time.time() + 20
    while not landed and time.time() < deadline:
        time.sleep(0.2)
    result["landed"] = {k: v[0] for k, v in landed.items()}
    cookies = send("Network.getCookies", {"urls": [authority]}, session).get("cookies", [])
    result["cookie"] = [{k: c.get(k) for k in ("name", "httpOnly", "secure", "sameSite")} for c in cookies]
finally:
    try:
        send("Browser.close")
    except Exception:
        pass
    os.waitpid(pid, 0)
    shutil.rmtree(profile, ignore_errors=True)

code = result.get("landed", {}).get("code")
if code:
    r = requests.post(f"{authority}/{tenant}/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "client_id": app["appId"], "code": code,
        "redirect_uri": redirect_uri, "code_verifier": verifier})
    result["redeemed"] = r.status_code
print(json.dumps(result))
