"""A fake Telegram Bot API server on 127.0.0.1, for end-to-end tests of bot/telegram.py.

It speaks the wire protocol that python-telegram-bot really uses, so the library runs
unmodified against it (`ApplicationBuilder().base_url(fake.api_url).base_file_url(fake.file_url)`):

- `POST|GET /bot{token}/{method}` with a JSON, urlencoded or multipart/form-data body (PTB sends
  form fields whose complex values are JSON-encoded strings, and files as multipart parts);
- `GET /file/bot{token}/{file_path}` serves files registered with `push_document` (after
  `file_delay` seconds, to imitate a slow download).

Methods: getMe, deleteWebhook, setWebhook, getWebhookInfo, getUpdates (served from a queue;
honours `offset` as a confirmation like Telegram does, and long-polls up to `timeout` seconds,
capped at `max_long_poll`), sendMessage, editMessageText, editMessageReplyMarkup, sendDocument
and sendPhoto (keep the uploaded bytes), getFile, answerCallbackQuery, setMyCommands, deleteMyCommands,
sendChatAction. An identical edit gets Telegram's real 400 "message is not modified", and unknown
methods 404, so adapter bugs show up. Every call is recorded in `calls`.

Fault injection: `fail_next("sendMessage", times=1, retry_after=1)` answers the next N calls of
that method with Telegram's flood-control 429 (`parameters.retry_after`).

Usage (inside a test's event loop)::

    async with FakeTelegramServer() as tg:
        tg.push_message(chat_id=42, user_id=42, text="hi")
        sent = await tg.wait_for(lambda: tg.messages_to(42))
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

T = TypeVar("T")

BOT_ID = 7000001
BOT_USERNAME = "datagen_test_bot"


@dataclass
class RecordedCall:
    """One request the bot made: the method, its decoded parameters, uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, "UploadedFile"] = field(default_factory=dict)
    status: int = 200
    at: float = field(default_factory=time.monotonic)


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str


@dataclass
class BotMessage:
    """A message the bot sent, as it stands now (edits applied)."""

    message_id: int
    chat_id: int
    text: str = ""
    reply_markup: dict[str, Any] | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    caption: str = ""
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [button for row in self.reply_markup.get("inline_keyboard", []) for button in row]

    def button(self, label_part: str) -> dict[str, Any] | None:
        return next((b for b in self.buttons() if label_part in b.get("text", "")), None)


