"""scripts/flavours.py's admission webhook server never asks DNS for a name: http.server's own
server_bind does (socket.getfqdn), and that PTR query left the machine in CI's leak stage."""
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import flavours  # noqa: E402


def test_binding_the_webhook_server_asks_no_name(monkeypatch):
    asked = []
    monkeypatch.setattr(socket, "getfqdn", lambda *a: asked.append(a) or "x")
    monkeypatch.setattr(socket, "gethostbyaddr", lambda *a: asked.append(a) or ("x", [], []))
    server = flavours._NamelessServer(("127.0.0.1", 0), flavours._DenyHostNetwork)
    try:
        assert asked == [] and server.server_name == "127.0.0.1" and server.server_port > 0
    finally:
        server.server_close()
