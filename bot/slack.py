"""The Slack channel: slack-bolt `AsyncApp` <-> `core.dialog.Dialog`. An adapter only.

Inbound (each acknowledged at once; the work runs in a background task, so Slack never
shows "operation_timeout"):
- `/dataset [order]`   posts a root message in the channel; the conversation lives in its thread
                       (in the app's DM it simply continues the DM);
- a mention            continues (or starts) the conversation in the mention's thread;
- a DM to the app      one conversation per DM;
- a reply in a thread the bot already talks in (message.channels / message.groups);
- a file shared there  downloaded with the bot token -> `FileUpload`;
- a button press       `dg:{action}:{value}` -> `ButtonPress(action, value)`.
Conversation ids: "CHANNEL:THREAD_TS" for threads, "DCHANNEL" for DMs.

Outbound: `SlackOutput` renders replies as Block Kit (choices as buttons, each preview example
as a section with its 👍/👎 buttons, one progress message per job edited with chat.update,
throttled and only when changed) and delivers documents with `files_upload_v2` in the thread.

HTTP mode (default) serves `/slack/events` on PORT and verifies every request's signature
(SLACK_SIGNING_SECRET; bolt refuses unsigned, forged and stale requests with 401). Socket
Mode is used when SLACK_APP_TOKEN is set.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import signal
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, async_default_handlers
from slack_sdk.web.async_client import AsyncWebClient

from bot.progress import ProgressMessages
from core import messages
from core.dialog import Dialog
from core.events import (
    ButtonPress,
    ChatRef,
    Choice,
    Document,
    Event,
    FileUpload,
    Message,
    Preview,
    Progress,
    Reply,
    Say,
    reply_as_text,
)
from core.intake import detect_language
from core.progress import DEFAULT_INTERVAL
from core.settings import Settings, split_list
from storage.store import Store

log = logging.getLogger("datagen.slack")

SLASH_COMMAND = "/dataset"
EVENTS_PATH = "/slack/events"
ACTION_PREFIX = "dg:"
ACK_HEADSTART = 0.03  # seconds between an ack and handing its event to the dialog

# Slack's documented Block Kit limits.
MAX_BLOCKS_PER_MESSAGE = 50
MAX_SECTION_CHARS = 3000
MAX_BUTTONS_PER_ACTIONS = 25
MAX_BUTTON_LABEL_CHARS = 75
MAX_ACTION_ID_CHARS = 255
MAX_FALLBACK_TEXT_CHARS = 3000

# Words users type instead of the dialog's /commands: Slack intercepts a message starting with "/".
TEXT_COMMANDS = ("new", "status", "cancel", "help")



# --- Block Kit rendering ---------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; everything else is literal in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    if not text:
        return []
    return [text[i : i + size] for i in range(0, len(text), size)]


def _section(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in _chunks(escape_mrkdwn(text), MAX_SECTION_CHARS)
    ]


def action_id_for(choice: Choice) -> str:
    return f"{ACTION_PREFIX}{choice.action}:{choice.value}"[:MAX_ACTION_ID_CHARS]


def _button(choice: Choice, action_id: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": choice.label[:MAX_BUTTON_LABEL_CHARS] or "·", "emoji": True},
        "action_id": action_id,
    }
    if choice.value:  # Slack rejects an empty value; absent means ""
        button["value"] = choice.value
    return button


def _actions(choices: tuple[Choice, ...], used_ids: set[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for start in range(0, len(choices), MAX_BUTTONS_PER_ACTIONS):
        elements = []
        for choice in choices[start : start + MAX_BUTTONS_PER_ACTIONS]:
            action_id = action_id_for(choice)
            while action_id in used_ids:  # Slack refuses a message with two equal action_ids
                action_id = f"{action_id[: MAX_ACTION_ID_CHARS - 2]}#{len(used_ids)}"
            used_ids.add(action_id)
            elements.append(_button(choice, action_id))
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def render_blocks(reply: Say | Preview | Progress) -> list[dict[str, Any]]:
    """The Block Kit blocks for one reply (may exceed 50 blocks; see `split_blocks`)."""
    used: set[str] = set()
    if isinstance(reply, Preview):
        blocks = _section(reply.text)
        for item in reply.items:
            blocks += _section(f"#{item.number}  {item.text}")
            if item.choices:
                blocks += _actions(item.choices, used)
        return blocks + _actions(reply.choices, used)
    return _section(reply.text) + _actions(reply.choices, used)


def split_blocks(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Messages of at most 50 blocks, never separating an example from its buttons."""
    messages: list[list[dict[str, Any]]] = [[]]
    for i, block in enumerate(blocks):
        current = messages[-1]
        starts_pair = block["type"] == "section" and i + 1 < len(blocks) and blocks[i + 1]["type"] == "actions"
        needed = 2 if starts_pair else 1
        if current and len(current) + needed > MAX_BLOCKS_PER_MESSAGE:
            messages.append([])
        messages[-1].append(block)
    return [m for m in messages if m]


