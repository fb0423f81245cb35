"""`onda serve`: the dashboard in a browser, one dashboard process per browser session (textual-serve).

textual-serve runs a shell command for each websocket session; that command is `python -m tui` with
the options this server was started with, shell-quoted. Secrets never go on that command line: the
Slack webhook and any storage credentials reach each session the way they reach `onda tui`, through
the inherited environment and the config file. The server has no authentication of its own, so it
binds to 127.0.0.1 unless told otherwise, and says so when told otherwise. When the server stops
(Ctrl+C, SIGTERM) it closes every session's websocket first, so each dashboard is told to quit, and
waits for the dashboards' processes (a dashboard still loading its model quits when the load ends)
instead of leaving them running without their server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import sys

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from monitor.config import Settings
from monitor.text import clean_text

SESSION_QUIT_TIMEOUT_S = 120.0


def session_command(settings: Settings, *, offline: bool, db: str | None, brand: str | None) -> str:
    """The shell command textual-serve runs per browser session: this dashboard with these options."""
    argv = [sys.executable, "-m", "tui"]
    if settings.source_file:  # else the session finds the same defaults (same environment and folder)
        argv += ["--config", settings.source_file]
    if offline:
        argv.append("--offline")
    if db is not None:
        argv += ["--db", db]
    if brand is not None:
        argv += ["--brand", brand]
    return shlex.join(argv)


def store_for_sessions(db: str | None) -> tuple[str | None, dict[str, str]]:
    """Where sessions find the store: a path stays `--db`; a URL (it may hold a password) goes by environment.

    Returns the `--db` value for the session command and the environment variables to set for the sessions.
    """
    if db is not None and "://" in db:
        return None, {"ONDA_STORAGE__URL": db}
    return db, {}


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def no_auth_warning(host: str, port: int) -> str:
    return (
        f"onda: warning: serving on {host}:{port}, reachable from other machines; the dashboard has no"
        " authentication of its own: put it behind a reverse proxy that asks for one"
        " (README, 'Running Onda for a team')"
    )


def allowed_origins(public_url: str, host: str, port: int) -> set[str]:
    """The page origins whose websocket may drive a dashboard: the public URL's, and this machine's names."""
    scheme, _, rest = public_url.partition("://")
    origins = {f"{scheme}://{rest.split('/', 1)[0]}".lower()}
    if is_loopback(host) or host in ("0.0.0.0", "::", ""):
        origins |= {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}
    else:
        origins.add(f"http://{host}:{port}".lower())
    return origins


def origin_allowed(origin: str | None, allowed: set[str]) -> bool:
    """Whether a websocket with this `Origin` may start a session (one from another site may not).

    A browser always sends `Origin`, and another site's page would drive the dashboard with the user's
    access. No header = not a browser, which could send any header anyway.
    """
    return origin is None or origin.rstrip("/").lower() in allowed


class SessionServer(Server):
    """textual-serve's Server that refuses other sites' websockets and ends its sessions when it stops."""

    def __init__(self, command: str, *, host: str, port: int, title: str, public_url: str | None) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.sessions: dict[web.WebSocketResponse, asyncio.subprocess.Process] = {}
        self.origins = allowed_origins(self.public_url, host, port)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Any web page may open a websocket to 127.0.0.1: only the dashboard's own page gets a session."""
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, self.origins):
            sys.stderr.write(f"onda: refused a dashboard session from another site ({clean_text(origin, 100)})\n")
            raise web.HTTPForbidden(text="this dashboard only accepts its own page")
        return await super().handle_websocket(request)

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        # Runs for the life of one session; when it returns, textual-serve tells the dashboard to quit.
        process = app_service._process  # textual-serve keeps no public handle on the session's process
        if process is not None:
            self.sessions[websocket] = process
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self.sessions.pop(websocket, None)

    async def on_shutdown(self, app: web.Application) -> None:
        """Before aiohttp waits for the open requests: close each session, then wait for its dashboard."""
        sessions = list(self.sessions.items())
        if not sessions:
            return
        sys.stderr.write(f"onda: stopping {len(sessions)} dashboard session(s)\n")
        for websocket, _ in sessions:
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        processes = [process for _, process in sessions]
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), SESSION_QUIT_TIMEOUT_S)
        except TimeoutError:
            pids = ", ".join(str(p.pid) for p in processes if p.returncode is None)
            sys.stderr.write(f"onda: dashboard session processes still running: {pids}\n")


def serve_dashboard(
    settings: Settings,
    *,
    offline: bool,
    db: str | None,
    brand: str | None,
    host: str,
    port: int,
    public_url: str | None,
) -> int:
    """Serve the dashboard at http://host:port until Ctrl+C or SIGTERM; returns the exit code."""
    from tui.app import OndaApp

    if not is_loopback(host):
        sys.stderr.write(no_auth_warning(host, port) + "\n")
    db_arg, env = store_for_sessions(db)
    os.environ.update(env)  # the session processes inherit it: a password never shows on a command line
    command = session_command(settings, offline=offline, db=db_arg, brand=brand)
    server = SessionServer(command, host=host, port=port, title=OndaApp.TITLE, public_url=public_url)
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's
        sys.stderr.write(f"onda: cannot serve on {host}:{port}: {exc.strerror or exc}\n")
        return 2
    return 0
