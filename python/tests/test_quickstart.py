import os

import graphbox
from azure.identity import EnvironmentCredential


def test_quickstart(monkeypatch):
    with graphbox.start() as server:
        for name, value in server.new_tenant().env().items():
            monkeypatch.setenv(name, value)
        credential = EnvironmentCredential(disable_instance_discovery=True)
        token = credential.get_token("https://graph.microsoft.com/.default")
        assert token.token