def fallback_text(reply: Reply) -> str:
    """The notification text that goes with the blocks (the blocks carry the buttons)."""
    text = reply.text if isinstance(reply, (Say, Preview, Progress)) else reply_as_text(reply)
    # Escaped like the blocks: user text echoed here must not become <!channel> / <!here> / <@U...> pings.
    return escape_mrkdwn(text)[:MAX_FALLBACK_TEXT_CHARS] or "…"


# --- inbound text ----------------------------------------------------------------------------

_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_MENTION_RE = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_RE = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's encoded message text -> what the user typed: bot mention removed, links and
    channel names readable, `&amp;`/`&lt;`/`&gt;` decoded, bare command words -> /commands."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _LINK_RE.sub(lambda m: m.group(2) or m.group(1), text)
    text = _CHANNEL_RE.sub(lambda m: "#" + m.group(1), text)
    text = html.unescape(text).strip()
    word = text.lstrip("!/").strip().lower()
    if word in TEXT_COMMANDS and len(text) <= len(word) + 1:
        return "/" + word
    return text


def conversation_id(channel: str, thread_ts: str | None) -> str:
    """One conversation per DM (IM channel ids start with "D") or per thread elsewhere."""
    if channel.startswith("D") or not thread_ts:
        return channel
    return f"{channel}:{thread_ts}"


def split_conversation(conversation: str) -> tuple[str, str | None]:
    channel, _, thread_ts = conversation.partition(":")
    return channel, thread_ts or None


# --- outbound --------------------------------------------------------------------------------


class SlackOutput:
    """`OutputChannel` for Slack: renders core replies with the Web API client."""

    def __init__(self, client: AsyncWebClient, *, progress_min_interval: float = DEFAULT_INTERVAL) -> None:
        self.client = client
        # Slack allows about one message write per second per channel: edits follow the progress setting.
        self.progress = ProgressMessages(self._post_progress, self._update_progress, progress_min_interval)

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        channel, thread_ts = split_conversation(chat.conversation)
        try:
            if isinstance(reply, Progress):
                await self.progress.show(chat, reply)
            elif isinstance(reply, Document):
                await self._send_document(channel, thread_ts, reply)
            else:
                for blocks in split_blocks(render_blocks(reply)):
                    await self.post(channel, thread_ts, fallback_text(reply), blocks)
        except SlackApiError as exc:
            # A reply Slack refuses (channel archived, bot removed) must not kill the job behind it.
            log.error("Slack refused a %s for %s: %s", type(reply).__name__, chat.conversation, exc.response.get("error"))

    async def post(self, channel: str, thread_ts: str | None, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        response = await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)
        return str(response["ts"])

    async def _send_document(self, channel: str, thread_ts: str | None, document: Document) -> None:
        await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=document.data,
            filename=document.filename,
            title=document.filename,
            initial_comment=escape_mrkdwn(document.caption) or None,
        )

    async def _post_progress(self, chat: ChatRef, progress: Progress) -> str:
        channel, thread_ts = split_conversation(chat.conversation)
        return await self.post(channel, thread_ts, fallback_text(progress), render_blocks(progress))

    async def _update_progress(self, chat: ChatRef, ts: str, progress: Progress) -> str:
        channel, _ = split_conversation(chat.conversation)
        await self.client.chat_update(channel=channel, ts=ts, text=fallback_text(progress), blocks=render_blocks(progress))
        return ts

    async def aclose(self) -> None:
        self.progress.close()


