"""Nmap's ``comm`` library on the plugin step protocol: ``opencon`` and ``tryssl``."""

from __future__ import annotations

from collections.abc import Generator

from sigscan.engine.plugin import PortView, Reply, ReplyEnd, Step, close, connect, receive, send
from sigscan.plugins.rules import SSL_PORTS, SSL_SERVICES

REQUEST_TIMEOUT = 6.0  # comm.lua's REQUEST_TIMEOUT, seconds
CONNECT_TIMEOUT = 5.0  # what stdnse.get_timeout gives a host with no timing data yet


def opencon(data: bytes, *, tls: bool = False,
            timeout: float = REQUEST_TIMEOUT + CONNECT_TIMEOUT) -> Generator[Step, object, Reply]:
    """Connect, send ``data``, take one read (``comm.opencon`` then ``socket:close``)."""
    opened = yield from connect(tls)
    if opened.conn is None:
        return Reply(b"", ReplyEnd.ERROR, opened.error)
    yield from send(opened.conn, data)
    reply = yield from receive(opened.conn, timeout)
    yield from close(opened.conn)
    return reply


def ssl_first(view: PortView) -> bool:
    """``comm``'s ``bestoption``: whether TLS is tried before plain TCP."""
    if view.proto == "udp":
        return False
    if view.service.tunnel == "ssl":
        return True
    if view.service.conf > 6:
        return False
    return view.port in SSL_PORTS or view.name in SSL_SERVICES


def tryssl(view: PortView, data: bytes) -> Generator[Step, object, Reply]:
    """``comm.tryssl``: the exchange over the likelier of TCP and TLS, then over the other if
    that one failed (no connection, or no reply)."""
    first = ssl_first(view)
    reply = yield from opencon(data, tls=first)
    if reply.ok or view.proto == "udp":
        return reply
    return (yield from opencon(data, tls=not first))
