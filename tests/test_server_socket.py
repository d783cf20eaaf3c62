"""Every connection the server accepts has Nagle's algorithm off (``TCP_NODELAY``, app.server),
also on the listening socket uvicorn binds itself for ``serve --workers N`` (protocol 0, on which
asyncio leaves it on): otherwise an answer's last small write waits for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from uvicorn.server import ServerState

from app.main import create_app
from app.server import BoundedHttpToolsProtocol
from app.settings import BUNDLED_DATA, Settings


async def accepted_no_delay(protocol_class: type[BoundedHttpToolsProtocol] | None) -> int:
    """TCP_NODELAY of the server side of one connection, accepted on a socket bound as uvicorn's
    ``Config.bind_socket`` binds it for several workers."""
    config = uvicorn.Config(create_app(Settings(data_dir=BUNDLED_DATA)), host="127.0.0.1", port=0)
    config.load()
    listening = config.bind_socket()
    assert listening.proto == 0  # what makes asyncio leave Nagle on
    accepted: list[asyncio.BaseTransport] = []

    class Plain(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(transport)

    def make() -> asyncio.Protocol:
        if protocol_class is None:
            return Plain()
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
        accepted.append(protocol)  # type: ignore[arg-type]
        return protocol

    server = await asyncio.get_running_loop().create_server(make, sock=listening)
    try:
        port = listening.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.01)
        first = accepted[0]
        transport = first if protocol_class is None else first.transport  # type: ignore[attr-defined]
        value = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        return int(value)
    finally:
        server.close()


def test_a_connection_on_a_socket_bound_as_for_workers_has_no_delay() -> None:
    assert asyncio.run(accepted_no_delay(BoundedHttpToolsProtocol)) != 0


def test_asyncio_alone_leaves_nagle_on_there() -> None:
    """The fault the protocol mends: if asyncio ever sets it itself, this says so."""
    if asyncio.run(accepted_no_delay(None)) != 0:
        pytest.skip("asyncio now sets TCP_NODELAY on such sockets itself")
