"""The plugin as another project sees it: a failing test's report carries its tenant's requests,
and the realism options reach every test's tenant."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_FAILING = """
import json, ssl, urllib.error, urllib.parse, urllib.request

def test_fails_after_a_request(graphbox_tenant):
    t = graphbox_tenant
    context = ssl.create_default_context(cafile=t.ca_file)
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": t.client_id,
                                   "client_secret": t.client_secret,
                                   "scope": "https://graph.microsoft.com/.default"}).encode()
    with urllib.request.urlopen(f"{t.authority}/{t.tenant_id}/oauth2/v2.0/token", form, context=context) as r:
        token = json.load(r)["access_token"]
    request = urllib.request.Request(t.graph_url + "/users/nobody@example.com",
                                     headers={"Authorization": "Bearer " + token})
    try:
        urllib.request.urlopen(request, context=context)
    except urllib.error.HTTPError as e:
        assert e.code == 404
    assert False, "and then the test fails"
"""


def test_a_failing_tests_report_carries_its_tenants_request_log(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(_FAILING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*graphbox requests (tenant *)*", '*"path": "/v1.0/users/nobody@example.com"*"status": 404*'])


def test_the_realism_options_reach_every_tests_tenant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
def test_realism(graphbox_tenant):
    setting = graphbox_tenant.realism()
    assert (setting["profile"], setting["seed"]) == ("entra", 42)
""")
    result = pytester.runpytest_subprocess("--graphbox-realism", "entra", "--graphbox-realism-seed", "42")
    result.assert_outcomes(passed=1)


def test_a_bad_realism_profile_stops_the_session_with_the_servers_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(graphbox_server):\n    pass\n")
    result = pytester.runpytest_subprocess("--graphbox-realism", "bogus")
    result.stdout.fnmatch_lines(["*graphbox-mock did not start: --realism: unknown profile 'bogus'*"])
    assert result.ret != 0
