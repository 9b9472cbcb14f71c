"""The sandbox's routes: a local stand-in for the MailReach API, plus introspection for tests.

Under /api: `GET /v1/ping`, `POST /v1/imap_auth`, `GET /v1/accounts?page=N`,
`GET|POST /v1/accounts/{id}`, `POST /v1/tags/{id}/link|unlink`,
`POST /v1/email_workspaces/{id}/accounts`, `GET /v1/tasks/{id}`; and, with no key and no faults,
`GET|DELETE /_sandbox/requests`, `POST /_sandbox/accounts/{id}/drift` and `POST /_sandbox/tags`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from bulk_onboard.rows.account_settings import UPDATE_FIELDS
from bulk_onboard.sandbox.bodies import (
    BodyError,
    ImapAuthBody,
    account_update,
    imap_auth_body,
    parse_json_object,
)
from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.faults import Faults
from bulk_onboard.sandbox.middleware import (
    STATE,
    JsonAnswer,
    SandboxState,
    error,
    sandbox_middleware,
)
from bulk_onboard.sandbox.profile import LoginOutcome, log_in
from bulk_onboard.sandbox.request_log import RequestLog
from bulk_onboard.sandbox.store import AccountError, AccountStore
from bulk_onboard.sandbox.workspaces import Workspaces

WORKSPACES = web.AppKey("sandbox_workspaces", Workspaces)


class LoginVerifier(Protocol):
    """`--verify`'s real logins (bulk_onboard.sandbox.verify)."""

    async def log_in(self, body: ImapAuthBody) -> tuple[LoginOutcome, Mapping[str, Any]]: ...


VERIFIER = web.AppKey("sandbox_verifier", LoginVerifier)


async def _json_object(request: web.Request) -> dict[str, object]:
    if request.content_type != "application/json":
        raise BodyError("Content-Type must be application/json")
    return parse_json_object(await request.read())


def _account_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def ping(request: web.Request) -> web.StreamResponse:
    """`GET /v1/ping`: the key works."""
    return JsonAnswer(200, {"success": True})


async def imap_auth(request: web.Request) -> web.StreamResponse:
    """`POST /v1/imap_auth`: log into the mailbox, then create or update its account."""
    store = request.app[STATE].store
    value = await _json_object(request)
    email = value.get("email")
    email = email.lower() if isinstance(email, str) else None
    try:
        body = imap_auth_body(value)
        existing = store.match(body)
    except BodyError as exc:
        return error(400, str(exc), email=email)
    except AccountError as exc:
        return error(exc.status, str(exc), email=email)
    domain = None
    if VERIFIER in request.app:
        outcome, domain = await request.app[VERIFIER].log_in(body)
        try:
            existing = store.match(body)  # again: other requests ran during the logins
        except AccountError as exc:
            return error(exc.status, str(exc), email=email)
    else:
        outcome = log_in(
            body.provider, body.imap_password, body.smtp_password, imap=not body.smtp_only
        )
    if outcome.error is not None:
        # The real service's shape for a failed mailbox login: a 500, not to be retried.
        failure = {
            "success": False,
            "imap_auth_success": outcome.imap_ok,
            "smtp_auth_success": outcome.smtp_ok,
            "error": outcome.error,
        }
        return JsonAnswer(500, failure, email=email)
    account = store.connect(body, existing, dry_run=bool(body.test), domain=domain)
    return JsonAnswer(200, account, email=email)


async def list_accounts(request: web.Request) -> web.StreamResponse:
    """`GET /v1/accounts?page=N`: a bare array, page 0 first, empty past the end."""
    state = request.app[STATE]
    page = request.query.get("page", "0")
    if not page.isascii() or not page.isdigit():
        raise BodyError("page must be a whole number, 0 or more")
    return JsonAnswer(200, state.store.page(int(page), state.config.page_size))


async def get_account(request: web.Request) -> web.StreamResponse:
    """`GET /v1/accounts/{id}`."""
    account = request.app[STATE].store.get(_account_id(request))
    if account is None:
        raise AccountError(404, "Account not found")
    return JsonAnswer(200, account, email=account["email"])


# Fields of an update the account object shows; the others (desc) are taken and not echoed.
_SHOWN_UPDATES = frozenset(f.name for f in UPDATE_FIELDS if f.in_account)


async def update_account(request: web.Request) -> web.StreamResponse:
    """`POST /v1/accounts/{id}`: change the fields given, leave the rest."""
    fields = account_update(await _json_object(request))
    store = request.app[STATE].store
    account_id = _account_id(request)
    if store.get(account_id) is None:
        raise AccountError(404, "Account not found")
    if "alias" in fields:
        # An alias must be one GET /v1/accounts/{id}/aliases lists: OAuth accounts have them,
        # and the sandbox holds only IMAP/SMTP accounts, which have none.
        raise BodyError("alias must be one of the account's aliases, and this account has none")
    account = store.update(account_id, {k: v for k, v in fields.items() if k in _SHOWN_UPDATES})
    return JsonAnswer(200, account, email=account["email"])


