"""Which unknown columns hold secrets, told by their header: the keyword table, as data.

A column no field uses is kept and echoed in failed.csv, the workbook and the journal, unless its
header holds one of these words (compared as `header_key` compares headers: letters and digits
only, case-folded, so `IMAP Pword`, `imap_pword` and `ImapPWord` are one). Blanking a harmless
column by mistake costs a cell in a report; echoing a password costs the mailbox, so the table
leans wide. A cell equal to one of the row's passwords is blanked whatever its header
(rows.normalise): this table is for the secrets that are not also in a password column.
"""

from __future__ import annotations

import re

from bulk_onboard.sheet.aliases import header_key

SECRET_WORDS: tuple[str, ...] = (
    # English, and the typos and stand-ins seen in exports (P@ssword, Pa$$word, Paswd, Psw)
    "pass", "pwd", "pword", "secret", "token", "api key", "credential", "private key",
    "recovery code", "backup code", "totp", "2fa", "pasw", "pssw", "paword", "psw",
    "access code", "login code", "auth code", "security code", "verification code",
    # German, French, Spanish, Portuguese, Italian, Dutch, Galician, Basque, Afrikaans
    "kennwort", "geheim", "zugangsdaten", "mot de passe", "mdp", "contrase", "clave", "senha",
    "parol", "parool", "wachtwoord", "contrasinal", "pasahitza", "wagwoord",
    # Nordic, Baltic, Central and Eastern Europe, Turkish
    "lösenord", "adgangskode", "kodeord", "salasana", "lykilorð", "slaptažod", "hasło", "haslo",
    "heslo", "geslo", "lozinka", "jelszó", "şifre", "sifre", "пароль", "парол", "лозинка",
    "κωδικός πρόσβασης", "συνθηματικό",
    # Asia and the Middle East
    "密码", "密碼", "口令", "パスワード", "暗証", "비밀번호", "암호", "mật khẩu", "kata sandi",
    "kata laluan", "रहस्य", "पासवर्ड", "รหัสผ่าน", "كلمة المرور", "كلمة السر", "סיסמה", "رمز عبور",
)  # fmt: skip
SECRET_KEYS: tuple[str, ...] = tuple(dict.fromkeys(header_key(word) for word in SECRET_WORDS))
# Words that name a secret only as a word of their own (`IMAP PW 2`, `PIN`, `SMTP Creds`, not
# `Spinning` or `Credits`), and those that do only as the last (`App Key`, `SMTP Auth`, not
# `Key Account` or `Auth Status`).
SECRET_ALONE = frozenset({"pw", "pin", "otp", "mfa", "cred", "creds"})
SECRET_LAST = frozenset({"key", "auth"})
_WORDS = re.compile(r"[^\W\d_]+|\d+")  # letters and digits apart: `PW2` is `PW`, `2`


def looks_secret(header: str) -> bool:
    """Whether a header names a secret: `App Password`, `SMTP PW`, `IMAP PW 2`, `Пароль`."""
    key = header_key(header)
    if any(word in key for word in SECRET_KEYS) or key.startswith("pw") or key.endswith("pw"):
        return True
    words = _WORDS.findall(_camel_apart(header).casefold())
    named = [word for word in words if not word.isdigit()]
    return not SECRET_ALONE.isdisjoint(named) or (bool(named) and named[-1] in SECRET_LAST)


def _camel_apart(header: str) -> str:
    """`appKey` as `app Key`, so a secret's word inside a camelCase header stands alone."""
    return _CAMEL.sub(r"\1 \2", header)


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
