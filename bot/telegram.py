"""The Telegram channel (python-telegram-bot v22): updates in -> core events, replies out -> Bot API calls.

An adapter only: what to ask, generate or store is decided by `core.dialog.Dialog`; this file maps
messages, commands, button presses and uploaded documents to `Message` / `ButtonPress` /
`FileUpload`, and renders `Say` / `Preview` / `Progress` / `Document` natively (inline keyboards,
one progress message edited in place, files sent from memory).

Everything that must survive a restart (conversation state, drafts, jobs) lives in the core's
storage; the little kept here in memory (which message shows a job's progress) is cosmetic and
simply starts afresh after a restart.

    bot = build_application(settings)           # tests pass dialog_factory= and a short edit interval
    await bot.start()                           # long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set
    ...
    await bot.stop()
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import signal
import sys
from collections import Counter, OrderedDict
from pathlib import PurePosixPath
from typing import Awaitable, Callable, Protocol
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
    User,
)
from telegram import Message as TelegramMessage
from telegram.constants import FileSizeLimit, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.progress import ProgressMessages
from core import messages
from core.events import (
    ButtonPress,
    ChatRef,
    Choice,
    Document,
    Event,
    FileUpload,
    Message,
    OutputChannel,
    Preview,
    Progress,
    Reply,
    Say,
)
from core.progress import DEFAULT_INTERVAL
from core.settings import Settings, split_list

log = logging.getLogger(__name__)

# (.txt, .xlsx: rows to label; .pdf ... .htm: documents to make test questions from)
UPLOAD_SUFFIXES = (".csv", ".json", ".jsonl", ".tsv", ".txt", ".xlsx", ".pdf", ".docx", ".md", ".markdown", ".html",
                   ".htm")
# Telegram clients report CSV/JSON with assorted MIME types; map them to the suffix the core reads.
UPLOAD_MIME_SUFFIX = {
    "text/csv": ".csv",
    "text/comma-separated-values": ".csv",
    "application/csv": ".csv",
    "application/vnd.ms-excel": ".csv",  # what Windows reports for .csv files
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/x-jsonlines": ".jsonl",
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/html": ".html",
}
CALLBACK_ALIAS_PREFIX = "~"
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

# The command menu, per language (its descriptions are in core.messages like every text).
MENU_COMMANDS = ("new", "status", "cancel", "help")


class DialogLike(Protocol):
    """What the adapter needs of `core.dialog.Dialog` (a Protocol so tests can hand in the real one)."""

    async def start(self) -> None: ...
    async def handle(self, chat: ChatRef, event: Event) -> None: ...
    async def aclose(self) -> None: ...


DialogFactory = Callable[[OutputChannel], DialogLike]


def user_language(user: User | None) -> str:
    """The user's Telegram client language, as one of the languages the bot speaks."""
    code = (user.language_code or "") if user else ""
    return messages.normalise_language(code.split("-")[0].lower() or None)


