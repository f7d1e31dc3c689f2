"""Start the bundled ``graphbox-mock`` server from Python and drive its control API.

``graphbox.start(**options)`` runs ``graphbox-mock serve --port 0`` (HTTPS unless
``plain_http=True``), waits for its ready line and returns a :class:`Server`,
usable as a context manager. Every ``serve`` flag is an option: ``--realism-seed 7``
is ``realism_seed=7``, ``--plain-http`` is ``plain_http=True``. When the server
refuses to start, :class:`StartError` carries its own message, at once.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from types import TracebackType
from typing import Any, Deque, Dict, List, Mapping, Optional, Type, Union

__all__ = ["start", "Server", "Tenant", "StartError", "ControlError", "binary_path"]

_BINARY_NAME = "graphbox-mock" + (".exe" if os.name == "nt" else "")


class StartError(RuntimeError):
    """The server did not start; the message is the server's own (or why it never answered)."""


class ControlError(RuntimeError):
    """A control API call was refused; ``status`` and the server's message say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def binary_path() -> str:
    """Where the ``graphbox-mock`` binary is: ``$GRAPHBOX_MOCK_BINARY``, else the one this
    package's wheel installed beside the interpreter's scripts, else ``PATH``."""
    override = os.environ.get("GRAPHBOX_MOCK_BINARY")
    if override:
        return override
    candidates = [sysconfig.get_path("scripts")]
    try:
        candidates.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    candidates.append(os.path.dirname(sys.executable))
    for directory in candidates:
        path = os.path.join(directory, _BINARY_NAME)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(_BINARY_NAME)
    if found:
        return found
    raise FileNotFoundError(
        "graphbox-mock binary not found: install the graphbox wheel into this interpreter's "
        "environment, or set GRAPHBOX_MOCK_BINARY to the binary's path"
    )


def _command(binary: str, options: Mapping[str, Any]) -> List[str]:
    """``serve`` flags from options: ``realism_seed=7`` → ``--realism-seed 7``, ``plain_http=True``
    → ``--plain-http`` (``False``/``None``: left out). Names are not checked here: the server
    knows its flags, and refuses one it does not know with its own message and usage."""
    args = [binary, "serve"]
    options = dict(options)
    options.setdefault("port", 0)
    for name, value in options.items():
        if name == "print_env":
            raise TypeError(
                "print_env replaces the ready line this package reads; use Tenant.env() "
                "(or env_file=...) for the variables"
            )
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args


class Tenant:
    """One isolated tenant: the ready-line facts as attributes, plus its control calls."""

    authority: str
    graph_url: str
    tenant_id: str
    tenant_domain: str
    client_id: str
    client_secret: str
    admin_username: str
    admin_password: str
    ca_file: Optional[str]
    control_url: str

    def __init__(self, server: "Server", facts: Mapping[str, Any]) -> None:
        self._server = server
        self.facts: Dict[str, Any] = dict(facts)
        for key, value in facts.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<graphbox.Tenant {self.tenant_id} {self.tenant_domain}>"

    def env(self) -> Dict[str, str]:
        """The variables Microsoft's SDKs read, as ``graphbox-mock serve --env-file`` writes them.

        azure-identity still needs ``disable_instance_discovery=True`` in code: MSAL asks
        login.microsoftonline.com about any authority host it does not know, and no variable
        turns that off.
        """
        env = {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_AUTHORITY_HOST": self.authority,
            "AZURE_USERNAME": self.admin_username,
            "AZURE_PASSWORD": self.admin_password,
        }
        if self.ca_file:
            ca = os.path.abspath(self.ca_file)
            env.update(REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca, NODE_EXTRA_CA_CERTS=ca)
        env["GRAPHBOX_GRAPH_URL"] = self.graph_url
        env["GRAPHBOX_CONTROL_URL"] = self.control_url
        env["GRAPHBOX_TENANT_DOMAIN"] = self.tenant_domain
        if self._server.admin_key is not None:
            env["GRAPHBOX_ADMIN_KEY"] = self._server.admin_key
        return env

    def _path(self, rest: str) -> str:
        return f"/tenants/{self.tenant_id}{rest}"

    def advance_clock(self, seconds: float) -> Any:
        """Move this tenant's virtual clock on: tokens expire, deadlines pass."""
        return self._server.control("POST", self._path("/clock/advance"), {"seconds": seconds})

    def faults(self, rules: Optional[List[Mapping[str, Any]]] = None) -> List[Dict[str, Any]]:
        """Replace the scripted faults with ``rules`` (``[]`` clears them); without
        ``rules``, read what is left. Rule keys as the control API takes them:
        ``path``, ``method``, ``status``, ``retryAfterSeconds``, ``times``."""
        if rules is None:
            answer = self._server.control("GET", self._path("/faults"))
        else:
            answer = self._server.control("PUT", self._path("/faults"), {"rules": list(rules)})
        return list(answer.get("rules", [])) if isinstance(answer, dict) else []

    def realism(self, profile: Optional[str] = None, seed: Optional[int] = None, **overrides: Any) -> Dict[str, Any]:
        """Set the tenant's realism (``off``, ``entra``, ``adversarial``; camelCase
        overrides as the control API takes them); with no arguments, read it."""
        if profile is None and seed is None and not overrides:
            return dict(self._server.control("GET", self._path("/realism")))
        body: Dict[str, Any] = dict(overrides)
        if profile is not None:
            body["profile"] = profile
        if seed is not None:
            body["seed"] = seed
        return dict(self._server.control("PUT", self._path("/realism"), body))

    def realism_report(self) -> Dict[str, Any]:
        return dict(self._server.control("GET", self._path("/realism/report")))

    def state(self) -> Dict[str, Any]:
        """The tenant's whole state, as ``load_state`` takes it back."""
        return dict(self._server.control("GET", self._path("/state")))

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._server.control("PUT", self._path("/state"), dict(state))

    def reset(self) -> None:
        """Back to a fresh tenant with the same id and bootstrap credentials."""
        self._server.control("POST", self._path("/reset"))

    def requests(self) -> List[Dict[str, Any]]:
        """The last requests this tenant saw (time, method, path, status, client)."""
        answer = self._server.control("GET", self._path("/requests"))
        return list(answer.get("requests", [])) if isinstance(answer, dict) else []


