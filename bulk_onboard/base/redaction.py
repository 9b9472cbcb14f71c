"""Known secrets taken out of text that came from outside, before it is stored or printed.

An API error body, a mail server's reply or an exception's text may repeat what it was sent: a
password, or the API key. Whoever handles such text (the API client, the preflight) passes it
through a `Redactor` built from the secrets that went out with the request, and each secret is
replaced by `***`. dlt's `redaction.py` is the model: one small module, and nothing else in the
package decides how a secret is recognised.

A secret is also found in the forms a server may have turned it into: with its whitespace
changed (`server_text` makes each run one space), in another case, JSON-escaped (as Python, Go,
.NET and PHP write it, or twice), percent-encoded or HTML-escaped (each framework's entities),
and cut short just before a closing `…` or `...`.

A short secret (under MIN_ANYWHERE_CHARS characters) is removed only where it stands alone, not
inside a longer run of letters and digits: the password `a` must not turn "MailReach" into
"M***ilRe***ch" in every message, and the letters of a short password inside a longer word
say nothing about it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_ANYWHERE_CHARS = 6  # shorter secrets are removed only where they stand alone
MIN_CORE_CHARS = 3  # a secret with no ASCII letter-or-digit run this long is looked for always
_CUT = "…"  # what shortened text ends with (failures.server_text, retry_rules.error_text)
_CUTS = (_CUT, "...")  # ours, and a server's own
_ASCII_RUNS = re.compile(r"[A-Za-z0-9]+")
# Google shows app passwords as four groups of four letters. Matching that layout, not just "16
# letters once the spaces go", keeps a passphrase like "my long pass phrase" intact.
APP_PASSWORD = re.compile(r"[a-zA-Z]{4}(?:[ \u00a0][a-zA-Z]{4}){3}")


class Redactor:
    """Removes a fixed set of secrets from text: `redact(text)`, or `redact.value(json)`."""

    __slots__ = ("_cores", "_forms", "_long", "_pattern", "_runs", "_secrets")

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple({secret for secret in secrets if secret.strip()})
        # What every form of a secret still holds, in lower case: its longest ASCII run of
        # letters and digits (escaping changes only the other characters). None: look always.
        self._cores = tuple(_core(secret) for secret in self._secrets)
        # Every ASCII run of letters and digits of each secret, longest first: a form of the
        # secret holds them all, so ASCII text that misses one of them can't hold that secret.
        self._runs = tuple(_runs(secret) for secret in self._secrets)
        self._forms: tuple[str, ...] | None = None  # built on first need: most text is clean
        self._long: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        """`text` with every secret in it replaced by MASK."""
        if not self.mentioned_in(text):
            return text
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for cut in _CUTS:
            if cut in text:
                text = self._cut_short(text, cut)
        return text

    def value(self, value: Any) -> Any:
        """A parsed JSON value with every string in it (keys included) redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value

    def mentioned_in(self, text: str) -> bool:
        """Whether `text` may hold a secret: a cheap look, so clean text costs no pattern."""
        if not self._secrets:
            return False
        if None in self._cores or any(cut in text for cut in _CUTS):
            return True
        lower = text.lower()
        if text.isascii() and "\\u" not in text:
            # In ASCII text a case-insensitive match is a match of the lower-cased text, so each
            # run must be there (an answer's keys, such as `imap_server`, hold a run of many
            # passwords: the core alone would build and run the pattern for most strings). A raw
            # JSON body may spell a letter as \u0070: there the core decides, as it always did.
            return any(all(run in lower for run in runs) for runs in self._runs)
        return any(core in lower for core in self._cores if core is not None)

    def _compiled(self) -> re.Pattern[str] | None:
        if self._forms is None:
            self._forms = tuple({form for secret in self._secrets for form in _forms(secret)})
            self._long = tuple(
                sorted((f for f in self._forms if len(f) >= MIN_ANYWHERE_CHARS), key=len)
            )
            short = tuple(f for f in self._forms if len(f) < MIN_ANYWHERE_CHARS)
            self._pattern = _pattern(self._long, short) if self._forms else None
        return self._pattern

    def _cut_short(self, text: str, cut: str) -> str:
        """Remove a secret's beginning left just before a `cut` where the text was shortened."""
        self._compiled()
        pieces = text.split(cut)
        return cut.join([*map(self._cut_end, pieces[:-1]), pieces[-1]])

    def _cut_end(self, piece: str) -> str:
        for secret in reversed(self._long):  # longest first
            for length in range(min(len(secret) - 1, len(piece)), MIN_ANYWHERE_CHARS - 1, -1):
                if piece[-length:].casefold() == secret[:length].casefold():
                    return piece[:-length] + MASK
        return piece


def _core(secret: str) -> str | None:
    longest = max(_ASCII_RUNS.findall(secret), key=len, default="")
    return longest.lower() if len(longest) >= MIN_CORE_CHARS else None


def _runs(secret: str) -> tuple[str, ...]:
    return tuple(
        sorted({run.lower() for run in _ASCII_RUNS.findall(secret)}, key=len, reverse=True)
    )


# How the servers' frameworks write a quote or an ampersand as an HTML entity (Python's
# html.escape is one more): Rails and Go (&#39;, Go also &#34;), PHP (&#039;), XML (&apos;).
_ENTITIES = (
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"},
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"},
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#039;"},
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"},
)


def _forms(secret: str) -> set[str]:
    """The secret and what a server may have made of it on the way back (its whitespace is
    matched as any run of whitespace by the pattern): JSON-escaped (also twice, also with `\\/`
    as PHP writes it, and with every ASCII mark as a `\\u` escape, as Go and .NET write some),
    HTML-escaped in each framework's way, percent-encoded."""
    in_json = json.dumps(secret)[1:-1]
    forms = {secret.strip(), in_json, json.dumps(in_json)[1:-1], in_json.replace("/", "\\/")}
    forms |= {html.escape(secret), *("".join(e.get(ch, ch) for ch in secret) for e in _ENTITIES)}
    forms |= {quote(secret, safe=""), quote_plus(secret, safe="")}
    for hex_digits in ("04x", "04X"):
        forms.add("".join(_marked(ch, hex_digits) for ch in secret))
    return {form for form in forms if form.strip()}


def _marked(ch: str, hex_digits: str) -> str:
    return ch if ch.isalnum() or not ch.isascii() else f"\\u{ord(ch):{hex_digits}}"


def _pattern(long: tuple[str, ...], short: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so a secret holding another is removed whole. A server may change the case
    # of what it repeats; a short secret is matched exactly, as it is looked for in any text.
    anywhere = [f"(?i:{_spaced(form)})" for form in reversed(long)]
    alone = [rf"(?<!\w){_spaced(form)}(?!\w)" for form in sorted(short, key=len, reverse=True)]
    return re.compile("|".join(anywhere + alone))


def _spaced(form: str) -> str:
    """`form` as a pattern in which each run of whitespace matches any run of whitespace."""
    return r"\s+".join(re.escape(part) for part in form.split())
