"""Which rows go to an email workspace instead of `imap_auth`, and why. Pure: no I/O.

MailReach onboards Google Workspace and Microsoft 365 mailboxes through an email workspace (OAuth,
no password): `POST /v1/email_workspaces/{id}/accounts`. A row goes to one when:

1. its `Workspace` column holds a workspace id: that workspace, whatever else the row says;
2. else `--workspace google=ID` / `--workspace outlook=ID` names a workspace for the row's kind,
   read from its provider column (`google`, `gsuite`, `microsoft`, `m365`, ...), else its server
   names (`imap.gmail.com`, `outlook.office365.com`), else its domain's preset;
3. else, when exactly one `--workspace` is given and the row names no provider, no server and
   no password (a sheet of bare addresses): that one.

Rows with a password and no workspace for their kind keep using `imap_auth`. `run` and `validate`
route rows (`NormaliseOptions.route_workspaces`); MX records are not looked up here (no network in
the row checks), so a custom domain's Google mailboxes need a provider column or rule 3.
"""

from __future__ import annotations

from collections.abc import Mapping

from bulk_onboard.rows.presets import Preset
from bulk_onboard.rows.request import Provider

WORKSPACE_FIELD = "workspace"
KIND_OF_PROVIDER: Mapping[Provider, str] = {"gmail": "google", "outlook": "outlook"}
WORKSPACE_KINDS = ("google", "outlook")
CREDENTIAL_FIELDS = (
    "password",
    "imap_server_password",
    "smtp_server_password",
    "imap_server",
    "smtp_server",
)


def kind_of(
    named: Provider | None,
    by_host: Provider | None,
    preset: Preset | None,
) -> tuple[str, str] | None:
    """The row's workspace kind ("google", "outlook") and what said so, if anything did."""
    for provider, why in (
        (named, "its provider column"),
        (by_host, "its server names"),
        (preset.provider if preset is not None else None, f"the {preset and preset.name} preset"),
    ):
        if provider is not None:
            kind = KIND_OF_PROVIDER.get(provider)
            return None if kind is None else (kind, why)
    return None


def route(
    workspaces: Mapping[str, int],
    kind: tuple[str, str] | None,
    bare: bool,
) -> tuple[int, str] | None:
    """The workspace id for a row with no Workspace cell, and why; None: `imap_auth`."""
    if kind is not None:
        found = workspaces.get(kind[0])
        return None if found is None else (found, f"{kind[0]}, as {kind[1]} says")
    if bare and len(workspaces) == 1:
        ((only, found),) = workspaces.items()
        return found, f"{only}: the only --workspace given, and the row names no provider"
    return None


def is_bare(present_text: Mapping[str, str]) -> bool:
    """Whether a row gives no password and no server (its credential cells, by field)."""
    return not any(present_text.get(field) for field in CREDENTIAL_FIELDS)
