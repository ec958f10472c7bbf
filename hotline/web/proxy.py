"""The client's address and scheme behind trusted proxies (``TRUSTED_PROXY_HOPS``).

Behind a load balancer every request comes from the proxy's address, so the login limit
would count the whole province as one client. Werkzeug's ``ProxyFix`` takes the address
from ``X-Forwarded-For`` (and the scheme from ``X-Forwarded-Proto``), trusting exactly the
number of hops configured: with 0 (the default, no proxy) the headers are ignored, so a
client cannot claim another address by sending them.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware applying ``ProxyFix`` with the app's current ``TRUSTED_PROXY_HOPS``."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("TRUSTED_PROXY_HOPS") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops)
        return fix(environ, start_response)


def init_proxy(app: Flask) -> None:
    app.config.setdefault("TRUSTED_PROXY_HOPS", 0)
    if not isinstance(app.wsgi_app, TrustedProxies):
        app.wsgi_app = TrustedProxies(app)  # type: ignore[method-assign]
