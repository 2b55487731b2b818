"""Proposed pairs: the default map, and suggestions by label and kind for the user to confirm."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from types import MappingProxyType
from typing import Final

from attrs import frozen

from pdmc.mapping._catalog import Field, FieldCatalog, pair_verdict
from pdmc.mapping._kinds import Direction, Side
from pdmc.mapping._pair import FieldPair

__all__ = ["Suggestion", "default_pairs", "suggest_pairs"]

_THRESHOLD = 0.8
_SYNONYMS: Final = MappingProxyType(
    {
        "fname": "firstname",
        "givenname": "firstname",
        "forename": "firstname",
        "lname": "lastname",
        "surname": "lastname",
        "familyname": "lastname",
        "phonenumber": "phone",
        "telephone": "phone",
        "tel": "phone",
        "mobile": "phone",
        "emailaddress": "email",
        "postaladdress": "address",
        "addr": "address",
        "dob": "birthday",
        "dateofbirth": "birthday",
        "birthdate": "birthday",
        "zipcode": "zip",
        "postcode": "zip",
        "postalcode": "zip",
        "website": "url",
        "title": "jobtitle",
        "position": "jobtitle",
        "companyname": "company",
        "organization": "company",
        "organisation": "company",
    }
)
_DEFAULTS: Final = (("first_name", "firstname"), ("last_name", "lastname"), ("phone", "phone"))


@frozen
class Suggestion:
    """A proposed pair, how alike the two fields' names are (0 to 1), and why."""

    pair: FieldPair
    score: float
    reason: str


def suggest_pairs(
    direction: Direction,
    pipedrive: FieldCatalog,
    mailchimp: FieldCatalog,
    taken: Iterable[FieldPair] = (),
) -> tuple[Suggestion, ...]:
    """Propose pairs of compatible fields with alike names, best first.

    Fields already in ``taken`` are left out, and each field is proposed at most
    once. Only pairs the matrix allows without opting in are proposed; nothing is
    applied until the user adds the pair to a FieldMap.
    """
    taken = tuple(taken)
    used_pd = {pair.pipedrive for pair in taken}
    used_mc = {pair.mailchimp for pair in taken}
    candidates: list[tuple[float, int, int, FieldPair, str]] = []
    for pd_index, pd_field in enumerate(pipedrive):
        for mc_index, mc_field in enumerate(mailchimp):
            if pd_field.key in used_pd or mc_field.key in used_mc:
                continue
            score = _likeness(pd_field, mc_field)
            decided = pair_verdict(pd_field, mc_field, direction)
            if score < _THRESHOLD or not decided.allowed:
                continue
            source, target = _ordered(pd_field, mc_field, direction)
            reason = f"{source.title} → {target.title}: names {score:.0%} alike; {decided.reason}"
            target_index = mc_index if direction is Direction.PD_TO_MC else pd_index
            pair = FieldPair(pd_field.key, mc_field.key)
            candidates.append((-score, target_index, pd_index + mc_index, pair, reason))
    suggestions: list[Suggestion] = []
    for negative_score, _, _, pair, reason in sorted(candidates, key=lambda c: c[:3]):
        if pair.pipedrive in used_pd or pair.mailchimp in used_mc:
            continue
        used_pd.add(pair.pipedrive)
        used_mc.add(pair.mailchimp)
        suggestions.append(Suggestion(pair, -negative_score, reason))
    return tuple(suggestions)


def default_pairs(
    direction: Direction, pipedrive: FieldCatalog, mailchimp: FieldCatalog
) -> tuple[FieldPair, ...]:
    """The default map's pairs: email, first and last name, phone, then required fields.

    Names and phone are paired only where both sides have a compatible field; each
    required target field left unmapped gets its best suggestion, if any.
    """
    pairs = [FieldPair(pipedrive.email.key, mailchimp.email.key)]
    for pd_key, name in _DEFAULTS:
        pd_field = pipedrive.get(pd_key)
        if pd_field is None:
            continue
        match = next(
            (
                mc_field
                for mc_field in sorted(mailchimp, key=lambda f: _names(f)[:1] != (name,))
                if name in _names(mc_field)
                and pair_verdict(pd_field, mc_field, direction).allowed
                and all(pair.mailchimp != mc_field.key for pair in pairs)
            ),
            None,
        )
        if match is not None:
            pairs.append(FieldPair(pd_key, match.key))
    targets = pipedrive if direction.target is Side.PIPEDRIVE else mailchimp
    required = {field.key for field in targets if field.required}
    for suggestion in suggest_pairs(direction, pipedrive, mailchimp, pairs):
        target_key = (
            suggestion.pair.mailchimp
            if direction is Direction.PD_TO_MC
            else suggestion.pair.pipedrive
        )
        if target_key in required:
            pairs.append(suggestion.pair)
    return tuple(pairs)


def _ordered(pipedrive: Field, mailchimp: Field, direction: Direction) -> tuple[Field, Field]:
    return (pipedrive, mailchimp) if direction is Direction.PD_TO_MC else (mailchimp, pipedrive)


def _names(field: Field) -> tuple[str, ...]:
    """The field's tag (Mailchimp) or key (built-in Pipedrive) first, then its label."""
    texts = (field.label,) if field.custom else (field.key, field.label)
    compact = (re.sub(r"[^a-z0-9]", "", text.casefold()) for text in texts)
    return tuple(_SYNONYMS.get(name, name) for name in compact if name)


def _likeness(first: Field, second: Field) -> float:
    return max(
        (SequenceMatcher(None, a, b).ratio() for a in _names(first) for b in _names(second)),
        default=0.0,
    )
