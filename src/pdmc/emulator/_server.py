"""Serving the emulator's state over real HTTP on localhost, one port per service."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx

from pdmc.emulator._service import EmulatedRequest, Service
from pdmc.emulator._transport import EmulatorTransport

__all__ = ["EmulatorServer"]


def _handler_for(
    transport: EmulatorTransport, service: Service
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            raw_path, _, query = self.path.partition("?")
            # Decoded, as httpx hands the in-process transport its paths.
            path = urllib.parse.unquote(raw_path)
            length = int(self.headers.get("content-length") or 0)
            request = EmulatedRequest(
                method=self.command,
                host=service.default_host,
                path=path,
                query=EmulatedRequest.parse_query(query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = transport.handle_emulated(request)
            except httpx.TransportError:
                # A timeout or reset fault: drop the connection without an answer.
                self.close_connection = True
                return
            # Not send_response: it would add a second Date, from the host's clock.
            self.send_response_only(response.status)
            self.send_header("server", self.version_string())
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            del format, args  # the request log counts traffic; stderr stays quiet

    return Handler


class EmulatorServer:
    """Both fake services on localhost ports; a context manager that starts and stops them."""

    def __init__(
        self, transport: EmulatorTransport, *, host: str, ports: Mapping[Service, int]
    ) -> None:
        """Bind every port now.

        Raises:
            OSError: a port is in use or the host cannot be bound (ports already bound
                are closed again).
        """
        self._servers: dict[Service, http.server.ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        try:
            for service, port in ports.items():
                self._servers[service] = http.server.ThreadingHTTPServer(
                    (host, port), _handler_for(transport, service)
                )
        except OSError:
            for server in self._servers.values():
                server.server_close()
            raise

    def url_of(self, service: Service) -> str:
        """The base URL of one service (``http://127.0.0.1:PORT``)."""
        host, port = self._servers[service].server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def urls(self) -> dict[str, str]:
        """Base URL per service name."""
        return {service.name: self.url_of(service) for service in self._servers}

    def start(self) -> Self:
        """Start serving in background threads."""
        for server in self._servers.values():
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the ports."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
