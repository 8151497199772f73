"""Which addresses only this machine can reach: the rule behind "loopback unless configured, a token beyond it"
for our servers, and "https, or plain http to this machine only" for the API clients that send tokens; and a
free port to put a server on."""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str | None) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1); any other name may resolve anywhere."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
