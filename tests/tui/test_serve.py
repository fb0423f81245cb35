"""`onda serve`: the dashboard in a browser (tui/serve.py through the `onda.dashboard_server` entry point)."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from monitor.config import Settings
from tui.serve import allowed_origins, is_loopback, origin_allowed, session_command, store_for_sessions

REPO = Path(__file__).resolve().parents[2]


def serve_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONDA_", "XDG_"))}
    return {**env, "HOME": str(home), "PYTHONPATH": str(REPO)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_session_command_runs_the_dashboard_with_the_same_options_quoted_for_the_shell(tmp_path: Path) -> None:
    config = tmp_path / "my config's folder" / "config.toml"
    settings = Settings(source_file=str(config))
    command = session_command(settings, offline=True, db="/data/team $HOME/onda.db", brand="Caffè & Co; rm -rf")
    assert shlex.split(command) == [
        sys.executable,
        "-m",
        "tui",
        "--config",
        str(config),
        "--offline",
        "--db",
        "/data/team $HOME/onda.db",
        "--brand",
        "Caffè & Co; rm -rf",
    ]


def test_a_store_url_reaches_the_sessions_by_environment_never_on_their_command_line() -> None:
    url = "postgresql://anna:s3cret@db.example:5432/onda"
    db_arg, env = store_for_sessions(url)
    assert db_arg is None and env == {"ONDA_STORAGE__URL": url}
    assert "s3cret" not in session_command(Settings(), offline=False, db=db_arg, brand=None)
    assert store_for_sessions("/data/onda.db") == ("/data/onda.db", {})  # a path stays a plain --db
    assert store_for_sessions(None) == (None, {})


def test_only_the_dashboards_own_page_may_open_a_session() -> None:
    local = allowed_origins("http://127.0.0.1:8000", "127.0.0.1", 8000)
    assert origin_allowed("http://127.0.0.1:8000", local) and origin_allowed("http://localhost:8000/", local)
    assert not origin_allowed("https://evil.example", local)
    assert not origin_allowed("http://127.0.0.1:9999", local)  # another local service's page
    proxied = allowed_origins("https://onda.example.com", "127.0.0.1", 8000)
    assert origin_allowed("https://ONDA.example.com", proxied)
    assert not origin_allowed("https://onda.example.com.evil.example", proxied)
    assert origin_allowed(None, proxied)  # not a browser: a header proves nothing there


def test_without_a_config_file_or_options_the_session_finds_the_same_defaults() -> None:
    command = session_command(Settings(), offline=False, db=None, brand=None)
    assert shlex.split(command) == [sys.executable, "-m", "tui"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("onda.example.com", False),
    ],
)
def test_only_loopback_hosts_count_as_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_another_host_is_warned_about_and_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", "serve", "--host", "0.0.0.0", "--port", str(port)],
            cwd=REPO,
            env=serve_env(tmp_path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    warning, error = proc.stderr.strip().splitlines()[-2:]
    assert "0.0.0.0" in warning and "no authentication" in warning and "reverse proxy" in warning
    assert error.startswith(f"onda: cannot serve on 0.0.0.0:{port}: ")
    assert "Traceback" not in proc.stderr


def descendants(pid: int) -> list[int]:
    """The processes started by `pid` and by them (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_for_page(session: aiohttp.ClientSession, url: str, server: subprocess.Popen[bytes]) -> tuple[int, str]:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, "onda serve exited before answering"
        try:
            async with session.get(url) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`onda serve --offline` on a free port (its output in tmp_path/serve.log); killed if a test leaves it running."""
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "monitor", "serve", "--offline", "--port", str(port), *PUBLIC_URL],
            cwd=REPO,
            env=serve_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield port, server
    if server.poll() is None:
        server.kill()
        server.wait()


PUBLIC_URL = ["--public-url", "https://onda.example.test"]


def session_commands(pid: int) -> list[bytes]:
    return [Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ") for child in descendants(pid)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the session processes in /proc")
async def test_onda_serve_offline_serves_the_page_runs_a_dashboard_per_session_and_stops_cleanly(
    served: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = served
    async with aiohttp.ClientSession() as session:
        status, page = await wait_for_page(session, f"http://127.0.0.1:{port}/", server)
        assert status == 200
        assert "<div>Onda</div>" in page  # the app's title on the loading screen
        assert 'data-session-websocket-url="wss://onda.example.test/ws"' in page  # --public-url

        # Another site's page cannot drive the dashboard (browsers let any page open a websocket to 127.0.0.1).
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"http://127.0.0.1:{port}/ws", headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        assert descendants(server.pid) == []  # no dashboard was started for it

        own_page = {"Origin": "https://onda.example.test"}  # the --public-url page
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=120&height=36", headers=own_page) as ws:
            screen = b""
            deadline = time.monotonic() + 120
            while b"Onda" not in screen:  # the dashboard's header, drawn by its first frames
                assert time.monotonic() < deadline, screen[-2000:]
                message = await ws.receive(timeout=120)
                assert message.type == aiohttp.WSMsgType.BINARY, message
                screen += message.data
            sessions = descendants(server.pid)
            commands = session_commands(server.pid)
            assert any(b"-m tui --config" in c and b"--offline" in c for c in commands), commands

            server.send_signal(signal.SIGTERM)  # with the session still open
            while (message := await ws.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY:
                pass
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    assert await asyncio.to_thread(server.wait, 150) == 0
    assert [pid for pid in sessions if running(pid)] == []  # each dashboard quit before the server ended
