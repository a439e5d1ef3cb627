"""PrometheusClient: Prometheus' HTTP query API through one async httpx client.

Backends are called from worker threads; the client lives on an event loop of its own
(one daemon thread for all servers), so every call from every host reuses the same
pooled connections. Each call has a timeout; a Prometheus that is down or answers
nonsense becomes a BackendError, never a hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
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
    return _wait(asyncio.run_coroutine_threadsafe(coroutine, _event_loop()))


def _wait(future: concurrent.futures.Future[T]) -> T:
    try:
        return future.result(TIMEOUT_S + 1.0)
    except TimeoutError as error:
        future.cancel()
        raise BackendError("Prometheus did not answer in time", connection_lost=True) from error


@dataclass(frozen=True, slots=True)
class ByTarget:
    """An instant query's answer grouped by the ``instance`` label, once per answer:
    fifty host entries each scanning a round's 48,000 series for their own made 2.4
    million label checks a round."""

    series: list[dict[str, Any]]
    by_instance: dict[str, list[dict[str, Any]]]
    node_instances: frozenset[str]  # the instances with node_exporter's series


def group_by_target(series: list[dict[str, Any]]) -> ByTarget:
    """``series`` grouped by instance, noting which are node_exporters."""
    by_instance: dict[str, list[dict[str, Any]]] = {}
    nodes: set[str] = set()
    for item in series:
        labels = item.get("metric")
        if not isinstance(labels, dict):
            continue
        instance = str(labels.get("instance", ""))
        group = by_instance.get(instance)
        if group is None:
            group = by_instance[instance] = []
        group.append(item)
        if str(labels.get("__name__", "")).startswith("node_"):
            nodes.add(instance)
    return ByTarget(series, by_instance, frozenset(nodes))


class PrometheusClient:
    """One Prometheus server (shared by every host entry that names it)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._client: httpx.AsyncClient | None = None
        # Re-entrant: a request done already runs its callback in the thread adding it.
        self._cache_lock = threading.RLock()
        self._cached: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._asking: dict[str, concurrent.futures.Future[list[dict[str, Any]]]] = {}
        self._grouped: dict[str, ByTarget] = {}

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
        """An instant query's result vector, shared: every host of a round asks the
        same at the same moment, and is answered by one request (the one in flight, or
        the previous answer within SHARED_FOR_S)."""

        async def ask() -> list[dict[str, Any]]:
            return self._vector(await self._get("/api/v1/query", {"query": promql}), promql)

        return self._shared(promql, ask)

    def query_by_target(self, promql: str) -> ByTarget:
        """``query``'s answer, grouped by target once for every host entry asking."""
        series = self.query(promql)
        with self._cache_lock:
            grouped = self._grouped.get(promql)
            if grouped is None or grouped.series is not series:
                grouped = self._grouped[promql] = group_by_target(series)
            return grouped

    def _shared(
        self, key: str, ask: Callable[[], Coroutine[Any, Any, list[dict[str, Any]]]]
    ) -> list[dict[str, Any]]:
        """The answer to ``ask`` under ``key``: a fresh one kept, else the request in
        flight, else a new request (a cache alone let ten hosts polled at once send ten)."""
        with self._cache_lock:
            cached = self._cached.get(key)
            if cached is not None and time.monotonic() - cached[0] < SHARED_FOR_S:
                return cached[1]
            asking = self._asking.get(key)
            if asking is None:
                asking = self._asking[key] = asyncio.run_coroutine_threadsafe(ask(), _event_loop())
                asking.add_done_callback(lambda done: self._answered(key, done))
        return _wait(asking)

    def _answered(self, key: str, done: concurrent.futures.Future[list[dict[str, Any]]]) -> None:
        with self._cache_lock:
            self._asking.pop(key, None)
            if not done.cancelled() and done.exception() is None:
                self._cached[key] = (time.monotonic(), done.result())

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
        """The alerts of the server's rules (``/api/v1/alerts``), shared like an
        instant query."""

        async def ask() -> list[dict[str, Any]]:
            data = await self._get("/api/v1/alerts", {})
            if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
                raise BackendError(
                    "malformed answer from Prometheus to its alerts", connection_lost=True
                )
            return [item for item in data["alerts"] if isinstance(item, dict)]

        return self._shared(ALERTS, ask)

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
