"""What happens to every request before its route sees it: the log, the fault knobs, the key.

For each /v1 request, in this order: note the arrival, maybe drop the connection, maybe 429,
maybe 503, sleep the latency, 404 for an unknown path, check the key, run the route. Paths
outside /v1 (the `_sandbox` introspection routes) skip all of it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from bulk_onboard.sandbox.bodies import BodyError
from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.faults import Faults
from bulk_onboard.sandbox.request_log import RequestLog
from bulk_onboard.sandbox.store import AccountError, AccountStore

V1_PREFIX = "/api/v1/"
IMAP_AUTH_PATH = "/api/v1/imap_auth"
_BEARER = "bearer "

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class SandboxState:
    """Everything one sandbox app holds; tests reach it as `Sandbox.state`."""

    config: SandboxConfig
    store: AccountStore
    faults: Faults
    log: RequestLog
    imap_auth_requests: int = 0
    revoked: bool = False  # set for good once `revoke_after` imap_auth requests were seen


STATE = web.AppKey("sandbox_state", SandboxState)


class JsonAnswer(web.Response):
    """A JSON response that remembers which account email it was about, for the request log."""

    def __init__(
        self,
        status: int,
        payload: object,
        *,
        email: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            status=status,
            body=json.dumps(payload).encode(),
            content_type="application/json",
            headers=headers,
        )
        self.email = email


def error(status: int, message: str, *, email: str | None = None) -> JsonAnswer:
    """The `{"error": ...}` body the real service's framework answers with."""
    return JsonAnswer(status, {"error": message}, email=email)


def not_found() -> web.Response:
    """Like the real service, a wrong path gets a 404 with nothing in it."""
    return web.Response(status=404)


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Route /v1 requests through the fault knobs and the key check; log them all."""
    if request.path.startswith(V1_PREFIX):
        return await _logged(request, handler)
    if request.match_info.http_exception is not None:
        return not_found()
    return await _answer_errors(request, handler)


async def _logged(request: web.Request, handler: Handler) -> web.StreamResponse:
    arrived = time.time()
    state = request.app[STATE]
    status: int | None = None
    email: str | None = None
    try:
        response = await _through_faults(request, handler, state)
        if response is None:
            # The transport is closed already: whatever is returned is never written.
            return web.Response(status=499)
        status = response.status
        email = getattr(response, "email", None)
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except ConnectionResetError:
        # The client went away mid-request (a killed or cancelled run): nothing to answer, and
        # nothing wrong with the server, so no traceback on its stderr.
        return web.Response(status=499)
    except Exception:
        status = 500  # what aiohttp answers for it, once re-raised
        raise
    finally:
        state.log.record(arrived, request.method, request.path, status, email)


async def _through_faults(
    request: web.Request, handler: Handler, state: SandboxState
) -> web.StreamResponse | None:
    faults = state.faults
    if faults.drop_connection():
        if request.transport is not None:
            request.transport.close()
        return None
    retry_after = faults.retry_after_s()
    if retry_after is not None:
        return JsonAnswer(
            429, {"error": "Too many requests"}, headers={"Retry-After": str(retry_after)}
        )
    if faults.fail():
        return error(503, "Service unavailable")
    if state.config.fail_first and request.path == IMAP_AUTH_PATH:
        email = await _email_of(request)
        if email is not None and faults.fail_first_tries(email):
            return error(503, "Service unavailable", email=email)
    delay_s = faults.delay_s()
    if delay_s > 0.0:
        await asyncio.sleep(delay_s)
    # A wrong path is refused before the key is looked at, as a router in front of auth would.
    if request.match_info.http_exception is not None:
        return not_found()
    if not _key_accepted(request, state):
        return error(401, "Unauthorized")
    return await _answer_errors(request, handler)


async def _answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BodyError as exc:
        return error(400, str(exc))
    except AccountError as exc:
        return error(exc.status, str(exc))


async def _email_of(request: web.Request) -> str | None:
    """The email of an imap_auth body, or None (the route itself answers a bad body)."""
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else None


def _key_accepted(request: web.Request, state: SandboxState) -> bool:
    if request.path == IMAP_AUTH_PATH:
        state.imap_auth_requests += 1
        limit = state.config.revoke_after
        if limit is not None and state.imap_auth_requests > limit:
            state.revoked = True
    if state.revoked:
        return False
    expected = state.config.api_key.encode()
    return any(
        hmac.compare_digest(offered.encode(), expected) for offered in _offered_keys(request)
    )


def _offered_keys(request: web.Request) -> list[str]:
    """The keys a request presents: `X-Api-Key: [Bearer ]K` and `Authorization: Bearer K`."""
    offered = []
    api_key = request.headers.get("X-Api-Key")
    if api_key is not None:
        api_key = api_key.strip()
        offered.append(
            api_key[len(_BEARER) :].strip() if api_key.lower().startswith(_BEARER) else api_key
        )
    authorization = request.headers.get("Authorization", "").strip()
    if authorization.lower().startswith(_BEARER):
        offered.append(authorization[len(_BEARER) :].strip())
    return offered
