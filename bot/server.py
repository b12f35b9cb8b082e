"""The one web server: health and readiness here, chat channels mounted by their adapters."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from aiohttp import web

from bot.config import Config
from bot.conversation import Conversation
from bot.logs import AccessLogger
from bot.store import Store, open_store

log = logging.getLogger("voicemail_coach.server")

# Each channel adapter registers a `mount(app, services) -> ChannelStatus` under this group.
CHANNEL_PLUGINS = "voicemail_coach.channels"


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    store: Store
    conversation: Conversation


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    name: str
    enabled: bool
    why: str


Mount = Callable[[web.Application, Services], ChannelStatus]
SERVICES = web.AppKey("services", Services)


async def create_app(config: Config, store: Store | None = None) -> web.Application:
    """The application with every installed channel mounted; the store closes with it."""
    store = store or await open_store(config)
    services = Services(config=config, store=store, conversation=Conversation(store))
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for status in mount_channels(app, services):
        log.info(
            "channel", extra={"channel": status.name, "enabled": status.enabled, "why": status.why}
        )
    app.on_startup.append(_freeze_startup_objects)
    app.on_cleanup.append(_close_store)
    log.info("store", extra={"store": config.store_name})
    return app


def mount_channels(app: web.Application, services: Services) -> list[ChannelStatus]:
    mounts: list[Mount] = [plugin.load() for plugin in entry_points(group=CHANNEL_PLUGINS)]
    return [mount(app, services) for mount in mounts]


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        await services.store.ping()
    except Exception as error:  # any failure to reach the store means "not ready"
        log.warning(
            "not_ready", extra={"store": services.config.store_name, "error": type(error).__name__}
        )
        return web.json_response(
            {"status": "unavailable", "store": services.config.store_name}, status=503
        )
    return web.json_response({"status": "ready", "store": services.config.store_name})


async def _freeze_startup_objects(_: web.Application) -> None:
    """Keep the SDKs' long-lived objects out of the collector's full passes (~50 ms each)."""
    gc.collect()
    gc.freeze()


async def _close_store(app: web.Application) -> None:
    await app[SERVICES].store.close()
    log.info("stopped", extra={"store": app[SERVICES].config.store_name})


def serve(config: Config, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM; aiohttp then stops accepting, drains and runs cleanup."""
    log.info("serving", extra={"host": host, "port": port})
    web.run_app(
        create_app(config),
        host=host,
        port=port,
        print=None,
        handle_signals=True,
        access_log_class=AccessLogger,
    )
