"""The graphbox pytest plugin (registered through the ``pytest11`` entry point).

Fixtures: ``graphbox_server`` (one server for the session) and ``graphbox_tenant`` (a fresh
isolated tenant per test, one control call). Options: ``--graphbox-realism PROFILE`` and
``--graphbox-realism-seed N`` apply to every test's tenant; ``--graphbox-option KEY=VALUE``
passes any other ``serve`` flag. A failing test's report gets the requests its tenant saw.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Generator, Iterator, Optional

import pytest

import graphbox

_TENANT_KEY = pytest.StashKey["graphbox.Tenant"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("graphbox", "graphbox: a fake Entra ID tenant and Graph server")
    group.addoption("--graphbox-realism", metavar="PROFILE", default=None,
                    help="realism profile for every test's tenant: off, entra or adversarial")
    group.addoption("--graphbox-realism-seed", metavar="N", type=int, default=None,
                    help="the seed every realism choice comes from (same seed, same faults)")
    group.addoption("--graphbox-option", metavar="KEY=VALUE", action="append", default=[],
                    help="another graphbox-mock serve flag, e.g. id_seed=7 (repeatable)")


def _server_options(config: pytest.Config) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    for item in config.getoption("graphbox_option"):
        key, sep, value = item.partition("=")
        if not sep:
            raise pytest.UsageError(f"--graphbox-option takes KEY=VALUE, not {item!r}")
        options[key.strip().replace("-", "_")] = True if value == "" else value
    realism = config.getoption("graphbox_realism")
    seed = config.getoption("graphbox_realism_seed")
    if realism is not None:
        options["realism"] = realism
    if seed is not None:
        options["realism_seed"] = seed
    return options


@pytest.fixture(scope="session")
def graphbox_server(pytestconfig: pytest.Config) -> Iterator[graphbox.Server]:
    """One graphbox-mock for the whole session (HTTPS, any free port)."""
    try:
        server = graphbox.start(**_server_options(pytestconfig))
    except (graphbox.StartError, TypeError) as e:
        pytest.fail(f"graphbox-mock did not start: {e}", pytrace=False)
    with server:
        yield server


@pytest.fixture
def graphbox_tenant(request: pytest.FixtureRequest, graphbox_server: graphbox.Server) -> graphbox.Tenant:
    """A fresh tenant of its own for this test, with the session's realism setting."""
    tenant = graphbox_server.new_tenant()
    realism: Optional[str] = request.config.getoption("graphbox_realism")
    seed: Optional[int] = request.config.getoption("graphbox_realism_seed")
    if realism is not None or seed is not None:
        tenant.realism(realism, seed)
    request.node.stash[_TENANT_KEY] = tenant
    return tenant


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    tenant = item.stash.get(_TENANT_KEY, None)
    if tenant is None or not report.failed:
        return
    try:
        lines = [json.dumps(r, sort_keys=True) for r in tenant.requests()]
        text = "\n".join(lines) if lines else "(no requests)"
    except Exception as e:  # the report must not hide the test's own failure
        text = f"(could not read the request log: {e})"
    report.sections.append((f"graphbox requests (tenant {tenant.tenant_id})", text))
