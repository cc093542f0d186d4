"""The Telegram adapter: python-telegram-bot updates in, neutral turns through the service, messages out.

Private chats only: every message, command and button press becomes an :class:`~bot.types.Inbound` for
:class:`~bot.service.Service` (which locks the conversation, drops re-delivered updates by ``update_id``,
and saves state before we reply). Media is never downloaded: the handlers are chosen by filters that
only look at which kind of attachment a message has, the message is deleted, and the assistant answers
with its imagery warning. In groups and channels the bot runs no conversation at all: a command or a
mention gets one fixed sentence with a link to a private chat.

Delivery: each reply message of an update is numbered, and the numbers already sent are remembered per
update (in memory, bounded), so nothing is sent twice for one update. A ``sendMessage`` that may have
reached Telegram (a read timeout) is not repeated. One that still fails after the in-turn retries goes to
the :class:`~adapters.outbox.Outbox`, which retries it later in the background; while a chat has
replies waiting there, its new replies queue behind them.

Nothing here logs message text, raw user or chat ids, or the token: only event names and hashed keys.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeAlias, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import CallbackQueryLimit
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.ext import Defaults as TelegramDefaults
from telegram.request import BaseRequest, HTTPXRequest

from adapters.outbox import Outbox, Outcome, Pending
from adapters.telegram import links
from adapters.telegram.intake import ScreenedBot, scrub_library_logs
from adapters.telegram.ordering import PerChatUpdateProcessor
from adapters.telegram.profile import Profile, sync_profile
from adapters.telegram.render import Piece, render
from adapters.telegram.retry import (
    SEND_TIMEOUTS,
    RetryPolicy,
    Timeouts,
    maybe_delivered,
    retry_after_seconds,
    with_retry,
)
from bot import render as neutral
from bot.assistant import Defaults
from bot.logs import log, log_error
from bot.service import Handled, Service
from bot.types import ConversationRef, Inbound, Outbound

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
TelegramApp: TypeAlias = Application[
    ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]
Callback: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]

T = TypeVar("T")

PLATFORM = "telegram"
#: What we ask Telegram to send us (nothing else is handled).
ALLOWED_UPDATES = ("message", "callback_query", "channel_post")
#: The deep-link payload of the link offered in groups (``/start private`` is a plain start).
GROUP_DEEP_LINK = "private"
#: On quick exit, also delete this many message ids before the /exit message, so that a restart (which
#: empties the in-memory list) still clears the recent conversation. Telegram skips ids it can't delete.
QUICK_EXIT_SWEEP = 100
_DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
MAX_URGENT_SCAN = 4096  # a Telegram message is at most 4,096 characters
_NOT_MODIFIED = "message is not modified"  # Telegram's answer to an edit that would change nothing
MAX_TOAST = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)  # 200

# Media kinds by filter, checked in order (an animation also carries a document). The filters only test
# which attachment field is present; no file object is ever touched and nothing is ever downloaded.
MEDIA_FILTERS: tuple[tuple[str, filters.BaseFilter], ...] = (
    ("photo", filters.PHOTO),
    ("animation", filters.ANIMATION),
    ("video", filters.VIDEO),
    ("video_note", filters.VIDEO_NOTE),
    ("voice", filters.VOICE),
    ("audio", filters.AUDIO),
    ("sticker", filters.Sticker.ALL),
    ("document", filters.Document.ALL),
    ("story", filters.STORY),
    ("paid_media", filters.PAID_MEDIA),
)
#: What every send and edit uses unless it says otherwise: plain text (no parse mode, so no wording ever
#: needs escaping; a title is bold by a message entity) and no link previews (a preview card of a help
#: page pushes the advice and the buttons off a phone's screen).
BOT_DEFAULTS = TelegramDefaults(parse_mode=None, link_preview_options=LinkPreviewOptions(is_disabled=True))


class RecentMessages:
    """Recent message ids per conversation, for quick exit: ids only, never text, and bounded.

    Keyed by the hashed conversation key; at most ``per_chat`` ids for each of at most ``chats``
    conversations (the least recently active are dropped first). Lost on restart, by design.
    """

    def __init__(self, chats: int = 10_000, per_chat: int = 200):
        self.chats = chats
        self.per_chat = per_chat
        self._ids: OrderedDict[str, deque[int]] = OrderedDict()

    def add(self, key: str, *message_ids: int) -> None:
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = deque(maxlen=self.per_chat)
            while len(self._ids) > self.chats:
                self._ids.popitem(last=False)
        else:
            self._ids.move_to_end(key)
        ids.extend(message_ids)

    def pop(self, key: str) -> list[int]:
        return list(self._ids.pop(key, ()))

    def get(self, key: str) -> list[int]:
        return list(self._ids.get(key, ()))

    def __len__(self) -> int:
        return len(self._ids)


class _SeenUpdates:
    """A small LRU of update ids, for replies that do not go through the service (group refusals)."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class SentLedger:
    """Which reply messages of each update were sent (or may have been): update id → their numbers.

    Bounded (the least recent updates are forgotten first); in memory, ids and counters only.
    """

    def __init__(self, size: int = 10_000):
        self.size = size
        self._sent: OrderedDict[int, set[int]] = OrderedDict()
        self._claimed: OrderedDict[int, None] = OrderedDict()

    def claim(self, update_id: int) -> bool:
        """``True`` the first time an update's turn is taken; ``False`` for a redelivery of it."""
        if update_id in self._claimed:
            return False
        self._claimed[update_id] = None
        while len(self._claimed) > self.size:
            self._claimed.popitem(last=False)
        return True

    def done(self, update_id: int, n: int) -> bool:
        return n in self._sent.get(update_id, ())

    def mark(self, update_id: int, n: int) -> None:
        sent = self._sent.get(update_id)
        if sent is None:
            sent = self._sent[update_id] = set()
            while len(self._sent) > self.size:
                self._sent.popitem(last=False)
        sent.add(n)


