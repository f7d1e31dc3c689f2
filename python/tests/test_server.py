"""graphbox.start(): the ready line's fields, the control helpers, and failing fast."""

from __future__ import annotations

import json
import ssl
import time
import urllib.request

import pytest

import graphbox


def test_the_plugin_is_loaded_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("graphbox"), "the pytest11 entry point is not registered"


def test_a_bad_option_gives_the_servers_own_error_at_once() -> None:
    began = time.monotonic()
    with pytest.raises(graphbox.StartError) as refused:
        graphbox.start(realism="bogus", startup_timeout=60)
    # The server's message, and well before the 60 s start timeout: no hang.
    assert "--realism: unknown profile 'bogus'" in str(refused.value)
    assert time.monotonic() - began < 20


def test_an_option_the_server_refuses_after_parsing_also_comes_back_at_once(tmp_path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"users": 3}')
    with pytest.raises(graphbox.StartError, match="needs a \"users\" array"):
        graphbox.start(seed=seed, data_dir=tmp_path, startup_timeout=60)


def test_an_unknown_option_gets_the_servers_refusal_and_usage() -> None:
    with pytest.raises(graphbox.StartError) as refused:
        graphbox.start(colour="blue")
    assert "--colour" in str(refused.value) and "usage: graphbox-mock serve" in str(refused.value)


def test_print_env_is_refused_because_it_replaces_the_ready_line() -> None:
    with pytest.raises(TypeError, match="env"):
        graphbox.start(print_env=True)


def test_start_exposes_the_ready_line_and_stop_ends_the_server(tmp_path) -> None:
    server = graphbox.start(data_dir=tmp_path, id_seed=7)
    try:
        assert server.authority.startswith("https://127.0.0.1:")
        assert server.graph_url == server.authority + "/v1.0"
        assert server.ca_file and server.tenant_domain.endswith(".onmicrosoft.com")
        context = ssl.create_default_context(cafile=server.ca_file)
        with urllib.request.urlopen(f"{server.authority}/{server.tenant_id}/v2.0/.well-known/openid-configuration",
                                    context=context) as r:
            assert json.load(r)["token_endpoint"].startswith(server.authority)
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log


def test_plain_http_is_a_switch() -> None:
    with graphbox.start(plain_http=True) as server:
        assert server.authority.startswith("http://") and server.ca_file is None
        assert "REQUESTS_CA_BUNDLE" not in server.env()


def test_control_helpers_reach_the_tenant(graphbox_tenant: graphbox.Tenant) -> None:
    rules = graphbox_tenant.faults([{"path": "/v1.0/users", "method": "GET", "status": 503, "times": 1}])
    assert rules and rules[0]["status"] == 503
    assert graphbox_tenant.faults([]) == []
    state = graphbox_tenant.state()
    graphbox_tenant.advance_clock(3600)
    graphbox_tenant.load_state(state)
    setting = graphbox_tenant.realism("entra", 7)
    assert setting["profile"] == "entra" and setting["seed"] == 7
    assert graphbox_tenant.realism()["profile"] == "entra"
    with pytest.raises(graphbox.ControlError) as refused:
        graphbox_tenant.realism("bogus")
    assert refused.value.status == 400


def test_each_test_gets_a_tenant_of_its_own(graphbox_server: graphbox.Server,
                                            graphbox_tenant: graphbox.Tenant) -> None:
    assert graphbox_tenant.tenant_id != graphbox_server.tenant_id
    assert graphbox_tenant.requests() == []


def test_env_matches_what_the_server_writes_with_env_file(tmp_path) -> None:
    env_file = tmp_path / "graphbox.env"
    with graphbox.start(data_dir=tmp_path, env_file=env_file, admin_key="sekrit") as server:
        written = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert {k: v.strip("'") for k, v in written.items()} == server.env()
        assert server.env()["GRAPHBOX_ADMIN_KEY"] == "sekrit"


def test_an_env_file_value_with_a_quote_stops_the_start_with_the_servers_reason(tmp_path) -> None:
    with pytest.raises(graphbox.StartError, match="GRAPHBOX_ADMIN_KEY"):
        graphbox.start(data_dir=tmp_path, env_file=tmp_path / "graphbox.env", admin_key="it's")
