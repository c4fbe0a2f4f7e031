"""A fake Slack Web API for tests: enough of it for slack_sdk's AsyncWebClient and slack-bolt.

A real HTTP server (aiohttp) on 127.0.0.1, random port, in a background thread with its own
event loop (tests/fakes/loopback.py, like the OpenAI fake), so the app under test talks to it
through the real slack_sdk client: `AsyncWebClient(base_url=fake.base_url)`.

    with FakeSlack(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)   # ".../api/"
        slack.fail_next("chat.postMessage", times=1, retry_after=1)         # 429 + Retry-After
        file = slack.add_file("seed.csv", b"text,label\\n...")               # for file_share events
        ...
        slack.calls                     # every API call: ApiCall(method, args, ok), in order
        slack.calls_of("chat.update")   # the args of one method's calls
        slack.messages                  # ts -> posted message (updated in place by chat.update)
        slack.uploads                   # completed uploads: channel_id, thread_ts, initial_comment, files
        await slack.wait_for("files.completeUploadExternal", count=2, timeout=10)
        await slack.wait_message(lambda m: m.get("thread_ts") == root_ts)

Socket Mode: `apps.connections.open` (with the app token) returns a ws:// URL on this server;
`await slack.socket_send("slash_commands", payload)` pushes an envelope to the connected app
and `await slack.socket_ack(envelope_id)` waits for the app's acknowledgement.

A command's `response_url` may point at `{root_url}/response`: its bodies land in `responses`.
Channels in `not_member_of` answer chat.postMessage / chat.postEphemeral with `not_in_channel`.

Methods: auth.test, apps.connections.open, chat.postMessage, chat.update, chat.postEphemeral, conversations.info,
files.getUploadURLExternal (upload_url on this server), the upload POST itself (bytes kept),
files.completeUploadExternal, files.info; any other method answers `unknown_method` (and is
recorded), as Slack does. Arguments are read the way slack_sdk sends them: query string,
form body or JSON body; JSON-encoded form fields (blocks, files) are decoded.
A wrong or missing bearer token gets `invalid_auth`; a download of a file (`url_private`)
without the token gets 403.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import ThreadedLoopbackServer

_JSON_FIELDS = ("blocks", "attachments", "files", "channels")


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    ok: bool
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeFile:
    id: str
    name: str
    data: bytes
    title: str = ""
    mimetype: str = "text/plain"

    def as_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1] if "." in self.name else "text",
            "size": len(self.data),
            "url_private": f"{base}/files/{self.id}/{self.name}",
            "url_private_download": f"{base}/files/{self.id}/download/{self.name}",
        }


class FakeSlack(ThreadedLoopbackServer):
    label = "Slack"
    runner_options = {"shutdown_timeout": 0.5}

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        team_id: str = "T0001",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.token = token
        self.app_token = app_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.calls: list[ApiCall] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.files: dict[str, FakeFile] = {}
        self.uploads: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to a command's response_url
        self.not_member_of: set[str] = set()  # channels where posting fails with not_in_channel
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        self._pending_uploads: dict[str, FakeFile] = {}
        self._faults: dict[str, deque[float]] = {}
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """What SLACK_API_URL / AsyncWebClient(base_url=) takes."""
        return f"{self.root_url}/api/"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{tail:.*}", self._download)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/response", self._response_url)
        return app

    # --- test controls --------------------------------------------------------------------

    def fail_next(self, method: str, *, times: int = 1, retry_after: float = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with `Retry-After: retry_after`."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend([retry_after] * times)

    def add_file(self, name: str, data: bytes, *, mimetype: str = "text/csv") -> dict[str, Any]:
        """A file "uploaded by a user": returns the file object as it appears in a message event."""
        with self._lock:
            file = FakeFile(id=f"F{next(self._file_ids):06d}", name=name, data=data, mimetype=mimetype)
            self.files[file.id] = file
        return file.as_json(self.root_url)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.args for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Messages posted in one thread (the root included), oldest first."""
        with self._lock:
            return [
                m for m in self.messages.values()
                if m["channel"] == channel and (m.get("thread_ts") == thread_ts or m["ts"] == thread_ts)
            ]

    async def wait_message(self, where: Any, *, timeout: float = 10.0, what: str = "a message") -> dict[str, Any]:
        """Wait for a posted message with `where(message)` true; returns a copy of the newest such."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [json.loads(json.dumps(m)) for m in self.messages.values() if where(m)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                with self._lock:
                    posted = [m["text"][:200] for m in self.messages.values()]
                raise AssertionError(f"no {what} within {timeout} s; messages so far: {posted}")
            await asyncio.sleep(0.02)

    async def wait_for(self, method: str, *, count: int = 1, timeout: float = 10.0, where: Any = None) -> list[dict[str, Any]]:
        """Wait until `method` was called `count` times (optionally only calls where `where(args)`)."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [a for a in self.calls_of(method) if where is None or where(a)]
            if len(calls) >= count:
                return calls
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{method} called {len(calls)} times, expected {count}; calls so far: {self.methods()}"
                )
            await asyncio.sleep(0.02)

    # --- handlers -------------------------------------------------------------------------

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for name in _JSON_FIELDS:
            value = args.get(name)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                args[name] = json.loads(value)
        return args

    def _authorized(self, request: web.Request, method: str, args: dict[str, Any]) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header else str(args.get("token", ""))
        return token == (self.app_token if method == "apps.connections.open" else self.token)

    def _take_fault(self, method: str) -> float | None:
        with self._lock:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    def _record(self, method: str, args: dict[str, Any], ok: bool) -> None:
        with self._lock:
            self.calls.append(ApiCall(method, args, ok))

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        retry_after = self._take_fault(method)
        if retry_after is not None:
            self._record(method, args, False)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": f"{retry_after:g}"}
            )
        if not self._authorized(request, method, args):
            self._record(method, args, False)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            self._record(method, args, False)
            return web.json_response({"ok": False, "error": "unknown_method"})
        with self._lock:
            body = handler(args)
        self._record(method, args, bool(body.get("ok")))
        return web.json_response(body)

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    # Web API methods (called with self._lock held) --------------------------------------

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "datagen",
            "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{self.host}:{self.port}/socket"}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member_of:
            return {"ok": False, "error": "not_in_channel"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = {
            "channel": channel, "ts": ts, "thread_ts": args.get("thread_ts"), "text": args.get("text", ""),
            "blocks": args.get("blocks") or [], "user": self.bot_user_id, "bot_id": self.bot_id, "edits": 0,
        }
        self.messages[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message["channel"] != args.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        message["text"] = args.get("text", message["text"])
        if "blocks" in args:
            message["blocks"] = args.get("blocks") or []
        message["edits"] += 1
        return {"ok": True, "channel": message["channel"], "ts": message["ts"], "text": message["text"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        if args["channel"] in self.not_member_of:
            return {"ok": False, "error": "not_in_channel"}
        self.ephemeral.append(dict(args))
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        return {"ok": True, "channel": {"id": channel, "is_im": channel.startswith("D"), "is_member": True}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length is None:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):06d}"
        self._pending_uploads[file_id] = FakeFile(id=file_id, name=str(filename), data=b"")
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        completed: list[dict[str, Any]] = []
        for item in args.get("files") or []:
            file = self._pending_uploads.pop(item.get("id", ""), None)
            if file is None:
                return {"ok": False, "error": "file_not_found"}
            file.title = item.get("title") or file.name
            self.files[file.id] = file
            completed.append({"id": file.id, "name": file.name, "title": file.title, "data": file.data})
        if not completed:
            return {"ok": False, "error": "invalid_arguments"}
        self.uploads.append({
            "channel_id": args.get("channel_id"), "thread_ts": args.get("thread_ts"),
            "initial_comment": args.get("initial_comment"), "files": completed,
        })
        return {"ok": True, "files": [self.files[f["id"]].as_json(self.root_url) for f in completed]}

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(args.get("file", "")))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": file.as_json(self.root_url)}

    # Socket Mode ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                            "connection_info": {"app_id": "A0APP"}})
        try:
            async for frame in ws:
                if frame.type == web.WSMsgType.TEXT:
                    with self._lock:
                        self.socket_acks.append(json.loads(frame.data))
        finally:
            self._sockets.remove(ws)
        return ws

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def socket_send(self, kind: str, payload: dict[str, Any]) -> str:
        """Push an envelope ("events_api", "slash_commands", "interactive") to the connected app."""
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}

        async def push() -> None:
            if not self._sockets:
                raise AssertionError("no Socket Mode connection")
            await self._sockets[-1].send_json(envelope)

        await asyncio.wrap_future(self.call_soon(push()))
        return envelope_id

    async def socket_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for ack in self.socket_acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            await asyncio.sleep(0.01)
        raise AssertionError(f"envelope {envelope_id} not acknowledged within {timeout} s")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.responses.append(body)
        return web.Response(text="ok")

    # Upload and download (not Web API methods) ------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        with self._lock:
            file = self._pending_uploads.get(file_id)
            if file is not None:
                file.data = data
            self.calls.append(ApiCall("upload", {"file_id": file_id, "length": len(data)}, file is not None))
        if file is None:
            return web.Response(status=404, text="unknown upload")
        return web.Response(text=f"OK - {len(data)}")

    async def _download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return web.Response(status=403, text="forbidden")
        with self._lock:
            file = self.files.get(request.match_info["file_id"])
            if file is not None:
                self.downloads.append(file.id)
        if file is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=file.data, content_type=file.mimetype)
