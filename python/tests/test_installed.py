"""The suite must exercise the installed wheel, not the checkout: the package and its server
binary both come from this interpreter's environment."""

from __future__ import annotations

import os
import sys

import graphbox


def test_the_package_and_its_binary_come_from_the_installed_wheel() -> None:
    assert os.path.realpath(graphbox.__file__).startswith(os.path.realpath(sys.prefix)), graphbox.__file__
    assert "GRAPHBOX_MOCK_BINARY" not in os.environ
    assert os.path.realpath(graphbox.binary_path()).startswith(os.path.realpath(sys.prefix))
    assert os.path.isfile(os.path.join(os.path.dirname(graphbox.__file__), "py.typed"))