# --- the app ---------------------------------------------------------------------------------


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL honoured, 429s retried after Retry-After."""
    kwargs: dict[str, Any] = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return AsyncWebClient(
        token=settings.slack_bot_token,
        retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
        **kwargs,
    )


class SlackBot:
    """The bolt app, the dialog behind it, and the background tasks between them."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        progress_min_interval: float | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        interval = settings.progress_interval if progress_min_interval is None else progress_min_interval
        self.output = SlackOutput(self.client, progress_min_interval=interval)
        # Slack keeps "/..." for slash commands; users type the bare words (see TEXT_COMMANDS).
        self.dialog = Dialog(channel="slack", output=self.output, settings=settings, command_prefix="",
                             open_store=Store.from_url)
        self.allowed_users = set(split_list(settings.slack_allowed_users))
        self.allowed_channels = set(split_list(settings.slack_allowed_channels))
        self.bot_user_id: str | None = None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            name="datagen",
            process_before_response=False,
        )
        self._threads: set[str] = set()  # channel threads the bot talks in (follow-ups need no mention)
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._register()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Checks the token (auth.test, one clear error if refused) and starts the dialog."""
        identity = await self.client.auth_test()
        self.bot_user_id = identity.get("user_id")
        await self.dialog.start()

    async def serve_http(self, host: str = "0.0.0.0", port: int | None = None) -> tuple[web.AppRunner, int]:
        """Serves /slack/events with aiohttp; returns the runner (call `.cleanup()`) and the bound port."""
        web_app = self.app.web_app(path=EVENTS_PATH, port=self.settings.port if port is None else port)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, self.settings.port if port is None else port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # port 0 -> the real one
        return runner, int(bound)

    async def connect_socket_mode(self, app_token: str) -> Any:
        """Opens the Socket Mode WebSocket (apps.connections.open on SLACK_API_URL); returns the
        handler (call `.close_async()`)."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, app_token)
        await handler.connect_async()
        return handler

    async def wait_idle(self) -> None:
        """Every handed-over event processed and the dialog's background jobs done (tests)."""
        while True:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.dialog.wait_idle()
            if not self._tasks:
                return

    async def aclose(self, grace: float = 5.0) -> None:
        """Stops: events already acknowledged get `grace` seconds to reach the dialog first."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.output.aclose()
        await self.dialog.aclose()
        if self._http is not None:
            await self._http.close()

    # --- plumbing -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def allowed(self, user: str | None, channel: str | None) -> bool:
        if self.allowed_users and user not in self.allowed_users:
            return False
        if self.allowed_channels and channel not in self.allowed_channels:
            return False
        return True

    def _first_time(self, event_id: str | None) -> bool:
        """Slack redelivers an event it thinks we missed; the dialog must see it once."""
        if not event_id:
            return True
        if event_id in self._seen_events:
            return False
        self._seen_events[event_id] = None
        while len(self._seen_events) > 2000:
            self._seen_events.popitem(last=False)
        return True

    async def _deliver(self, chat: ChatRef, events: list[Event]) -> None:
        # Bolt notices an ack within ~10 ms and only then writes the HTTP response; this head start
        # lets it go out before the dialog does work that may hold the event loop (first-use imports).
        await asyncio.sleep(ACK_HEADSTART)
        # One conversation's events reach the dialog in arrival order (asyncio locks are FIFO).
        async with self._locks.setdefault(chat.conversation, asyncio.Lock()):
            for event in events:
                try:
                    await self.dialog.handle(chat, event)
                except Exception:  # one bad event must not take the app down; the dialog answers errors itself
                    log.exception("dialog failed on %s in %s", type(event).__name__, chat.conversation)

    async def _refuse(self, channel: str, user: str) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=messages.text(None, "slack_refused"))
        except SlackApiError as exc:
            log.warning("could not tell %s they are refused: %s", user, exc.response.get("error"))

    async def _files(self, chat: ChatRef, files: list[dict[str, Any]]) -> list[Event]:
        events: list[Event] = []
        for file in files:
            name = str(file.get("name") or file.get("title") or "upload")
            limit = self.settings.max_upload_bytes  # Slack stores big files; our own setting is the limit here
            size = int(file.get("size") or 0)
            if size > limit:
                lang = await self.dialog.language_of(chat)
                await self.output.send(chat, Say(messages.text(
                    lang, "upload_limit_setting", filename=name, size=messages.human_size(size),
                    limit=messages.human_size(limit))))
                continue
            url = file.get("url_private_download") or file.get("url_private")
            data = await self._download(str(url)) if url else None
            if data is None:
                lang = await self.dialog.language_of(chat)
                await self.output.send(chat, Say(messages.text(lang, "upload_download_failed", filename=name)))
                continue
            events.append(FileUpload(name, data))
        return events

    async def _download(self, url: str) -> bytes | None:
        if not self._may_send_token(url):
            log.warning("refusing to send the bot token to %s", url)
            return None
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        try:
            async with self._http.get(url, headers={"Authorization": f"Bearer {self.client.token}"}) as response:
                if response.status != 200:
                    log.warning("download of %s: HTTP %s", url, response.status)
                    return None
                data = await response.content.read(self.settings.max_upload_bytes + 1)
                return data if len(data) <= self.settings.max_upload_bytes else None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("download of %s failed: %s", url, exc)
            return None

    def _may_send_token(self, url: str) -> bool:
        """The bot token goes only to Slack's own hosts (or SLACK_API_URL's host)."""
        host = urlparse(url).hostname or ""
        if host == "slack.com" or host.endswith((".slack.com", ".slack-gov.com")):
            return True
        api_host = urlparse(self.client.base_url).hostname
        return bool(api_host) and host == api_host

    # --- listeners ------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command(SLASH_COMMAND)(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._on_action)

    async def _on_command(
        self, ack: Callable[..., Awaitable[None]], respond: Callable[..., Awaitable[Any]], command: dict[str, Any]
    ) -> None:
        user, channel = command.get("user_id", ""), command.get("channel_id", "")
        if not self.allowed(user, channel):
            # A command's ack text is shown only to its sender.
            await ack(text=messages.text(detect_language(command.get("text", "")), "slack_refused"))
            return
        await ack()
        self._spawn(self._start_from_command(user, channel, plain_text(command.get("text", "")), respond))

    async def _start_from_command(
        self, user: str, channel: str, text: str, respond: Callable[..., Awaitable[Any]]
    ) -> None:
        if channel.startswith("D"):  # the app's DM is one conversation: /dataset starts a new order in it
            await self._deliver(ChatRef(conversation=channel, user=user), [Message(f"/new {text}".strip())])
            return
        event = Message(text or "/start")  # a new thread: the order itself, or the welcome
        lang = detect_language(text)  # the thread's first line, in the language the order is written in
        root = (messages.text(lang, "slack_thread_root", user=f"<@{user}>", order=escape_mrkdwn(text)) if text
                else messages.text(lang, "slack_thread_root_empty", user=f"<@{user}>"))
        try:
            root_ts = await self.output.post(channel, None, root)
        except SlackApiError as exc:
            log.warning("/dataset in %s: %s", channel, exc.response.get("error"))
            try:  # the command's response_url works where the bot may not post; shown only to the user
                await respond(text=messages.text(lang, "slack_not_in_channel"), response_type="ephemeral")
            except Exception as respond_error:  # nothing more we can tell them
                log.warning("could not answer /dataset in %s: %s", channel, respond_error)
            return
        chat = ChatRef(conversation=conversation_id(channel, root_ts), user=user)
        self._threads.add(chat.conversation)
        await self._deliver(chat, [event])

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if not self._first_time(body.get("event_id")):
            return
        user, channel = event.get("user", ""), event.get("channel", "")
        if not user:
            return
        if not self.allowed(user, channel):
            self._spawn(self._refuse(channel, user))
            return
        chat = ChatRef(conversation=conversation_id(channel, event.get("thread_ts") or event.get("ts")), user=user)
        self._threads.add(chat.conversation)
        self._spawn(self._translate(chat, event))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("subtype") not in (None, "file_share", "thread_broadcast") or event.get("bot_id"):
            return  # edits, deletions, joins, other bots
        user, channel = event.get("user", ""), event.get("channel", "")
        if not user or not self._first_time(body.get("event_id")):
            return
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        chat = ChatRef(conversation=conversation_id(channel, None if is_dm else event.get("thread_ts")), user=user)
        if not is_dm:
            mentioned = bool(self.bot_user_id) and f"<@{self.bot_user_id}" in event.get("text", "")
            if mentioned or not event.get("thread_ts"):
                return  # app_mention delivers it, or a channel message not addressed to us
            # Ours: a thread we talk in, or (after a restart) one under our own /dataset root message.
            ours = chat.conversation in self._threads or (
                bool(self.bot_user_id) and event.get("parent_user_id") == self.bot_user_id
            )
            if not ours:
                # Maybe a thread we talked in before a restart (e.g. one a mention started): the
                # database knows. Looked up off the ack path; unknown threads are not for us.
                self._spawn(self._translate_if_ours(chat, event))
                return
        if not self.allowed(user, channel):
            self._spawn(self._refuse(channel, user))
            return
        self._spawn(self._translate(chat, event))

    async def _translate_if_ours(self, chat: ChatRef, event: dict[str, Any]) -> None:
        if not await self.dialog.has_conversation(chat.conversation):
            return
        self._threads.add(chat.conversation)
        if not self.allowed(chat.user, event.get("channel")):
            await self._refuse(event.get("channel", ""), chat.user)
            return
        await self._translate(chat, event)

    async def _translate(self, chat: ChatRef, event: dict[str, Any]) -> None:
        files = event.get("files") or []
        events: list[Event] = await self._files(chat, files)
        text = plain_text(event.get("text", ""), self.bot_user_id)
        if text or not files:  # a bare mention still gets an answer; a failed file already got one
            events.append(Message(text))
        if events:
            await self._deliver(chat, events)

    async def _on_action(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", "")
        message = body.get("message") or {}
        if not self.allowed(user, channel):
            self._spawn(self._refuse(channel, user))
            return
        chat = ChatRef(conversation=conversation_id(channel, message.get("thread_ts") or message.get("ts")), user=user)
        presses: list[Event] = []
        for action in body.get("actions") or []:
            action_name = str(action.get("action_id", ""))[len(ACTION_PREFIX) :].split(":", 1)[0]
            presses.append(ButtonPress(action_name, str(action.get("value", ""))))
        if presses:
            self._spawn(self._deliver(chat, presses))


def build_app(settings: Settings, *, client: AsyncWebClient | None = None, progress_min_interval: float | None = None) -> SlackBot:
    """The Slack bot for these settings; `.app` is the bolt AsyncApp, `.serve_http()` serves it."""
    return SlackBot(settings, client=client, progress_min_interval=progress_min_interval)


# --- `datagen slack` -------------------------------------------------------------------------


def run_slack(settings: Settings) -> int:
    """Runs until SIGINT/SIGTERM. Exit codes: 0 stopped, 1 Slack refused us, 2 bad configuration."""
    if not settings.slack_bot_token:
        print("error: set SLACK_BOT_TOKEN (the app's xoxb- Bot User OAuth Token).", file=sys.stderr)
        return 2
    if not settings.slack_app_token and not settings.slack_signing_secret:
        print(
            "error: HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > Signing Secret); "
            "or set SLACK_APP_TOKEN (xapp-) for Socket Mode.",
            file=sys.stderr,
        )
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_serve(settings))
    except KeyboardInterrupt:
        return 0


async def _serve(settings: Settings) -> int:
    bot = build_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on this platform / thread
            pass
    try:
        try:
            await bot.start()
        except SlackApiError as exc:
            print(f"error: Slack refused SLACK_BOT_TOKEN: {exc.response.get('error')}", file=sys.stderr)
            return 1
        except aiohttp.ClientError as exc:
            print(f"error: cannot reach the Slack API at {bot.client.base_url}: {exc}", file=sys.stderr)
            return 1
        if settings.slack_app_token:
            try:
                handler = await bot.connect_socket_mode(settings.slack_app_token)
            except SlackApiError as exc:
                print(f"error: Slack refused SLACK_APP_TOKEN: {exc.response.get('error')}", file=sys.stderr)
                return 1
            log.info("connected to Slack in Socket Mode")
            try:
                await stop.wait()
            finally:
                await handler.close_async()
        else:
            runner, port = await bot.serve_http(port=settings.port)
            log.info("listening for Slack on http://0.0.0.0:%d%s", port, EVENTS_PATH)
            try:
                await stop.wait()
            finally:
                await runner.cleanup()
        return 0
    finally:
        await bot.aclose()
