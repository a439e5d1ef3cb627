"""PrometheusClient: Prometheus' HTTP query API through one async httpx client.

Backends are called from worker threads; the client lives on an event loop of its own
(one daemon thread for all servers), so every call from every host reuses the same
pooled connections. Each call has a timeout; a Prometheus that is down or answers
nonsense becomes a BackendError, never a hang.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from virtui.backends.base import BackendError

TIMEOUT_S = 3.0
SHARED_FOR_S = 0.5  # one instant query answers every host of a poll round
ALERTS = " alerts"  # the alerts' place among the cached answers (no query starts so)
T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="prometheus-http", daemon=True).start()
            _loop = loop
        return _loop


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    future = asyncio.run_coroutine_threadsafe(coroutine, _event_loop())
    try:
        return future.result(TIMEOUT_S + 1.0)
    except TimeoutError as error:
        future.cancel()
        raise BackendError("Prometheus did not answer in time", connection_lost=True) from error


class PrometheusClient:
    """One Prometheus server (shared by every host entry that names it)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._client: httpx.AsyncClient | None = None
        self._cache_lock = threading.Lock()
        self._cached: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(TIMEOUT_S),
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            )
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as error:
            raise BackendError(
                f"Prometheus at {self.base_url} did not answer within {TIMEOUT_S:.0f}s",
                connection_lost=True,
            ) from error
        except httpx.HTTPError as error:
            raise BackendError(
                f"cannot reach Prometheus at {self.base_url}: {error}", connection_lost=True
            ) from error
        try:
            body = response.json()
        except ValueError as error:
            raise BackendError(
                f"malformed answer from {self.base_url}{path} (HTTP {response.status_code}): "
                "not JSON",
                connection_lost=True,
            ) from error
        if not isinstance(body, dict) or body.get("status") != "success":
            why = body.get("error", "no status") if isinstance(body, dict) else "not an object"
            raise BackendError(
                f"Prometheus refused the query (HTTP {response.status_code}): {why}",
                connection_lost=True,
            )
        return body.get("data")

    def _vector(self, data: Any, what: str) -> list[dict[str, Any]]:
        if not isinstance(data, dict) or not isinstance(data.get("result"), list):
            raise BackendError(f"malformed answer from Prometheus to {what}", connection_lost=True)
        return [item for item in data["result"] if isinstance(item, dict)]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector; the same query within SHARED_FOR_S is
        answered from the previous call (every host of a round asks the same)."""
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cached.get(promql)
            if cached is not None and now - cached[0] < SHARED_FOR_S:
                return cached[1]
        result = self._vector(_run(self._get("/api/v1/query", {"query": promql})), promql)
        with self._cache_lock:
            self._cached[promql] = (time.monotonic(), result)
        return result

    def query_range(
        self, promql: str, start: float, end: float, step: float
    ) -> list[dict[str, Any]]:
        """A range query's result matrix."""
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
        }
        return self._vector(_run(self._get("/api/v1/query_range", params)), promql)

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts of the server's rules (``/api/v1/alerts``), shared for
        SHARED_FOR_S like an instant query."""
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cached.get(ALERTS)
            if cached is not None and now - cached[0] < SHARED_FOR_S:
                return cached[1]
        data = _run(self._get("/api/v1/alerts", {}))
        if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
            raise BackendError(
                "malformed answer from Prometheus to its alerts", connection_lost=True
            )
        result = [item for item in data["alerts"] if isinstance(item, dict)]
        with self._cache_lock:
            self._cached[ALERTS] = (time.monotonic(), result)
        return result

    def version(self) -> str:
        """The server's version ("" when it does not say)."""
        data = _run(self._get("/api/v1/status/buildinfo", {}))
        return str(data.get("version", "")) if isinstance(data, dict) else ""


_clients: dict[str, PrometheusClient] = {}
_clients_lock = threading.Lock()


def client_for(base_url: str) -> PrometheusClient:
    """The shared client of a server."""
    with _clients_lock:
        client = _clients.get(base_url)
        if client is None:
            client = _clients[base_url] = PrometheusClient(base_url)
        return client
