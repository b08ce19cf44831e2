"""Port rules: Nmap's ``shortport`` helpers, as predicates over a
:class:`~sigscan.engine.plugin.PortView`.

Each returns a function of the view, as ``shortport``'s functions return a rule function.
``protos`` and ``states`` default as in Nmap: TCP, and ``open`` or ``open|filtered``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sigscan.engine.plugin import PortView

Rule = Callable[[PortView], bool]
OPEN_STATES = ("open", "open|filtered")

# shortport.LIKELY_HTTP_PORTS and LIKELY_HTTP_SERVICES
HTTP_PORTS = frozenset({80, 443, 631, 7080, 8080, 8443, 8088, 5800, 3872, 8180, 8000})
HTTP_SERVICES = frozenset({"http", "https", "ipp", "http-alt", "https-alt", "vnc-http", "oem-agent",
                           "soap", "http-proxy", "caldav", "carddav", "webdav"})
# shortport's LIKELY_SSL_PORTS and LIKELY_SSL_SERVICES
SSL_PORTS = frozenset({261, 271, 324, 443, 465, 563, 585, 636, 853, 989, 990, 992, 993, 994, 995,
                       2221, 2252, 2376, 3269, 3389, 4433, 4911, 5061, 5986, 6679, 6697, 8443,
                       9001, 8883})
SSL_SERVICES = frozenset({"ftps", "ftps-data", "ftps-control", "https", "https-alt", "imaps", "ircs",
                          "ldapssl", "ms-wbt-server", "pop3s", "sip-tls", "smtps", "telnets",
                          "tor-orport"})


def _set(values: int | str | Iterable[int] | Iterable[str]) -> frozenset[object]:
    if isinstance(values, int | str):
        return frozenset({values})
    return frozenset(values)


def _checks(view: PortView, protos: frozenset[object], states: frozenset[object]) -> bool:
    return view.proto in protos and view.state.value in states


def portnumber(ports: int | Iterable[int], protos: str | Iterable[str] = "tcp",
               states: str | Iterable[str] = OPEN_STATES) -> Rule:
    wanted, p, s = _set(ports), _set(protos), _set(states)
    return lambda view: view.port in wanted and _checks(view, p, s)


def service(names: str | Iterable[str], protos: str | Iterable[str] = "tcp",
            states: str | Iterable[str] = OPEN_STATES) -> Rule:
    wanted, p, s = _set(names), _set(protos), _set(states)
    return lambda view: view.name in wanted and _checks(view, p, s)


def port_or_service(ports: int | Iterable[int], names: str | Iterable[str],
                    protos: str | Iterable[str] = "tcp",
                    states: str | Iterable[str] = OPEN_STATES) -> Rule:
    by_port, by_name = portnumber(ports, protos, states), service(names, protos, states)
    return lambda view: by_port(view) or by_name(view)


def version_port_or_service(ports: int | Iterable[int], names: str | Iterable[str],
                            protos: str | Iterable[str] = "tcp",
                            states: str | Iterable[str] = OPEN_STATES, rarity: int = 7) -> Rule:
    """``shortport.version_port_or_service``: also not excluded, and intensity ≥ ``rarity``."""
    either = port_or_service(ports, names, protos, states)
    return lambda view: either(view) and not view.excluded and view.intensity >= rarity


def http(view: PortView) -> bool:
    """``shortport.http``."""
    return port_or_service(HTTP_PORTS, HTTP_SERVICES)(view)


def ssl(view: PortView) -> bool:
    """``shortport.ssl`` without its active check (the handshake it sends to low-confidence
    ports): a tunnel found by the probe phase, or a likely port or name."""
    return view.service.tunnel == "ssl" or port_or_service(SSL_PORTS, SSL_SERVICES, ("tcp", "sctp"))(view)
