"""The machinery the loopback fakes share: an aiohttp app served on 127.0.0.1 (random port).

A subclass says what to serve (`build_app`) and how (`runner_options`, passed to `web.AppRunner`),
then serves it either

- in the caller's event loop: `await self.serve()` / `await self.shutdown()` (the Telegram fake,
  whose handlers share asyncio objects with the test), or
- with `ThreadedLoopbackServer`, in a background thread with its own event loop: `start()` /
  `stop()` / `with`, so sync code, other event loops and subprocesses can reach it (the OpenAI and
  Slack fakes); `call_soon(coro)` runs a coroutine on that loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

from aiohttp import web

_T = TypeVar("_T")
_Server = TypeVar("_Server", bound="ThreadedLoopbackServer")


class LoopbackServer:
    """An aiohttp app on `host` (127.0.0.1) and `port` (0: any free one, the bound one once serving)."""

    runner_options: ClassVar[Mapping[str, Any]] = {}  # extra web.AppRunner arguments

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        """The application to serve: routes and client_max_size."""
        raise NotImplementedError

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def serve(self) -> None:
        """Start serving in the running event loop."""
        runner = web.AppRunner(self.build_app(), access_log=None, **self.runner_options)
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await self.shutdown()
            raise
        self.port = runner.addresses[0][1]

    async def shutdown(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class ThreadedLoopbackServer(LoopbackServer):
    """A LoopbackServer running in a background thread with its own event loop."""

    label: ClassVar[str] = "loopback"  # names the thread ("fake-<label>") and the start-up errors

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self: _Server) -> _Server:
        ready = threading.Event()
        startup_error: list[BaseException] = []
        thread = threading.Thread(
            target=self._run_loop, args=(ready, startup_error), name=f"fake-{self.label.lower()}", daemon=True
        )
        self._thread = thread
        thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"fake {self.label} server did not start within 10 s")
        if startup_error:
            thread.join(10)
            self._thread = None
            raise RuntimeError(f"fake {self.label} server failed to start: {startup_error[0]}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.shutdown(), loop).result(10)
        except Exception:  # shutting down: a hung handler must not fail the test teardown
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call_soon(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Run `coro` on the server's loop (from any thread); `asyncio.wrap_future` awaits it."""
        if self._loop is None:
            coro.close()
            raise RuntimeError(f"fake {self.label} server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _run_loop(self, ready: threading.Event, startup_error: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.serve())
        except BaseException as exc:  # report to start() instead of dying silently in the thread
            startup_error.append(exc)
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()