def _decode_field(value: str) -> Any:
    # PTB JSON-encodes lists and dicts (reply_markup, allowed_updates, commands) and sends
    # scalars as plain strings; decoding only the former keeps texts like "42" or "true" intact.
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class FakeTelegramServer(LoopbackServer):
    """Served in the test's own event loop (not a thread): handlers and `wait_for` share `_changed`."""

    def __init__(self, token: str = f"{BOT_ID}:TEST-fake-token", *, max_long_poll: float = 0.5) -> None:
        super().__init__()
        self.token = token
        self.max_long_poll = max_long_poll
        self.calls: list[RecordedCall] = []
        self.messages: dict[int, BotMessage] = {}  # by message_id, bot messages only
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self.file_downloads: list[str] = []
        self.file_delay = 0.0  # seconds before a file download is served (a slow Telegram file server)
        self.callback_query_ids: list[str] = []  # every button press pushed, to check each is answered
        self._updates: list[dict[str, Any]] = []  # unconfirmed updates
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._faults: dict[str, list[int]] = {}  # method -> [remaining, retry_after]
        self._changed = asyncio.Condition()
        self.base_url = ""

    # --- lifecycle -----------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        return app

    async def start(self) -> "FakeTelegramServer":
        await self.serve()
        self.base_url = self.root_url
        return self

    async def stop(self) -> None:
        await self.shutdown()

    async def __aenter__(self) -> "FakeTelegramServer":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """For `ApplicationBuilder.base_url` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """For `ApplicationBuilder.base_file_url`."""
        return f"{self.base_url}/file/bot"

    # --- what a user does ----------------------------------------------------------------

    def _user(self, user_id: int, username: str | None, language_code: str = "en") -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": language_code}
        if username:
            user["username"] = username
        return user

    def _incoming(self, chat_id: int, user_id: int, username: str | None, language_code: str) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": f"User{user_id}"},
            "from": self._user(user_id, username, language_code),
        }

    def _push(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._notify()
        return update

    def make_message_update(
        self, chat_id: int, user_id: int, text: str, *, username: str | None = None, language_code: str = "en"
    ) -> dict[str, Any]:
        """An update (not queued): for posting to a webhook."""
        message = self._incoming(chat_id, user_id, username, language_code) | {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def push_message(
        self, chat_id: int, user_id: int, text: str, *, username: str | None = None, language_code: str = "en"
    ) -> dict[str, Any]:
        update = self.make_message_update(chat_id, user_id, text, username=username, language_code=language_code)
        self._updates.append(update)
        self._notify()
        return update

    def push_callback(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, username: str | None = None
    ) -> dict[str, Any]:
        """A press on an inline button of the bot's message `message_id`."""
        shown = self.messages.get(message_id)
        query_id = f"cb{next(self._file_ids)}"
        self.callback_query_ids.append(query_id)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Datagen", "username": BOT_USERNAME},
            "text": shown.text if shown else "",
        }
        if shown and shown.reply_markup:
            message["reply_markup"] = shown.reply_markup
        return self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id, username),
                    "chat_instance": str(chat_id),
                    "message": message,
                    "data": data,
                }
            }
        )

    def press(self, chat_id: int, user_id: int, message: BotMessage, label_part: str) -> dict[str, Any]:
        button = message.button(label_part)
        if button is None:
            raise AssertionError(f"no button {label_part!r} on message {message.message_id}: {message.buttons()}")
        return self.push_callback(chat_id, user_id, message.message_id, button["callback_data"])

    def push_document(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        mime_type: str = "text/csv",
        username: str | None = None,
        declared_size: int | None = None,
        language_code: str = "en",
    ) -> dict[str, Any]:
        """The user sends a file; the bytes are then served by getFile + the file URL."""
        number = next(self._file_ids)
        file_id = f"doc{number}"
        self.files[file_id] = (f"documents/file_{number}_{filename}", data)
        message = self._incoming(chat_id, user_id, username, language_code) | {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(data) if declared_size is None else declared_size,
            }
        }
        return self._push({"message": message})

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with flood control (429, retry_after)."""
        self._faults[method] = [times, retry_after]

    # --- what the bot did ----------------------------------------------------------------

    def calls_of(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def messages_to(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.messages.values() if m.chat_id == chat_id]

    def documents_to(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.messages_to(chat_id) if m.document is not None]

    def photos_to(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.messages_to(chat_id) if m.photo is not None]

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for(self, probe: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
        """Wait until `probe()` is truthy (re-checked on every call the bot makes) and return it."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = probe()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))
                except asyncio.TimeoutError:
                    pass

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        try:
            asyncio.get_running_loop().create_task(notify())
        except RuntimeError:  # no loop: nobody is waiting
            pass

    # --- HTTP ----------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {key: _decode_field(value) for key, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        content_type = request.content_type
        if request.method == "POST" and request.can_read_body:
            if content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            elif content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if part.filename is not None:
                        data = await part.read()
                        files[part.name or ""] = UploadedFile(part.filename, bytes(data), part.headers.get("Content-Type", ""))
                    else:
                        params[part.name or ""] = _decode_field(await part.text())
            else:
                form = await request.post()
                params.update({key: _decode_field(str(value)) for key, value in form.items()})
        return params, files

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        call = RecordedCall(method, params, files)
        self.calls.append(call)
        try:
            fault = self._faults.get(method)
            if fault and fault[0] > 0:
                fault[0] -= 1
                call.status = 429
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {fault[1]}",
                        "parameters": {"retry_after": fault[1]},
                    },
                    status=429,
                )
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                call.status = 404
                return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
            result = await handler(params, files)
            if isinstance(result, web.Response):
                call.status = result.status
                return result
            return web.json_response({"ok": True, "result": result})
        finally:
            self._notify()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["file_path"]
        self.file_downloads.append(path)
        if self.file_delay:
            await asyncio.sleep(self.file_delay)
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    # --- methods -------------------------------------------------------------------------

    @staticmethod
    def _bad_request(description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}, status=400)

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Datagen",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_json(self, message: BotMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private" if message.chat_id > 0 else "group"},
            "from": self._bot_user(),
        }
        if message.document is not None:
            data["document"] = {
                "file_id": f"sent{message.message_id}",
                "file_unique_id": f"usent{message.message_id}",
                "file_name": message.document.filename,
                "mime_type": message.document.content_type,
                "file_size": len(message.document.data),
            }
            if message.caption:
                data["caption"] = message.caption
        elif message.photo is not None:  # Telegram answers with the sizes it made; one is enough here
            data["photo"] = [{"file_id": f"sent{message.message_id}", "file_unique_id": f"usent{message.message_id}",
                              "width": 900, "height": 900, "file_size": len(message.photo.data)}]
            if message.caption:
                data["caption"] = message.caption
        else:
            data["text"] = message.text
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edits:
            data["edit_date"] = int(time.time())
        return data

    async def _api_getMe(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._bot_user()

    async def _api_deleteWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            return self._bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _api_setMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if not isinstance(params.get("commands"), list):
            return self._bad_request("commands must be a list")
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        offset = _as_int(params.get("offset"), 0)
        limit = _as_int(params.get("limit"), 100) or 100
        timeout = min(float(params.get("timeout") or 0), self.max_long_poll)
        # Telegram semantics: asking for `offset` confirms (forgets) every update below it.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self._updates[:limit]

    def _check_markup(self, params: dict[str, Any]) -> str | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            return "can't parse reply keyboard markup JSON object"
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    return "BUTTON_DATA_INVALID"
                if not button.get("text"):
                    return "text buttons are unallowed in the inline keyboard"
        return None

    async def _api_sendMessage(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            return self._bad_request("message text is empty")
        if len(text) > 4096:
            return self._bad_request("message is too long")
        problem = self._check_markup(params)
        if problem:
            return self._bad_request(problem)
        message = BotMessage(next(self._message_ids), _as_int(params.get("chat_id")), text, params.get("reply_markup"))
        self.messages[message.message_id] = message
        return self._message_json(message)

    def _find(self, params: dict[str, Any]) -> BotMessage | None:
        message = self.messages.get(_as_int(params.get("message_id")))
        if message is None or message.chat_id != _as_int(params.get("chat_id")):
            return None
        return message

    async def _api_editMessageText(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        message = self._find(params)
        if message is None:
            return self._bad_request("message to edit not found")
        text = str(params.get("text", ""))
        if not text.strip():
            return self._bad_request("message text is empty")
        problem = self._check_markup(params)
        if problem:
            return self._bad_request(problem)
        markup = params.get("reply_markup")
        if text == message.text and markup == message.reply_markup:
            return self._bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message.text, message.reply_markup = text, markup
        message.edits += 1
        return self._message_json(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        message = self._find(params)
        if message is None:
            return self._bad_request("message to edit not found")
        problem = self._check_markup(params)
        if problem:
            return self._bad_request(problem)
        markup = params.get("reply_markup")
        if markup == message.reply_markup:
            return self._bad_request("message is not modified")
        message.reply_markup = markup
        message.edits += 1
        return self._message_json(message)

    async def _api_sendDocument(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        document = files.get("document")
        if document is None:
            return self._bad_request("there is no document in the request")
        caption = str(params.get("caption", ""))
        if len(caption) > 1024:
            return self._bad_request("message caption is too long")
        problem = self._check_markup(params)
        if problem:
            return self._bad_request(problem)
        message = BotMessage(
            next(self._message_ids),
            _as_int(params.get("chat_id")),
            reply_markup=params.get("reply_markup"),
            document=document,
            caption=caption,
        )
        self.messages[message.message_id] = message
        return self._message_json(message)

    async def _api_sendPhoto(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        photo = files.get("photo")
        if photo is None:
            return self._bad_request("there is no photo in the request")
        if len(photo.data) > 10 * 1024 * 1024:
            return self._bad_request("PHOTO_INVALID_DIMENSIONS")  # Telegram's limit for photos is 10 MB
        caption = str(params.get("caption", ""))
        if len(caption) > 1024:
            return self._bad_request("message caption is too long")
        message = BotMessage(next(self._message_ids), _as_int(params.get("chat_id")), photo=photo, caption=caption)
        self.messages[message.message_id] = message
        return self._message_json(message)

    async def _api_getFile(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return self._bad_request("invalid file_id")
        file_path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": file_path}
