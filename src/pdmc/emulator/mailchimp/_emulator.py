"""MailchimpEmulator: the fake Mailchimp, its operations and its direct state API."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pdmc._secret import Secret
from pdmc.clients.mailchimp import subscriber_hash
from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._service import APIProblem
from pdmc.emulator.mailchimp._api_integrations import IntegrationOperations
from pdmc.emulator.mailchimp._audience import Audience, MemberWrite
from pdmc.emulator.mailchimp._events import SOURCES
from pdmc.emulator.mailchimp._records import STATUSES, Account, Member, OAuthApp, stable_hex
from pdmc.errors import ConfigurationError

__all__ = ["MailchimpEmulator"]


def _checked(what: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigurationError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


@contextlib.contextmanager
def _as_configuration_error(what: str) -> Iterator[None]:
    """Turn a refusal the API would answer into the error the direct state API raises."""
    try:
        yield
    except APIProblem as problem:
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.errors or ())
        reason = f"{problem.title}: {problem.detail}" + (f" ({fields})" if fields else "")
        raise ConfigurationError(f"{what} refused: {reason}") from None


class MailchimpEmulator(IntegrationOperations):
    """A stateful fake of the Mailchimp Marketing API (and its OAuth endpoints).

    It starts with one account (:attr:`default_account`, data centre ``us6``) that
    has one audience (:attr:`default_audience_id`) with Mailchimp's default merge
    fields. Serve it through :class:`~pdmc.emulator.Emulator`; seed and inspect it
    with the methods below, which change state as a person or an admin would in
    Mailchimp's web app (webhooks fire by the ``sources`` rules).

    Args:
        clock: the clock (shared with the Pipedrive emulator inside ``Emulator``).
        data_center: the data centre of the default account.

    The direct state methods raise :class:`~pdmc.errors.ConfigurationError` naming
    the audience, address and reason when Mailchimp would refuse the change.
    """

    def __init__(self, clock: EmulatorClock | None = None, *, data_center: str = "us6") -> None:
        super().__init__(clock)
        self.default_account = self.add_account("Emulated Account", data_center=data_center)
        self.default_host = f"{data_center}.api.mailchimp.com"
        self.default_audience_id = self.add_audience("Newsletter")

    def __repr__(self) -> str:
        return (
            f"MailchimpEmulator(accounts={len(self.accounts)}, audiences={len(self.audiences)}, "
            f"default_host={self.default_host!r})"
        )

    # ------------------------------------------------------------ accounts, OAuth

    def add_account(self, name: str, *, data_center: str = "us6") -> Account:
        """Create an account with a fresh API key ending in ``-<data_center>``."""
        with self.lock:
            number = len(self.accounts) + 1
            account = Account(
                id=stable_hex("account", number, length=25),
                name=name,
                data_center=data_center,
                api_key=Secret(""),
                login_email=f"owner{number}@emulated-company.net",
                login_id=str(40_000_000 + number),
                created=self.clock.time(),
            )
            account.api_key = self.new_credential(account)
            self.accounts[account.id] = account
            return account

    def issue_oauth_token(self, account: Account | None = None) -> Secret:
        """An OAuth access token for ``account`` (the default one); it never expires."""
        with self.lock:
            return self.new_token(account or self.default_account)

    def add_oauth_app(self, client_id: str, *, redirect_uri: str) -> Secret:
        """Register an OAuth app; return its client secret."""
        secret = Secret(secrets.token_hex(16))
        with self.lock:
            self.oauth_apps[client_id] = OAuthApp(client_id, secret, redirect_uri)
        return secret

    def authorize(self, client_id: str, *, account: Account | None = None) -> str:
        """The code the redirect would carry after a user approved the app.

        Raises:
            ConfigurationError: no app with this ``client_id`` was registered.
        """
        with self.lock:
            if client_id not in self.oauth_apps:
                raise ConfigurationError(f"no OAuth app {client_id!r}: call add_oauth_app first")
            return self.issue_code(client_id, account or self.default_account)

    # ------------------------------------------------------------------ audiences

    def add_audience(
        self, name: str, *, double_optin: bool = False, account: Account | None = None
    ) -> str:
        """Create an audience (with FNAME, LNAME, ADDRESS, PHONE); return its id."""
        with self.lock:
            owner = account or self.default_account
            return self.new_audience(owner, name, double_optin=double_optin, details={}).id

    def _audience(self, list_id: str) -> Audience:
        audience = self.audiences.get(list_id)
        if audience is None:
            raise ConfigurationError(f"no audience {list_id!r} in the Mailchimp emulator")
        return audience

    def _member(self, list_id: str, email: str) -> tuple[Audience, Member]:
        audience = self._audience(list_id)
        member = audience.find(email)
        if member is None:
            raise ConfigurationError(f"no member {email!r} in audience {list_id!r}")
        return audience, member

    # -------------------------------------------------------------------- members

    def add_member(
        self,
        list_id: str,
        email: str,
        *,
        status: str = "subscribed",
        merge_fields: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        timestamp_opt: datetime | None = None,
        source: str = "admin",
        notify: bool = False,
    ) -> str:
        """Add a new member and return its subscriber hash.

        ``notify=True`` sends the webhooks the change causes, by ``source``; seeding
        leaves it off.

        Raises:
            ConfigurationError: unknown audience, an address Mailchimp refuses, an
                existing member, or merge fields the audience refuses.
        """
        change = MemberWrite(
            status=_checked("status", status, STATUSES),
            merge_fields=merge_fields,
            tags=tuple(tags) or None,
            timestamp_opt=timestamp_opt.timestamp() if timestamp_opt else None,
        )
        actor = _checked("source", source, SOURCES)
        with self.lock, _as_configuration_error(f"adding {email!r} to {list_id!r}"):
            audience = self._audience(list_id)
            outcome = audience.add_or_update(
                email, change, may_update=False, actor=actor, now=self.clock.time()
            )
            if notify:
                self.notify(audience, outcome, source)
            return outcome.member.key

    def get_member(self, list_id: str, email: str) -> dict[str, Any] | None:
        """The member as the API shows it (archived ones too), or ``None``."""
        with self.lock:
            self.catch_up()
            audience = self._audience(list_id)
            member = audience.find(email)
            return None if member is None else audience.wire_member(member)

    def iter_members(self, list_id: str) -> Iterator[dict[str, Any]]:
        """Every member (archived ones too) as the API shows it, oldest first."""
        with self.lock:
            self.catch_up()
            audience = self._audience(list_id)
            members = list(audience.members.values())
        for member in members:
            yield audience.wire_member(member)

    def member_count(self, list_id: str) -> int:
        """How many members the audience holds, whatever their status (archived included)."""
        with self.lock:
            self.catch_up()
            return len(self._audience(list_id).members)

    # -------------------------------------------- what people and admins do in the app

    def _change(
        self, list_id: str, email: str, change: MemberWrite, source: str, what: str
    ) -> None:
        _checked("source", source, SOURCES)
        with self.lock, _as_configuration_error(f"{what} {email!r} in {list_id!r}"):
            audience, member = self._member(list_id, email)
            outcome = audience.update(member, change, actor=source, now=self.clock.time())
            self.notify(audience, outcome, source)

    def subscribe(
        self,
        list_id: str,
        email: str,
        *,
        merge_fields: Mapping[str, Any] | None = None,
        source: str = "user",
    ) -> str:
        """Subscribe ``email`` as a sign-up form (or confirming a pending opt-in) does.

        A person may resubscribe after unsubscribing, and may come back after being
        forgotten; an ``admin`` may do neither. Returns the subscriber hash.
        """
        change = MemberWrite(status="subscribed", merge_fields=merge_fields)
        _checked("source", source, SOURCES)
        with self.lock, _as_configuration_error(f"subscribing {email!r} to {list_id!r}"):
            audience = self._audience(list_id)
            outcome = audience.add_or_update(
                email, change, may_update=True, actor=source, now=self.clock.time()
            )
            self.notify(audience, outcome, source)
            return outcome.member.key

    def unsubscribe(self, list_id: str, email: str, *, source: str = "user") -> None:
        """Unsubscribe a member (the person's link, or an admin)."""
        self._change(list_id, email, MemberWrite(status="unsubscribed"), source, "unsubscribing")

    def clean(self, list_id: str, email: str) -> None:
        """Mark a member cleaned, as a hard bounce does (a webhook ``admin`` event)."""
        self._change(list_id, email, MemberWrite(status="cleaned"), "admin", "cleaning")

    def update_profile(
        self, list_id: str, email: str, merge_fields: Mapping[str, Any], *, source: str = "user"
    ) -> None:
        """Change a member's merge fields (the profile page, or an admin)."""
        change = MemberWrite(merge_fields=merge_fields)
        self._change(list_id, email, change, source, "updating the profile of")

    def change_email(self, list_id: str, old: str, new: str, *, source: str = "user") -> None:
        """Change a member's address (an ``upemail`` event)."""
        self._change(list_id, old, MemberWrite(new_email=new), source, "changing the address of")

    def archive(self, list_id: str, email: str) -> None:
        """Archive a member, as an admin does in the app."""
        with self.lock:
            audience, member = self._member(list_id, email)
            if audience.archive(member, self.clock.time()):
                self.emit(audience, member, ["unsubscribe"], "admin")

    def forget(self, list_id: str, email: str) -> None:
        """Delete a member permanently (GDPR); the API can never add the address back."""
        with self.lock:
            audience, member = self._member(list_id, email)
            self.forget_member(audience, member, "admin")

    # ------------------------------------------------- merge fields, tags, segments

    def add_merge_field(
        self,
        list_id: str,
        *,
        tag: str,
        name: str,
        type: str,  # noqa: A002 - Mailchimp's name
        required: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Add a merge field of any type; return its ``merge_id``.

        Raises:
            ConfigurationError: unknown audience, a bad or taken tag, unknown type,
                or options the type does not take.
        """
        with self.lock, _as_configuration_error(f"merge field {tag!r} of {list_id!r}"):
            definition = self.define_merge_field(
                self._audience(list_id),
                tag=tag,
                name=name,
                field_type=type,
                required=required,
                options=options or {},
            )
            return definition.merge_id

    def add_tag(self, list_id: str, name: str, emails: Iterable[str] = ()) -> int:
        """Create a tag (a static segment) holding ``emails``; return its segment id.

        Addresses not in the audience are ignored, as the API ignores them.
        """
        with self.lock, _as_configuration_error(f"tag {name!r} of {list_id!r}"):
            audience = self._audience(list_id)
            segment = audience.create_segment(name, "static", self.clock.time())
            self._fill_tag(audience, segment, tuple(emails))
            return segment.id

    def add_saved_segment(self, list_id: str, name: str, conditions: Mapping[str, Any]) -> int:
        """Create a saved segment from ``{"match": "all"|"any", "conditions": [...]}``.

        Raises:
            ConfigurationError: a condition the emulator cannot evaluate (named).
        """
        with self.lock, _as_configuration_error(f"segment {name!r} of {list_id!r}"):
            return self.save_segment(self._audience(list_id), name, dict(conditions)).id

    def fail_batch_rows(self, list_id: str, email: str, *, times: int = 1) -> None:
        """Refuse ``email``'s next ``times`` batch-subscribe rows with a transient row error.

        Each such row comes back in the 200's ``errors`` with ``ERROR_GENERIC`` and
        Mailchimp's "unexpected internal error, please try again later" text, and
        nothing is written for it; the other rows of the call go through: a row the
        service could not process this time, which a later call may write.

        Raises:
            ConfigurationError: unknown audience, or ``times`` below 1.
        """
        if times < 1:
            raise ConfigurationError(f"times must be at least 1, not {times}")
        with self.lock:
            audience = self._audience(list_id)
            key = (audience.id, subscriber_hash(email.strip()))
            self.row_failures[key] = self.row_failures.get(key, 0) + times

    def delete_segment(self, list_id: str, segment_id: int) -> None:
        """Delete a tag or saved segment (a deleted tag leaves every member)."""
        with self.lock:
            audience = self._audience(list_id)
            segment = audience.segments.get(segment_id)
            if segment is None:
                raise ConfigurationError(f"no segment {segment_id} in audience {list_id!r}")
            audience.delete_segment(segment)