class Server:
    """A running ``graphbox-mock``; its default tenant's facts are attributes, as on the ready line."""

    def __init__(self, process: "subprocess.Popen[bytes]", facts: Mapping[str, Any], admin_key: Optional[str],
                 stderr: Deque[str], stderr_thread: threading.Thread) -> None:
        self.process = process
        self.admin_key = admin_key
        self._stderr = stderr
        self._stderr_thread = stderr_thread
        self.tenant = Tenant(self, facts)
        self.ready: Dict[str, Any] = dict(facts)
        self.authority: str = facts["authority"]
        self.graph_url: str = facts["graph_url"]
        self.tenant_id: str = facts["tenant_id"]
        self.tenant_domain: str = facts["tenant_domain"]
        self.client_id: str = facts["client_id"]
        self.client_secret: str = facts["client_secret"]
        self.admin_username: str = facts["admin_username"]
        self.admin_password: str = facts["admin_password"]
        self.ca_file: Optional[str] = facts.get("ca_file")
        self.control_url: str = facts["control_url"]
        self._ssl = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def __repr__(self) -> str:
        return f"<graphbox.Server {self.authority} pid={self.process.pid}>"

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()

    @property
    def log(self) -> str:
        """The server's recent stderr (its log lines)."""
        return "".join(self._stderr)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (so ``--state`` is saved), then kill if it has not exited within ``timeout``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr_thread.join(timeout)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """One control API call (``path`` below ``control_url``); JSON in, JSON out."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.control_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.admin_key is not None:
            request.add_header("x-graphbox-admin-key", self.admin_key)
        try:
            with urllib.request.urlopen(request, context=self._ssl, timeout=60) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                message = json.loads(raw)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = raw
            raise ControlError(e.code, message) from None
        return json.loads(text) if text else None

    def new_tenant(self) -> Tenant:
        """A fresh isolated tenant (one control call)."""
        return Tenant(self, self.control("POST", "/tenants"))

    # The default tenant's control calls, on the server for brevity.
    def advance_clock(self, seconds: float) -> Any:
        return self.tenant.advance_clock(seconds)

    def faults(self, rules: Optional[List[Mapping[str, Any]]] = None) -> List[Dict[str, Any]]:
        return self.tenant.faults(rules)

    def realism(self, profile: Optional[str] = None, seed: Optional[int] = None, **overrides: Any) -> Dict[str, Any]:
        return self.tenant.realism(profile, seed, **overrides)

    def state(self) -> Dict[str, Any]:
        return self.tenant.state()

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.tenant.load_state(state)

    def requests(self) -> List[Dict[str, Any]]:
        return self.tenant.requests()

    def env(self) -> Dict[str, str]:
        return self.tenant.env()


def start(*, binary: Optional[str] = None, startup_timeout: float = 30.0,
          **options: Union[str, int, float, bool, "os.PathLike[str]", None]) -> Server:
    """Run ``graphbox-mock serve --port 0`` with ``options`` as flags and wait for its ready line.

    ``binary`` overrides where the server binary is (see :func:`binary_path`);
    ``startup_timeout`` bounds the wait for a server that neither answers nor exits.
    """
    command = _command(binary or binary_path(), options)
    admin_key = options.get("admin_key")
    if admin_key is None:
        admin_key = os.environ.get("GRAPHBOX_ADMIN_KEY")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    # The server logs to stderr for as long as it runs: drain it, or a full
    # pipe would stall the server. The last lines are kept for errors.
    stderr: Deque[str] = deque(maxlen=200)
    stderr_pipe = process.stderr

    def drain() -> None:
        for raw in iter(stderr_pipe.readline, b""):
            stderr.append(raw.decode("utf-8", "replace"))
        stderr_pipe.close()

    stderr_thread = threading.Thread(target=drain, name="graphbox-mock stderr", daemon=True)
    stderr_thread.start()
    lines: "queue.Queue[bytes]" = queue.Queue()
    stdout_pipe = process.stdout
    threading.Thread(target=lambda: lines.put(stdout_pipe.readline()), name="graphbox-mock ready", daemon=True).start()
    deadline = time.monotonic() + startup_timeout
    line: Optional[bytes] = None
    while line is None and process.poll() is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.02)
        except queue.Empty:
            pass
    if not line:
        # stdout closed (line == b"") means the process is exiting: give it a
        # moment to be reaped so its status and last words are known.
        try:
            exited: Optional[int] = process.wait(5 if line == b"" or process.poll() is not None else 0)
        except subprocess.TimeoutExpired:
            exited = None
        if exited is None:
            process.kill()
            process.wait()
        stderr_thread.join(5)
        message = "".join(stderr).strip()
        if exited is None:
            raise StartError(f"graphbox-mock printed no ready line within {startup_timeout} s: {message}")
        raise StartError(message or f"graphbox-mock exited with status {exited} before its ready line")
    try:
        facts = json.loads(line)
    except ValueError:
        process.kill()
        process.wait()
        raise StartError(f"graphbox-mock's ready line is not JSON: {line!r}") from None
    return Server(process, facts, None if admin_key is None else str(admin_key), stderr, stderr_thread)
