"""HTTP servers that answer every request with a redirect (RFC 9110 §15.4: ``301`` and a
``Location``), for ``https-redirect``:

- 80: nginx-like (``Server: nginx/1.22.1``, which Nmap's probes recognise, so the fingerprint
  is dropped and the script asks itself), redirecting to ``https://ADDRESS:80/``: the port is
  TLS;
- 8080, 8000: no ``Server`` header, so the port stays unrecognised and the script reads the
  replies out of the fingerprint; 8080 redirects to HTTPS on itself (TLS), 8000 to HTTPS on
  443 (not itself);
- 8088: to HTTPS on itself, but on another host (not itself);
- 8180: to HTTPS on itself, on a host name Nmap's IDNA check refuses (``not-valid``): with the
  target given as an address, Nmap compares that refused name (nil) with the target's name
  (nil too) and takes the redirect as pointing to itself.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.plugins.emulators.base import tcp
from tests.plugins.httpkit import BAD_REQUEST, Request, response, serve

PLUGINS = ("https-redirect",)
SILENT = ("https-redirect",)  # it changes the tunnel and prints nothing
EFFECTS = {("tcp", 80): {"tunnel": "ssl", "product": "nginx"}, ("tcp", 8080): {"tunnel": "ssl"},
           ("tcp", 8180): {"tunnel": "ssl"}, ("tcp", 8000): {"tunnel": ""}, ("tcp", 8088): {"tunnel": ""}}
BODY = b"<html><body>Moved</body></html>\n"


def redirect(location: Callable[[Request], str], server: str | None) -> Callable[[Request | None], bytes]:
    def route(request: Request | None) -> bytes:
        if request is None:
            return BAD_REQUEST
        headers = (("Server", server),) if server else ()
        headers += (("Location", location(request)), ("Content-Type", "text/html"),
                    ("Connection", "close"))
        return response(301, BODY, headers, version=request.version)
    return route


SERVERS = (
    tcp(80, serve(redirect(lambda r: f"https://{r.local}:80/", "nginx/1.22.1"))),
    tcp(8080, serve(redirect(lambda r: f"https://{r.local}:8080/", None))),
    tcp(8000, serve(redirect(lambda r: f"https://{r.local}/", None))),
    tcp(8088, serve(redirect(lambda r: "https://elsewhere.example:8088/", None))),
    tcp(8180, serve(redirect(lambda r: "https://not-valid:8180/login", None))),
)
