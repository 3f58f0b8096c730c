"""No network: build and search with every non-loopback connection refused and recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from assistant.index import _chroma_settings

GUARD = textwrap.dedent(
    """
    import ipaddress, json, socket, sys
    attempts = []

    def _loopback(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def _address_host(address):
        return address[0] if isinstance(address, tuple) else address  # AF_UNIX paths are local

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(_address_host(address)):
            attempts.append(("connect", repr(address)))
            raise ConnectionRefusedError("network disabled by test")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(_address_host(address)):
            attempts.append(("connect_ex", repr(address)))
            return 111
        return real_connect_ex(self, address)

    def create_connection(address, *args, **kwargs):
        if not _loopback(address[0]):
            attempts.append(("create_connection", repr(address)))
            raise ConnectionRefusedError("network disabled by test")
        return real_create(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            attempts.append(("getaddrinfo", repr(host)))
            raise socket.gaierror("network disabled by test")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo
    """
)


def test_build_and_search_make_no_outside_connections(tmp_path):
    script = GUARD + textwrap.dedent(
        f"""
        import os
        os.environ.pop("HF_HUB_OFFLINE", None)
        from assistant.cli_search import cmd_index, cmd_search
        from assistant.settings import Settings
        settings = Settings(index_dir={str(tmp_path / "index")!r})
        assert cmd_index(settings, rebuild=False) == 0
        assert cmd_index(settings, rebuild=True) == 0
        assert cmd_search(settings, "保租房怎么筹措", 3, as_json=True) == 0
        assert cmd_search(settings, "电瓶车安全", 3, as_json=False) == 0
        print("ATTEMPTS=" + json.dumps(attempts))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("ATTEMPTS="))
    assert json.loads(line.removeprefix("ATTEMPTS=")) == []


def test_guard_really_blocks_outside_connections():
    script = GUARD + textwrap.dedent(
        """
        try:
            socket.create_connection(("93.184.216.34", 80), timeout=1)
        except ConnectionRefusedError:
            pass
        print("ATTEMPTS=" + json.dumps(attempts))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    line = next(x for x in result.stdout.splitlines() if x.startswith("ATTEMPTS="))
    assert len(json.loads(line.removeprefix("ATTEMPTS="))) == 1


def test_chroma_telemetry_is_off():
    assert _chroma_settings().anonymized_telemetry is False
