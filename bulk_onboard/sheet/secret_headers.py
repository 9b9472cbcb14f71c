"""Which unknown columns hold secrets, told by their header: the keyword table, as data.

A column no field uses is kept and echoed in failed.csv, the workbook and the journal, unless its
header holds one of these words (compared as `header_key` compares headers: letters and digits
only, case-folded, so `IMAP Pword`, `imap_pword` and `ImapPWord` are one). Blanking a harmless
column by mistake costs a cell in a report; echoing a password costs the mailbox, so the table
leans wide. A cell equal to one of the row's passwords is blanked whatever its header
(rows.normalise): this table is for the secrets that are not also in a password column.
"""

from __future__ import annotations

from bulk_onboard.sheet.aliases import header_key

SECRET_WORDS: tuple[str, ...] = (
    # English
    "pass", "pwd", "pword", "secret", "token", "api key", "credential", "private key",
    "recovery code", "backup code", "totp",
    # German, French, Spanish, Portuguese, Italian, Dutch
    "kennwort", "geheim", "mot de passe", "mdp", "contrase", "clave", "senha", "parola",
    "wachtwoord",
    # Nordic, Central and Eastern Europe, Turkish
    "lösenord", "adgangskode", "salasana", "hasło", "haslo", "heslo", "jelszó", "şifre", "sifre",
    "пароль", "лозинка", "κωδικός πρόσβασης", "συνθηματικό",
    # Asia and the Middle East
    "密码", "密碼", "口令", "パスワード", "暗証", "비밀번호", "암호", "mật khẩu", "kata sandi",
    "रहस्य", "पासवर्ड", "รหัสผ่าน", "كلمة المرور", "كلمة السر", "סיסמה", "رمز عبور",
)  # fmt: skip
SECRET_KEYS: tuple[str, ...] = tuple(dict.fromkeys(header_key(word) for word in SECRET_WORDS))


def looks_secret(key: str) -> bool:
    """Whether a header (its `header_key`) names a secret: `App Password`, `SMTP PW`, `Пароль`."""
    return any(word in key for word in SECRET_KEYS) or key.startswith("pw") or key.endswith("pw")
