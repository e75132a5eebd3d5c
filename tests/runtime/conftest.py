"""Fixtures for the runtime: a real IM (PyPI `IM`, its own venv, installed on first use into
.tools/im-venv), and the recording OSCAR stand-in."""

from __future__ import annotations

import pytest

from compiler.runtime.im.server import start_im_server
from tests.conftest import shared_path
from tests.runtime.oscar_stub import OscarStub, serve


@pytest.fixture(scope="session")
def custom_types():
    return shared_path("tosca-types", "custom_types.yaml")


@pytest.fixture(scope="session")
def im_server(im_python, tmp_path_factory):
    """A real IM on 127.0.0.1 (free port, private DATA_DB), stopped by PID at the end."""
    server = start_im_server(im_python, tmp_path_factory.mktemp("im"))
    yield server
    server.stop()


@pytest.fixture
def oscar_stub():
    """The recording OSCAR stand-in on 127.0.0.1."""
    stub = OscarStub()
    httpd = serve(stub)
    yield stub
    httpd.shutdown()
    httpd.server_close()