@dataclass(frozen=True)
class _Message:
    """One reply message of one update, numbered ``n`` within that update's replies."""

    bot: Bot
    chat_id: int
    piece: Piece
    update_id: int
    n: int
    key: str | None  # the hashed conversation key, to remember the sent id for quick exit


@dataclass
class TelegramAdapter:
    """Handlers for one bot. ``install`` adds them to an Application; ``post_init`` sets the commands."""

    service: Service
    defaults: Defaults = field(default_factory=Defaults)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    recent: RecentMessages = field(default_factory=RecentMessages)
    outbox: Outbox = field(default_factory=Outbox)
    ledger: SentLedger = field(default_factory=SentLedger)
    #: Per-call client timeouts for sends and edits (PTB's 5 s default doubled slow sends).
    timeouts: Timeouts = SEND_TIMEOUTS
    _seen: _SeenUpdates = field(default_factory=_SeenUpdates)

    def __post_init__(self) -> None:
        if self.outbox.sender is None:
            self.outbox.sender = self._send_queued
        if not self.outbox.platform:
            self.outbox.platform = PLATFORM  # its log events: telegram_outbox_queued...

    def text(self, key: str, **values: str) -> str:
        return self.service.assistant.content.text(key, **values)

    # ------------------------------------------------------------------------------------- wiring

    def install(self, app: TelegramApp) -> None:
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        public = (filters.ChatType.GROUPS & filters.UpdateType.MESSAGE) | filters.UpdateType.CHANNEL_POST
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(public, self.on_public))
        app.add_handler(MessageHandler(private & filters.COMMAND, self.on_command))
        for kind, media_filter in MEDIA_FILTERS:
            app.add_handler(MessageHandler(private & media_filter, self._media_handler(kind)))
        app.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(private, self.on_other))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: TelegramApp) -> None:
        """Start the outbox; bring the profile (descriptions, scoped "/" menus) up to date where it differs
        (a failure is logged, not fatal: typed commands work)."""
        await self.outbox.start()
        # The "/" menus: the commands content/commands.yaml lists for Telegram, in its order (scoped).
        assistant = self.service.assistant
        await sync_profile(app.bot, Profile.from_content(assistant.content, assistant.commands), self._call)

    def urgent(self, update: object) -> bool:
        """Whether an update carries words of danger (it then passes a full chat backlog)."""
        message = update.effective_message if isinstance(update, Update) else None
        text = (message.text or message.caption or "") if isinstance(message, Message) else ""
        return bool(text) and self.service.assistant.crisis.is_crisis(text[:MAX_URGENT_SCAN])

    async def post_stop(self, app: TelegramApp) -> None:
        """Stop the outbox (what is still waiting is logged as a count)."""
        await self.outbox.stop()

    # ----------------------------------------------------------------------------------- handlers

    async def on_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        head, _, rest = (message.text or "").partition(" ")
        if "\n" in head:  # "/start\nkent": Telegram also separates arguments with a line break
            head, _, more = head.partition("\n")
            rest = f"{more} {rest}"
        name, arg = head.lstrip("/").partition("@")[0].lower(), rest.strip()
        link = links.parse(arg, self.service.assistant.content.areas) if name == "start" else None
        if link is None:
            await self._message_turn(update, context, Inbound("command", command=name, arg=arg))
            return
        # A deep link (?start=parent_kent): start afresh as that person, in that place.
        log("telegram_deep_link", who=link.who, area=link.area)
        defaults = replace(self.defaults, who=link.who, area=link.area or self.defaults.area)
        await self._message_turn(update, context, Inbound("command", command="start"), defaults=defaults)

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        text = message.text if message is not None and message.text else ""
        await self._message_turn(update, context, Inbound("text", text=text))

    async def on_other(self, update: Update, context: Context) -> None:
        """Locations, contacts, polls and the like: treated as something the bot didn't catch."""
        await self._message_turn(update, context, Inbound("text", text=""))

    def _media_handler(self, kind: str) -> Callback:
        async def on_media(update: Update, context: Context) -> None:
            await self.on_media(update, context, kind)

        return on_media

    async def on_media(self, update: Update, context: Context, kind: str) -> None:
        """Delete the user's picture from the chat (best effort), then the assistant's warning."""
        message = update.effective_message
        if message is None:
            return
        removed = await self._delete_one(context.bot, message.chat_id, message.message_id)
        log("telegram_media", kind=kind, removed=removed)
        # The caption is read for crisis words only, like any typed text; the attachment is never touched.
        inbound = Inbound("media", media=kind, text=message.caption or "")
        await self._message_turn(update, context, inbound, media_removed=removed, track=False)

    async def on_button(self, update: Update, context: Context) -> None:
        """A press is always answered (it stops the button's spinner), before any reply is sent.

        A stale or forged button (an old menu, a second device, made-up data) gets its notice ("That menu
        has expired") as the answer's toast, and the pressed message becomes the current screen.
        """
        query = update.callback_query
        if query is None:
            return
        menu = query.message
        if menu is None or menu.chat.type != "private":
            await self._answer(query)
            return
        ref = self._ref(context.bot, menu.chat.id, query.from_user.id)
        inbound = Inbound("action", action=query.data or "")
        handled = await self._handle(context.bot, update, ref, inbound)
        await self._answer(query, toast(handled))
        if handled is not None:
            await self._deliver(context.bot, update, menu.chat.id, handled, current_id=menu.message_id, menu=menu)

    async def on_public(self, update: Update, context: Context) -> None:
        """Groups and channels: no conversation here, ever; once per command or mention, a private link."""
        message = update.effective_message
        bot = context.bot
        if message is None or not self._addressed_to_me(message, bot):
            return
        if not self._seen.first_time(update.update_id):
            return
        link = f"https://t.me/{bot.username}?start={GROUP_DEEP_LINK}"
        button = InlineKeyboardButton(self.text("telegram_private_button"), url=link)
        piece = Piece(self.text("group_refusal", link=link), markup=InlineKeyboardMarkup([[button]]))
        log("telegram_group_refusal", chat_type=message.chat.type)
        try:
            msg = _Message(bot, message.chat_id, piece, update.update_id, 0, None)
            await self._call("sendMessage", partial(self._send_piece, msg), idempotent=False)
        except TelegramError as exc:  # e.g. not allowed to post in this group or channel
            log_error("telegram_send_failed", exc, where="group")

    async def on_error(self, update: object, context: Context) -> None:
        if context.error is not None:
            log_error("telegram_update_failed", context.error)

    # ---------------------------------------------------------------------------------- the turn

    def _ref(self, bot: Bot, chat_id: int, user_id: int) -> ConversationRef:
        return ConversationRef(PLATFORM, str(bot.id), str(chat_id), str(user_id))

    async def _handle(
        self, bot: Bot, update: Update, ref: ConversationRef, inbound: Inbound, defaults: Defaults | None = None
    ) -> Handled | None:
        """The service's turn; if it fails (say the store is down), an apology instead of silence.

        An update this process has already taken a turn for (Telegram delivering it again, however long
        after) runs no second turn: the service's own dedupe remembers only the last few per conversation.
        """
        if not self.ledger.claim(update.update_id):
            log("telegram_duplicate_update")
            return Handled(None, self.service.key(ref), duplicate=True)
        try:
            return await self.service.handle(
                ref, inbound, event_id=str(update.update_id), defaults=defaults or self.defaults
            )
        except Exception as exc:
            log_error("telegram_turn_failed", exc, kind=inbound.kind)
            sorry = self.service.assistant.sorry()
            with contextlib.suppress(Forbidden):
                # numbered apart (-1), so a later successful turn of this update is still sent in full
                await self._send(bot, int(ref.chat), sorry, update_id=update.update_id, first=-1, key=None)
            return None

    async def _message_turn(
        self,
        update: Update,
        context: Context,
        inbound: Inbound,
        *,
        media_removed: bool = False,
        track: bool = True,
        defaults: Defaults | None = None,
    ) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        ref = self._ref(context.bot, message.chat_id, user.id)
        if track:
            self.recent.add(self.service.key(ref), message.message_id)
        handled = await self._handle(context.bot, update, ref, inbound, defaults)
        if handled is None:
            return
        if media_removed and handled.reply is not None:
            note = self.text("telegram_media_removed")
            handled.reply.replies = [
                replace(o, text=neutral.paragraphs(o.text, note)) if o.kind == "warning" else o
                for o in handled.reply.replies
            ]
        await self._deliver(context.bot, update, message.chat_id, handled, current_id=message.message_id)

    async def _deliver(
        self,
        bot: Bot,
        update: Update,
        chat_id: int,
        handled: Handled,
        *,
        current_id: int,
        menu: MaybeInaccessibleMessage | None = None,
    ) -> None:
        """Send a turn's replies: edit the pressed menu where asked, quick exit, forget.

        Reply messages are numbered within the update; a number already sent for this update is not sent
        again (see :class:`SentLedger`). While the chat has replies waiting in the outbox, these queue
        behind them, and an edit becomes a new message (the old menu may be out of date by then).
        """
        reply = handled.reply
        if handled.duplicate or reply is None:
            return
        key = handled.key
        if reply.session is None:  # quick exit or forget: nothing still waiting should arrive later
            self.outbox.discard(chat_id)
        if reply.delete_conversation:
            sweep = range(max(1, current_id - QUICK_EXIT_SWEEP), current_id + 1)
            await self._delete_many(bot, chat_id, self.recent.pop(key), sweep)
        elif reply.session is None:
            self.recent.pop(key)
        tracked = key if reply.session is not None else None
        n = 0
        try:
            for out in reply.replies:
                if out.replace_menu and menu is not None and not self.outbox.has(chat_id):
                    edited = await self._edit(
                        bot, menu, out, update_id=update.update_id, key=tracked, stale=reply.stale
                    )
                    menu = None  # only the first replacing reply edits; any others are new messages
                    if edited:
                        n += len(render(out))
                        continue
                n = await self._send(bot, chat_id, out, update_id=update.update_id, first=n, key=tracked)
        except Forbidden as exc:  # the user blocked the bot: nothing more to do
            log_error("telegram_send_failed", exc, conv=key[:12])

    async def _send(
        self, bot: Bot, chat_id: int, out: Outbound, *, update_id: int, first: int, key: str | None
    ) -> int:
        """Send ``out`` as messages numbered from ``first``; returns the next number."""
        crisis = out.kind == "crisis"
        n = first
        for piece in render(out):
            await self._post(_Message(bot, chat_id, piece, update_id, n, key), crisis=crisis)
            n += 1
        return n

    async def _post(self, msg: _Message, *, crisis: bool = False) -> None:
        """Send one reply message now, or queue it: never twice, never dropped without a log line."""
        if self.ledger.done(msg.update_id, msg.n):
            log("telegram_send_skipped_already_sent")
            return
        if self.outbox.has(msg.chat_id):
            self.outbox.put(msg.chat_id, msg, crisis=crisis)
            return
        try:
            sent = await self._call("sendMessage", partial(self._send_piece, msg), idempotent=False)
        except (Forbidden, InvalidToken):
            raise
        except BadRequest as exc:  # the same request would fail the same way
            self.ledger.mark(msg.update_id, msg.n)
            log_error("telegram_send_failed", exc)
            return
        except TelegramError as exc:
            if maybe_delivered(exc):
                self.ledger.mark(msg.update_id, msg.n)
                log_error("telegram_send_unconfirmed", exc, crisis=crisis)
                return
            log_error("telegram_send_deferred", exc, crisis=crisis)
            delay = retry_after_seconds(exc) if isinstance(exc, RetryAfter) else None
            self.outbox.put(msg.chat_id, msg, crisis=crisis, delay=delay)
            return
        self._sent(msg, sent)

    def _sent(self, msg: _Message, sent: Message) -> None:
        self.ledger.mark(msg.update_id, msg.n)
        if msg.key is not None:
            self.recent.add(msg.key, sent.message_id)

    async def _send_queued(self, item: Pending) -> tuple[Outcome, float | None]:
        """The outbox's sender: one attempt, classified (sent, drop, or retry and when)."""
        msg: _Message = item.payload
        if self.ledger.done(msg.update_id, msg.n):
            return "drop", None
        try:
            sent = await self._send_piece(msg)
        except RetryAfter as exc:
            return "retry", retry_after_seconds(exc)
        except (BadRequest, Forbidden, InvalidToken) as exc:
            log_error("telegram_outbox_undeliverable", exc)
            return "drop", None
        except TelegramError as exc:
            if maybe_delivered(exc):
                self.ledger.mark(msg.update_id, msg.n)
                log_error("telegram_send_unconfirmed", exc, crisis=item.crisis)
                return "drop", None
            return "retry", None
        self._sent(msg, sent)
        return "sent", None

    async def _send_piece(self, msg: _Message) -> Message:
        piece = msg.piece
        return await msg.bot.send_message(
            msg.chat_id,
            piece.text,
            entities=piece.entities or None,
            reply_markup=piece.markup,
            read_timeout=self.timeouts.read,
            write_timeout=self.timeouts.write,
            connect_timeout=self.timeouts.connect,
            pool_timeout=self.timeouts.pool,
        )

    async def _edit(
        self,
        bot: Bot,
        menu: MaybeInaccessibleMessage,
        out: Outbound,
        *,
        update_id: int,
        key: str | None,
        stale: bool = False,
    ) -> bool:
        """Edit the pressed menu to show ``out`` (message 0 of this update); ``False`` if that failed.

        Editing is idempotent, so it is retried like any call; if Telegram refuses (too old, not modified)
        or stays unreachable, the caller sends ``out`` as new messages instead (those may be queued). For a
        ``stale`` button (a second tap on a menu that has moved on) "not modified" means the pressed message
        already shows the current screen: nothing more is sent.
        """
        pieces = render(out)
        if not pieces or self.ledger.done(update_id, 0):
            return bool(pieces)
        first = pieces[0]
        try:
            await self._call(
                "editMessageText",
                lambda: bot.edit_message_text(
                    first.text,
                    chat_id=menu.chat.id,
                    message_id=menu.message_id,
                    entities=first.entities or None,
                    reply_markup=first.markup,
                    read_timeout=self.timeouts.read,
                    write_timeout=self.timeouts.write,
                    connect_timeout=self.timeouts.connect,
                    pool_timeout=self.timeouts.pool,
                ),
            )
        except BadRequest as exc:
            if not (stale and _NOT_MODIFIED in str(exc).lower()):
                log("telegram_edit_fallback")
                return False
            log("telegram_edit_unchanged")
        except (Forbidden, InvalidToken):
            raise
        except TelegramError as exc:
            log_error("telegram_edit_failed", exc)
            return False
        self.ledger.mark(update_id, 0)
        if key is not None:
            self.recent.add(key, int(menu.message_id))
        crisis = out.kind == "crisis"
        for n, piece in enumerate(pieces[1:], start=1):
            await self._post(_Message(bot, menu.chat.id, piece, update_id, n, key), crisis=crisis)
        return True

    async def _call(self, method: str, call: Callable[[], Awaitable[T]], *, idempotent: bool = True) -> T:
        return await with_retry(call, self.retry, method, idempotent=idempotent)

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        try:
            await self._call("answerCallbackQuery", partial(query.answer, text))
        except TelegramError as exc:  # "query is too old" and the like: the turn still goes ahead
            log_error("telegram_answer_failed", exc)

    async def _delete_one(self, bot: Bot, chat_id: int, message_id: int) -> bool:
        try:
            return bool(await self._call("deleteMessage", lambda: bot.delete_message(chat_id, message_id)))
        except TelegramError:
            return False

    async def _delete_many(self, bot: Bot, chat_id: int, known: list[int], sweep: range) -> None:
        """Delete what Telegram lets us: the ids we know of, and the sweep of ids before /exit.

        deleteMessages skips ids that are gone; should Telegram refuse a whole batch (say for one
        undeletable message in it), the ids we know were in this conversation are deleted one by one.
        """
        ordered = sorted({*known, *sweep})
        failed = 0
        for i in range(0, len(ordered), _DELETE_BATCH):
            batch = ordered[i : i + _DELETE_BATCH]
            try:
                await self._call("deleteMessages", partial(bot.delete_messages, chat_id, batch))
            except TelegramError as exc:
                log_error("telegram_delete_failed", exc, count=len(batch))
                for message_id in sorted(set(batch) & set(known)):
                    failed += not await self._delete_one(bot, chat_id, message_id)
        log("telegram_quick_exit", tried=len(ordered), known=len(known), failed=failed)

    # ------------------------------------------------------------------------------------ groups

    @staticmethod
    def _addressed_to_me(message: Message, bot: Bot) -> bool:
        """A command (``/start`` or ``/start@this_bot``) or an @mention of this bot; nothing else."""
        username = (bot.username or "").lower()
        found = message.parse_entities(
            [MessageEntity.BOT_COMMAND, MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        )
        for entity, text in found.items():
            if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
                _, at, target = text.partition("@")
                if not at or target.lower() == username:
                    return True
            elif entity.type == MessageEntity.MENTION:
                if text.lower() == f"@{username}":
                    return True
            elif entity.user is not None and entity.user.id == bot.id:  # a text mention of the bot
                return True
        return False


def toast(handled: Handled | None) -> str | None:
    """For a stale or forged button: the notice that opens its replies, taken out of them to be the press's
    toast; the current screen that follows then replaces the pressed menu. ``None`` for any other turn."""
    reply = handled.reply if handled is not None and not handled.duplicate else None
    if reply is None or not reply.stale:
        return None
    notices: list[str] = []
    while reply.replies and not reply.replies[0].options and reply.replies[0].kind in ("info", "warning"):
        text = reply.replies[0].text.strip()
        if len(" ".join([*notices, text])) > MAX_TOAST:
            break
        notices.append(text)
        reply.replies.pop(0)
    if reply.replies and notices:
        reply.replies[0] = replace(reply.replies[0], replace_menu=True)
    return " ".join(notices) or None


def build_application(
    token: str,
    adapter: TelegramAdapter,
    *,
    base_url: str = "https://api.telegram.org/bot",
    polling: bool = True,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    max_concurrent_updates: int = 256,
    max_connections: int = 32,
) -> TelegramApp:
    """A PTB Application with this adapter's handlers; updates ordered per chat, concurrent across chats.

    The bot is a :class:`~adapters.telegram.intake.ScreenedBot` (poison updates are skipped, not fetched
    for ever), with client timeouts long enough for a slow Telegram. Webhook mode (``polling=False``) has
    no Updater: the webhook server feeds ``update_queue``.
    """
    t = SEND_TIMEOUTS
    if request is None:
        request = HTTPXRequest(
            connection_pool_size=max_connections,
            connect_timeout=t.connect,
            read_timeout=t.read,
            write_timeout=t.write,
            pool_timeout=t.pool,
        )
    bot: ExtBot[None] = ScreenedBot(
        token,
        base_url=base_url,
        base_file_url=file_url_for(base_url),
        request=request,
        get_updates_request=get_updates_request or HTTPXRequest(connection_pool_size=1),
        defaults=BOT_DEFAULTS,
        max_in_flight=max_connections,
        pool_timeout=t.pool,
    )
    processor = PerChatUpdateProcessor(max_concurrent_updates, keep=adapter.urgent)
    builder = (
        Application.builder()
        .bot(bot)
        .concurrent_updates(processor)
        .job_queue(None)
        .post_init(adapter.post_init)
        .post_stop(adapter.post_stop)
    )
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    adapter.install(app)
    scrub_library_logs()  # PTB logs raw updates (at CRITICAL, on a parse error): arguments are dropped
    return app


def file_url_for(base_url: str) -> str:
    """Telegram's file URL beside a Bot API URL (never used to fetch anything; set so it stays local)."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url

