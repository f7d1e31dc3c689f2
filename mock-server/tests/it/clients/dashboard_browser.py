"""A real browser (headless Chromium) on graphbox's dashboard.

Usage: dashboard_browser.py CHROMIUM CONTROL_URL AUTHORITY TENANT CLIENT_ID CLIENT_SECRET DOMAIN SCREENSHOTS
Drives Chromium over the DevTools protocol on a pipe, as browser_signin.py does. Creates users
(one named like an XSS payload), turns DirSync on, then opens the dashboard: finds the user, sees
the payload as text, advances the clock from the DirSync page until the state changes, sees a 403
appear in the live request log, and saves a screenshot of each page into SCREENSHOTS.
Prints one JSON line.
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import time

import requests

chromium, control, authority, tenant, client_id, secret, domain, shots = sys.argv[1:9]
graph = f"{authority}/v1.0"
ui = f"{control}/ui"
result = {}
XSS = "<img src=x onerror=alert(1)>"


def token_for(cid, csecret):
    r = requests.post(f"{authority}/{tenant}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": cid, "client_secret": csecret,
        "scope": "https://graph.microsoft.com/.default"})
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["access_token"]}


admin = token_for(client_id, secret)


def user(local, name):
    r = requests.post(f"{graph}/users", headers=admin, json={
        "accountEnabled": True, "displayName": name, "mailNickname": local,
        "userPrincipalName": f"{local}@{domain}",
        "passwordProfile": {"password": "Vk3#pL9!wQz2", "forceChangePasswordNextSignIn": True}})
    r.raise_for_status()
    return r.json()["id"]


dana = user("dana", "Dana Dashboard")
xss = user("xss", XSS)
org = requests.get(f"{graph}/organization", headers=admin).json()["value"][0]["id"]
requests.patch(f"{graph}/organization/{org}", headers=admin,
               json={"onPremisesSyncEnabled": True}).raise_for_status()
# An application with no permissions: its calls are 403s.
app = requests.post(f"{graph}/applications", headers=admin, json={"displayName": "no-permissions"}).json()
requests.post(f"{graph}/servicePrincipals", headers=admin, json={"appId": app["appId"]}).raise_for_status()
pw = requests.post(f"{graph}/applications/{app['id']}/addPassword", headers=admin, json={}).json()
stranger = token_for(app["appId"], pw["secretText"])

os.makedirs(shots, exist_ok=True)
profile = tempfile.mkdtemp(prefix="graphbox-chromium-")
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()
actions = [(os.POSIX_SPAWN_DUP2, to_chrome_r, 3), (os.POSIX_SPAWN_DUP2, from_chrome_w, 4)]
args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"]
pid = os.posix_spawn(chromium, args, os.environ, file_actions=actions)
os.close(to_chrome_r)
os.close(from_chrome_w)

buffer = b""
next_id = 0
events = []


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
        if "method" in reply:
            events.append(reply["method"])
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


def open_page(session, url, ready, what):
    send("Page.navigate", {"url": url}, session)
    wait_for(session, f"document.readyState === 'complete' && ({ready})", what)


def screenshot(session, name):
    data = send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)["data"]
    with open(os.path.join(shots, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(data))
    result.setdefault("screenshots", []).append(f"{name}.png")


try:
    targets = send("Target.getTargets")["targetInfos"]
    page = next(t for t in targets if t["type"] == "page")
    session = send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
    send("Page.enable", {}, session)
    tenant_ui = f"{ui}/tenants/{tenant}"

    open_page(session, ui, f"document.body.innerText.includes({json.dumps(tenant)})", "the tenants page")
    result["tenants_title"] = evaluate(session, "document.title")
    evaluate(session, "document.querySelector('details').open = true; true")
    screenshot(session, "tenants")

    open_page(session, tenant_ui, "document.getElementById('users') !== null", "the objects page")
    result["found_user"] = evaluate(session, "document.getElementById('users').innerText.includes('Dana Dashboard')")
    result["xss_as_text"] = evaluate(session, f"document.getElementById('users').innerText.includes({json.dumps(XSS)})")
    result["images_on_page"] = evaluate(session, "document.querySelectorAll('img').length")
    screenshot(session, "objects")

    open_page(session, f"{tenant_ui}/objects/users/{xss}", "document.getElementById('graph-json') !== null",
              "the user's page")
    result["object_json_has_upn"] = evaluate(
        session, f"JSON.parse(document.getElementById('graph-json').textContent).userPrincipalName === 'xss@{domain}'")
    result["object_images"] = evaluate(session, "document.querySelectorAll('img').length")
    screenshot(session, "object")

    open_page(session, f"{tenant_ui}/dirsync", "document.getElementById('dirsync-status') !== null", "the DirSync page")
    result["dirsync_before"] = evaluate(session, "document.getElementById('dirsync-status').textContent")
    result["current_marked_before"] = evaluate(session, "document.querySelector('.state.current').dataset.state")
    screenshot(session, "dirsync")
    evaluate(session, "document.getElementById('advance').click(); true")
    wait_for(session, "document.getElementById('dirsync-status') && "
                      "document.getElementById('dirsync-status').textContent !== 'PendingEnabled'",
             "the DirSync state to change")
    result["dirsync_after"] = evaluate(session, "document.getElementById('dirsync-status').textContent")
    result["current_marked_after"] = evaluate(session, "document.querySelector('.state.current').dataset.state")

    open_page(session, f"{tenant_ui}/settings", "document.getElementById('authz-mode') !== null", "the settings page")
    screenshot(session, "settings")

    open_page(session, f"{tenant_ui}/log", "document.querySelectorAll('#log tbody tr').length > 0", "the live log")
    result["forbidden_before"] = evaluate(session, "document.querySelectorAll('#log tr.forbidden').length")
    # A refused call made while the page is open must appear without a reload.
    result["refused_status"] = requests.get(f"{graph}/users", headers=stranger).status_code
    wait_for(session, "document.querySelectorAll('#log tr.forbidden').length > 0", "the 403 in the live log")
    result["forbidden_row"] = evaluate(session, "document.querySelector('#log tr.forbidden').innerText")
    screenshot(session, "requests")

    open_page(session, f"{tenant_ui}/report", "document.querySelector('table.caller') !== null", "the report")
    result["report_mentions_app"] = evaluate(session, "document.body.innerText.includes('no-permissions')")
    screenshot(session, "report")
    result["dialogs"] = events.count("Page.javascriptDialogOpening")
finally:
    try:
        send("Browser.close")
    except Exception:
        pass
    os.waitpid(pid, 0)
    shutil.rmtree(profile, ignore_errors=True)

print(json.dumps(result))
