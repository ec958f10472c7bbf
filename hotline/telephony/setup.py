"""Wiring of the telephony adapters into the application."""

from __future__ import annotations

from flask import Flask


def init_telephony(app: Flask) -> None:
    """Webhook blueprints (CSRF-exempt: ``twilio_webhooks``, ``sms_gateway``), the dev
    phone and outbox (``dev_telephony``, 404 in production) and the ``spool`` commands."""
    from hotline.telephony import dev, gateway, spool
    from hotline.telephony.twilio import webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(gateway.bp)
    app.register_blueprint(dev.bp)
    app.cli.add_command(spool.cli)
    # Providers cannot send a CSRF token; their requests are signed instead.
    exempt = app.config.get("CSRF_EXEMPT_PREFIXES")
    if exempt is not None:
        app.config["CSRF_EXEMPT_PREFIXES"] = tuple(
            dict.fromkeys([*exempt, "/twilio/", "/sms-gateway/"])
        )
