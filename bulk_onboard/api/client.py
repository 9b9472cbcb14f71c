"""The MailReach HTTP client: one aiohttp session per run, one attempt per call, no retries here.

Every failure below HTTP is turned into a `TransportFailure` carrying only a kind from the retry
table, so no URL, header or key can travel up in an exception's text. Every answer is redacted
of the key and of the passwords its request carried before it leaves: an error text repeating
them would otherwise reach failed.csv, the journal and the reports.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from bulk_onboard.api.config import ApiConfig
from bulk_onboard.base.printable import url_shown
from bulk_onboard.base.redaction import Redactor
from bulk_onboard.rows.request import secrets_in

CONNECT_TIMEOUT_S = 10.0
MAX_ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or the text of a non-JSON body
    retry_after: str | None
    location: str | None = None  # a redirect's target, without user:password@


class TransportFailure(Exception):
    """No usable HTTP answer. `kind` is a key of retry_rules.TRANSPORT_RULES."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class ApiClient:
    """`async with ApiClient(config) as api:` then `await api.call("POST", path, body)`."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._base = config.base_url.rstrip("/")
        self.requests = 0

    async def __aenter__(self) -> ApiClient:
        key = f"Bearer {self.config.api_key}" if self.config.bearer else self.config.api_key
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.config.concurrency, ttl_dns_cache=300),
            headers={
                "X-Api-Key": key,
                "User-Agent": self.config.user_agent,
                "Accept": "application/json",
            },
            # The overall deadline is enforced by the caller (asyncio.timeout), which also
            # defeats a response that drips one byte at a time; this only bounds connecting.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        """One request, bounded by the overall deadline. Raises TransportFailure, never leaks."""
        assert self._session is not None, "use `async with ApiClient(...)`"
        self.requests += 1
        # orjson: JSON in and out is a third of the client's own CPU per row with the stdlib.
        data = None if body is None else orjson.dumps(body)
        headers = _JSON_HEADERS if body is not None else None
        try:
            async with (
                asyncio.timeout(self.config.timeout_s),
                self._session.request(
                    # Never followed: aiohttp would resend the key (and the body, on a 307 or
                    # 308) to whatever server the Location names.
                    method,
                    self._base + path,
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                ) as response,
            ):
                raw = await response.read()
                location = response.headers.get("Location")
                parsed = _parse(raw, response.status)
                redact = Redactor([self.config.api_key, *secrets_in(body or {})])
                text = raw.decode("utf-8", "replace")
                # A JSON escape (\u0070) can spell a secret the raw text does not show: then
                # the parsed strings are searched whatever the raw text looks like.
                if "\\u" in text or redact.mentioned_in(text):
                    parsed = redact.value(parsed)
                return Answer(
                    response.status,
                    parsed,
                    response.headers.get("Retry-After"),
                    None if location is None else redact(url_shown(location)),
                )
        except TimeoutError:
            raise TransportFailure("timeout") from None
        except (aiohttp.ClientConnectorCertificateError, ssl.SSLCertVerificationError):
            raise TransportFailure("tls") from None
        except (aiohttp.ClientSSLError, ssl.SSLError):
            # Not the certificate: no TLS at all on the other end, or a broken handshake.
            raise TransportFailure("tls_handshake") from None
        except aiohttp.ClientConnectorDNSError:
            raise TransportFailure("dns") from None
        except aiohttp.ClientConnectorError:
            raise TransportFailure("refused") from None
        except (aiohttp.ClientError, OSError):
            raise TransportFailure("reset") from None
        except _BadJson:
            raise TransportFailure("bad_json") from None


_JSON_HEADERS = {"Content-Type": "application/json"}


class _BadJson(Exception):
    pass


def _parse(raw: bytes, status: int) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if 200 <= status < 300:
            raise _BadJson from None
        return raw[:MAX_ERROR_BODY_BYTES].decode("utf-8", "replace")