def local_mode(settings: Settings) -> bool:
    """A self-hosted Bot API server started with --local: bots may download and send big files."""
    if settings.telegram_local_mode is not None:
        return settings.telegram_local_mode
    return bool(settings.telegram_api_base_url)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into messages Telegram accepts, preferring line breaks."""
    text = text if text.strip() else "…"  # Telegram refuses empty messages
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return chunks


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_callback_data(data: str) -> ButtonPress:
    action, _, value = data.partition(":")
    return ButtonPress(action, value)


class CallbackCodec:
    """`Choice` <-> callback_data ("action:value", at most 64 bytes).

    The core keeps both short; should one still be too long, the button carries a hash alias
    remembered in memory, and after a restart (alias forgotten) the press falls back to the
    button's label as typed text, which the dialog accepts for every choice.
    """

    def __init__(self, max_aliases: int = 10_000) -> None:
        self._aliases: OrderedDict[str, ButtonPress] = OrderedDict()
        self._max_aliases = max_aliases

    def encode(self, choice: Choice) -> str:
        data = f"{choice.action}:{choice.value}"
        if len(data.encode("utf-8")) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
            return data
        alias = CALLBACK_ALIAS_PREFIX + hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]
        log.warning("callback data over 64 bytes (%r); using alias %s", data[:80], alias)
        self._aliases[alias] = ButtonPress(choice.action, choice.value)
        self._aliases.move_to_end(alias)
        while len(self._aliases) > self._max_aliases:
            self._aliases.popitem(last=False)
        return alias

    def decode(self, data: str) -> ButtonPress | None:
        """The press, or None for an alias this process no longer knows."""
        if data.startswith(CALLBACK_ALIAS_PREFIX):
            return self._aliases.get(data)
        return parse_callback_data(data)

    def keyboard(self, choices: tuple[Choice, ...] | list[Choice]) -> InlineKeyboardMarkup | None:
        if not choices:
            return None
        buttons = [InlineKeyboardButton(trim(c.label, 64) or "·", callback_data=self.encode(c)) for c in choices]
        # Short labels (👍/👎, formats) share a row; long ones get a row each so they stay readable.
        rows: list[list[InlineKeyboardButton]] = []
        row: list[InlineKeyboardButton] = []
        width = 0
        for button in buttons:
            if row and (len(row) >= 3 or width + len(button.text) > 32):
                rows.append(row)
                row, width = [], 0
            row.append(button)
            width += len(button.text)
        rows.append(row)
        return InlineKeyboardMarkup(rows)


class TelegramOutput:
    """The `OutputChannel` that renders the dialog's replies with Bot API calls.

    Sending never raises into the core: a blocked bot or a network failure must not kill a
    generation job; failures are logged (the dataset stays in storage).
    """

    def __init__(self, bot: ExtBot, *, progress_edit_interval: float = DEFAULT_INTERVAL, max_document_bytes: int = FileSizeLimit.FILESIZE_UPLOAD) -> None:
        self.bot = bot
        self.max_document_bytes = max_document_bytes
        self.codec = CallbackCodec()
        self.progress = ProgressMessages(self._post_progress, self._edit_progress, progress_edit_interval)
        # The chat's language for the few texts this adapter says itself (set to the dialog's lookup).
        self.language_of: Callable[[ChatRef], Awaitable[str]] | None = None

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        chat_id = int(chat.conversation)
        try:
            if isinstance(reply, Say):
                await self._send_text(chat_id, reply.text, reply.choices)
            elif isinstance(reply, Preview):
                await self._send_preview(chat_id, reply)
            elif isinstance(reply, Progress):
                await self.progress.show(chat, reply)
            elif isinstance(reply, Document):
                await self._send_document(chat_id, reply)
            else:
                log.error("unknown reply type %r", reply)
        except TelegramError as exc:
            log.warning("telegram: could not deliver %s to chat %s: %s", type(reply).__name__, chat_id, exc)

    async def _send_text(self, chat_id: int, text: str, choices: tuple[Choice, ...] = ()) -> TelegramMessage:
        chunks = split_text(text)
        for chunk in chunks[:-1]:
            await self.bot.send_message(chat_id, chunk)
        return await self.bot.send_message(chat_id, chunks[-1], reply_markup=self.codec.keyboard(choices))

    async def _send_preview(self, chat_id: int, preview: Preview) -> None:
        # Each example is its own message so its 👍/👎 sit right under it; the intro (which
        # explains rating and what comes next) closes the list, next to the buttons it names.
        for item in preview.items:
            await self._send_text(chat_id, f"#{item.number} {item.text}", item.choices)
        await self._send_text(chat_id, preview.text, preview.choices)

    async def _send_document(self, chat_id: int, document: Document) -> None:
        if len(document.data) > self.max_document_bytes:
            # Telegram would refuse the upload (413); say why instead of failing silently.
            log.error("telegram: %s is %d bytes, over the %d-byte limit", document.filename, len(document.data), self.max_document_bytes)
            lang = await self.language_of(ChatRef(str(chat_id), "")) if self.language_of else None
            await self._send_text(chat_id, messages.text(
                lang, "telegram_document_too_big", filename=document.filename,
                size=messages.human_size(len(document.data)), limit=messages.human_size(self.max_document_bytes),
            ))
            return
        if document.mime_type.startswith("image/"):  # the chart: shown in the chat, not as a file to open
            await self.bot.send_photo(chat_id, InputFile(document.data, filename=document.filename),
                                      caption=trim(document.caption, MessageLimit.CAPTION_LENGTH) or None)
            return
        await self.bot.send_document(
            chat_id,
            InputFile(document.data, filename=document.filename),
            caption=trim(document.caption, MessageLimit.CAPTION_LENGTH) or None,
        )

    async def _post_progress(self, chat: ChatRef, progress: Progress) -> int:
        return (await self._send_text(int(chat.conversation), progress.text, progress.choices)).message_id

    async def _edit_progress(self, chat: ChatRef, message_id: int, progress: Progress) -> int:
        chat_id = int(chat.conversation)
        try:
            await self.bot.edit_message_text(
                trim(progress.text, MessageLimit.MAX_TEXT_LENGTH), chat_id, message_id,
                reply_markup=self.codec.keyboard(progress.choices),
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return message_id
            # The message is gone or too old to edit: show the progress in a new one.
            log.info("telegram: progress message %s not editable (%s); sending a new one", message_id, exc)
            return await self._post_progress(chat, progress)
        return message_id

    async def aclose(self) -> None:
        self.progress.close()


def _default_dialog_factory(settings: Settings) -> DialogFactory:
    def make(output: OutputChannel) -> DialogLike:
        from core.dialog import Dialog  # lazily: `datagen --help` must not load the whole core
        from storage.store import Store

        return Dialog(channel="telegram", output=output, settings=settings, open_store=Store.from_url)

    return make


class TelegramBot:
    """A built bot: the PTB `Application`, our output channel and the dialog, started and stopped together."""

    def __init__(self, settings: Settings, application: Application, output: TelegramOutput, dialog: DialogLike) -> None:
        self.settings = settings
        self.application = application
        self.output = output
        self.dialog = dialog
        self.allowed = {entry.lstrip("@").lower() for entry in split_list(settings.telegram_allowed_users)}
        self.refused: Counter[int] = Counter()  # refused updates per user id: all we keep of them
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        self._dialog_started = False
        self._add_handlers()

    # --- access control --------------------------------------------------------------------

    def is_allowed(self, user: User | None) -> bool:
        if not self.allowed:
            return True
        if user is None:
            return False
        return str(user.id) in self.allowed or (user.username or "").lower() in self.allowed

    async def _gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if self.is_allowed(user):
            return
        user_id = user.id if user else 0
        self.refused[user_id] += 1
        log.info("telegram: refused update from user %s (%d so far)", user_id, self.refused[user_id])
        if update.callback_query:
            await self._answer(update.callback_query)
        chat = update.effective_chat
        if self.refused[user_id] == 1 and chat is not None:
            text = messages.text(user_language(user), "telegram_not_allowed", user_id=user_id)
            try:
                await context.bot.send_message(chat.id, text)
            except TelegramError as exc:
                log.warning("telegram: could not tell user %s they are not allowed: %s", user_id, exc)
        raise ApplicationHandlerStop

    # --- updates -> events -----------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        new_messages = filters.UpdateType.MESSAGE  # edits of old messages are not new input
        app.add_handler(MessageHandler(new_messages & filters.TEXT, self._on_text))
        app.add_handler(MessageHandler(new_messages & filters.Document.ALL, self._on_document))
        app.add_handler(MessageHandler(new_messages & filters.CAPTION, self._on_caption))
        app.add_handler(MessageHandler(new_messages & ~filters.StatusUpdate.ALL, self._on_other))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_error_handler(self._on_error)

    @staticmethod
    def chat_ref(update: Update) -> ChatRef:
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None  # the handlers above only see updates that have a chat
        user_name = (user.username or user.full_name) if user else ""
        return ChatRef(conversation=str(chat.id), user=str(user.id) if user else "", user_name=user_name)

    async def _dispatch(self, update: Update, event: Event) -> None:
        chat = self.chat_ref(update)
        try:
            await self.dialog.handle(chat, event)
        except Exception:
            log.exception("dialog failed on %r", event)
            await self.output.send(chat, Say(messages.text(user_language(update.effective_user), "internal_error")))

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_message.text is not None
        await self._dispatch(update, Message(update.effective_message.text))  # commands too: the dialog reads them

    async def _on_caption(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # A photo or voice note with a caption: the caption is what the user said.
        assert update.effective_message
        await self._dispatch(update, Message(update.effective_message.caption or ""))

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Stickers, photos, voice...: the dialog answers an empty message with what it expects.
        await self._dispatch(update, Message(""))

    async def _on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        document = message.document
        filename = document.file_name or "upload"
        suffix = PurePosixPath(filename).suffix.lower()
        kind = suffix if suffix in UPLOAD_SUFFIXES else UPLOAD_MIME_SUFFIX.get((document.mime_type or "").lower())
        lang = user_language(update.effective_user)
        chat = self.chat_ref(update)
        if kind is None:
            # Refused before downloading: no reason to fetch a PDF or a photo we can't read.
            await self.output.send(chat, Say(messages.text(lang, "upload_unsupported", filename=filename)))
            return
        limit = self.upload_limit
        size = document.file_size or 0
        if size > limit:
            await self._too_big(chat, lang, filename, size, limit)
            return
        try:
            telegram_file = await document.get_file()
            data = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("telegram: downloading %s failed: %s", filename, exc)
            await self.output.send(chat, Say(messages.text(lang, "upload_unreadable", filename=filename, error=exc.message)))
            return
        if len(data) > limit:  # file_size is optional in the Bot API: check what actually arrived
            await self._too_big(chat, lang, filename, len(data), limit)
            return
        await self._dispatch(update, FileUpload(filename if suffix == kind else filename + kind, data))

    @property
    def upload_limit(self) -> int:
        """Our own limit, and Telegram's getFile limit (20 MB) unless a self-hosted Bot API server is used."""
        if local_mode(self.settings):
            return self.settings.max_upload_bytes
        return min(self.settings.max_upload_bytes, FileSizeLimit.FILESIZE_DOWNLOAD)

    async def _too_big(self, chat: ChatRef, lang: str, filename: str, size: int, limit: int) -> None:
        """Why, in the user's language: Telegram's own 20 MB download limit for bots, or our setting."""
        telegrams = not local_mode(self.settings) and size > FileSizeLimit.FILESIZE_DOWNLOAD
        text = messages.text(lang, "telegram_download_limit" if telegrams else "upload_limit_setting", filename=filename,
                             size=messages.human_size(size), limit=messages.human_size(limit))
        await self.output.send(chat, Say(text))

    @staticmethod
    async def _answer(query: CallbackQuery) -> None:
        try:
            await query.answer()  # stops the client's spinner; required for every press
        except TelegramError as exc:
            log.info("telegram: answerCallbackQuery failed: %s", exc)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await self._answer(query)
        if update.effective_chat is None:
            return
        event: Event | None = self.output.codec.decode(query.data or "")
        if event is None:
            label = self._button_label(query)
            if not label:
                return
            event = Message(label)  # the typed equivalent of the forgotten button
        await self._dispatch(update, event)

    @staticmethod
    def _button_label(query: CallbackQuery) -> str:
        message = query.message
        markup = getattr(message, "reply_markup", None)
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                if button.callback_data == query.data:
                    return button.text
        return ""

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: error while handling an update", exc_info=context.error)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def webhook_url(self) -> str | None:
        return self.settings.telegram_webhook_url or None

    async def start(
        self,
        *,
        poll_timeout: float = 10.0,
        webhook_listen: str = "0.0.0.0",
        webhook_port: int | None = None,
    ) -> None:
        """Connect (getMe), start the dialog (it resumes interrupted jobs), then receive updates:
        long polling, or a webhook server when TELEGRAM_WEBHOOK_URL is set."""
        await self.application.initialize()
        await self.dialog.start()
        self._dialog_started = True
        await self._set_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.webhook_url:
            url_path = urlsplit(self.webhook_url).path.lstrip("/")
            await updater.start_webhook(
                listen=webhook_listen,
                port=webhook_port if webhook_port is not None else self.settings.port,
                url_path=url_path,
                webhook_url=self.webhook_url,
                allowed_updates=ALLOWED_UPDATES,
                secret_token=self.webhook_secret,
            )
            log.info("telegram: webhook %s (listening on %s:%s/%s)", self.webhook_url, webhook_listen, webhook_port or self.settings.port, url_path)
        else:
            await updater.start_polling(
                poll_interval=0.0,
                timeout=int(poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=lambda exc: log.warning("telegram: polling error: %s", exc),
            )
            log.info("telegram: long polling as @%s", self.application.bot.username)

    async def _set_commands(self) -> None:
        try:
            for lang in messages.SUPPORTED_LANGUAGES:
                await self.application.bot.set_my_commands(
                    [BotCommand(name, messages.text(lang, f"telegram_menu_{name}")) for name in MENU_COMMANDS],
                    language_code=None if lang == "en" else lang,
                )
        except TelegramError as exc:  # the command menu is a convenience; never a reason not to start
            log.warning("telegram: setMyCommands failed: %s", exc)

    async def stop(self) -> None:
        """Stop receiving, let in-flight updates finish, close the dialog (jobs stay resumable), disconnect."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if self._dialog_started:
            self._dialog_started = False
            await self.dialog.aclose()
        await self.output.aclose()
        await self.application.shutdown()


def api_urls(base: str) -> tuple[str, str]:
    """TELEGRAM_API_BASE_URL (the server's root) -> PTB's base_url and base_file_url."""
    root = base.rstrip("/")
    root = root[: -len("/bot")] if root.endswith("/bot") else root
    return f"{root}/bot", f"{root}/file/bot"


def make_application(settings: Settings, *, flood_retries: int = 3) -> Application:
    """The PTB application alone (no handlers): token, API server, AIORateLimiter for Telegram's
    flood limits, which also waits out `RetryAfter` up to `flood_retries` times."""
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .rate_limiter(AIORateLimiter(max_retries=flood_retries))
        # Updates run concurrently so one user's slow LLM call doesn't hold up everyone else; the
        # dialog serialises each conversation itself (a FIFO lock per chat), keeping its order.
        .concurrent_updates(True)
    )
    if settings.telegram_api_base_url:
        base_url, base_file_url = api_urls(settings.telegram_api_base_url)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    return builder.build()


def build_application(
    settings: Settings,
    dialog_factory: DialogFactory | None = None,
    *,
    progress_edit_interval: float | None = None,
    flood_retries: int = 3,
) -> TelegramBot:
    """Build the bot without starting it (no network): application, handlers, output channel, dialog."""
    application = make_application(settings, flood_retries=flood_retries)
    # A self-hosted Bot API server (--local) accepts uploads up to 2000 MB, Telegram's own 50 MB.
    max_document_bytes = FileSizeLimit.FILESIZE_UPLOAD_LOCAL_MODE if local_mode(settings) else FileSizeLimit.FILESIZE_UPLOAD
    interval = settings.progress_interval if progress_edit_interval is None else progress_edit_interval
    output = TelegramOutput(application.bot, progress_edit_interval=interval, max_document_bytes=max_document_bytes)
    dialog = (dialog_factory or _default_dialog_factory(settings))(output)
    output.language_of = getattr(dialog, "language_of", None)
    return TelegramBot(settings, application, output, dialog)


def check_settings(settings: Settings) -> str | None:
    """A one-line problem with the Telegram settings, or None."""
    if not settings.telegram_bot_token:
        return "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token."
    if settings.telegram_webhook_url:
        if not settings.telegram_webhook_url.startswith("https://"):
            return "TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram only calls HTTPS webhooks)."
        secret = settings.telegram_webhook_secret
        if secret is not None and not WEBHOOK_SECRET_RE.match(secret):
            return "TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (1 to 256 characters)."
    return None


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM (or `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    bot = build_application(settings)
    try:
        await bot.start()
        await stop.wait()
    finally:
        await bot.stop()


def run_telegram(settings: Settings) -> int:
    """`datagen telegram`: the exit code (0 after a clean stop, 2 for bad configuration)."""
    problem = check_settings(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll otherwise
    try:
        asyncio.run(serve(settings))
    except InvalidToken:
        print("error: Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