def _tag_link(linked: bool) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        """`POST /v1/tags/{id}/link` (or `/unlink`) body `{account_id}`: the tag `{id, name}`."""
        value = await _json_object(request)
        account_id = value.get("account_id")
        if set(value) != {"account_id"} or not isinstance(account_id, int):
            raise BodyError("the body must be {account_id: an account's id}")
        store = request.app[STATE].store
        tag = store.link_tag(int(request.match_info["id"]), account_id, linked=linked)
        return JsonAnswer(200, tag)

    return handler


async def workspace_accounts(request: web.Request) -> web.StreamResponse:
    """`POST /v1/email_workspaces/{id}/accounts`: link a batch of addresses (workspaces.py)."""
    value = await _json_object(request)
    answer = request.app[WORKSPACES].add(int(request.match_info["id"]), value)
    return JsonAnswer(200, answer)


async def task(request: web.Request) -> web.StreamResponse:
    """`GET /v1/tasks/{id}`: a workspace batch's task (workspaces.py says its shape)."""
    return JsonAnswer(200, request.app[WORKSPACES].task(int(request.match_info["id"])))


async def add_tag(request: web.Request) -> web.StreamResponse:
    """`POST /_sandbox/tags` `{id, name}`: a tag made in the app, behind the client's back."""
    value = await _json_object(request)
    tag_id, name = value.get("id"), value.get("name")
    if not isinstance(tag_id, int) or not isinstance(name, str) or not name.strip():
        raise BodyError("the body must be {id: a number, name: text}")
    request.app[STATE].store.tags[tag_id] = name.strip()
    return JsonAnswer(200, {"id": tag_id, "name": name.strip()})


async def request_log(request: web.Request) -> web.StreamResponse:
    """`GET /_sandbox/requests`: every /v1 request logged so far, and the account count."""
    state = request.app[STATE]
    return JsonAnswer(200, {"requests": state.log.as_json(), "accounts": len(state.store)})


async def clear_request_log(request: web.Request) -> web.StreamResponse:
    """`DELETE /_sandbox/requests`: start the log afresh."""
    request.app[STATE].log.clear()
    return JsonAnswer(200, {"success": True})


async def drift(request: web.Request) -> web.StreamResponse:
    """`POST /_sandbox/accounts/{id}/drift`: change an account behind the client's back."""
    fields = await _json_object(request)
    account = request.app[STATE].store.drift(_account_id(request), fields)
    return JsonAnswer(200, account)


async def _close_store(app: web.Application) -> None:
    app[STATE].store.close()


def create_app(config: SandboxConfig) -> web.Application:
    """The sandbox as an aiohttp application; its state is `app[STATE]`."""
    app = web.Application(middlewares=[sandbox_middleware])
    app[STATE] = SandboxState(
        config=config,
        store=AccountStore(config.db, upsert=config.upsert, tags=dict(config.tags)),
        faults=Faults(config, clock=time.monotonic),
        log=RequestLog(config.request_log_size),
    )
    app[WORKSPACES] = Workspaces(
        app[STATE].store, config.workspaces, task_delay_s=config.task_delay_s
    )
    app.on_cleanup.append(_close_store)
    if config.verify is not None:
        # Imported only for --verify: the DNS, IMAP and SMTP clients cost start-up time.
        from bulk_onboard.sandbox.verify import install

        install(app, config.verify)
    account = r"/api/v1/accounts/{id:\d{1,10}}"
    app.router.add_get("/api/v1/ping", ping)
    app.router.add_post("/api/v1/imap_auth", imap_auth)
    app.router.add_get("/api/v1/accounts", list_accounts)
    app.router.add_get(account, get_account)
    app.router.add_post(account, update_account)
    app.router.add_post(r"/api/v1/tags/{id:\d{1,10}}/link", _tag_link(True))
    app.router.add_post(r"/api/v1/tags/{id:\d{1,10}}/unlink", _tag_link(False))
    app.router.add_post(r"/api/v1/email_workspaces/{id:\d{1,10}}/accounts", workspace_accounts)
    app.router.add_get(r"/api/v1/tasks/{id:\d{1,10}}", task)
    app.router.add_get("/api/_sandbox/requests", request_log)
    app.router.add_post("/api/_sandbox/tags", add_tag)
    app.router.add_delete("/api/_sandbox/requests", clear_request_log)
    app.router.add_post(r"/api/_sandbox/accounts/{id:\d{1,10}}/drift", drift)
    return app
