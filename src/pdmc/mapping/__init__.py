"""Field mapping: which fields a flow syncs, whether their types fit, and value conversion.

Nothing here does I/O. Catalogs are built from the field metadata the clients return
(:meth:`FieldCatalog.for_pipedrive`, :meth:`FieldCatalog.for_mailchimp`); a
:class:`FieldMap` checks every mapping rule when it is built and reports all broken
rules at once; :func:`map_person_to_merge_fields` and
:func:`map_member_to_person_input` convert one contact's values, reporting each value
that cannot convert as a :class:`~pdmc.errors.ConversionError` instead of stopping;
fingerprints let the engine skip writes that change nothing and recognise its own
echoes. The compatibility matrix behind it all is :func:`verdict`, rendered for the
docs by :func:`render_matrix_markdown`.
"""

from __future__ import annotations

from pdmc.mapping._catalog import (
    Field,
    FieldCatalog,
    Option,
    Subfield,
    TargetChoice,
    TargetChoices,
    pair_verdict,
)
from pdmc.mapping._convert import convert_value
from pdmc.mapping._fieldmap import FieldMap
from pdmc.mapping._fingerprint import fingerprint, fingerprint_member, fingerprint_person
from pdmc.mapping._kinds import MAILCHIMP_TYPES, PIPEDRIVE_TYPES, Direction, Kind, Side, kind_of
from pdmc.mapping._matrix import MatrixCell, Verdict, matrix, render_matrix_markdown, verdict
from pdmc.mapping._pair import FieldPair
from pdmc.mapping._records import (
    MappedMember,
    MappedPerson,
    map_member_to_person_input,
    map_person_to_merge_fields,
)
from pdmc.mapping._suggest import Suggestion
from pdmc.mapping._values import Address, CanonicalValue, Money, MonthDay

__all__ = [
    "Address",
    "CanonicalValue",
    "Direction",
    "Field",
    "FieldCatalog",
    "FieldMap",
    "FieldPair",
    "Kind",
    "MAILCHIMP_TYPES",
    "MappedMember",
    "MappedPerson",
    "MatrixCell",
    "Money",
    "MonthDay",
    "Option",
    "PIPEDRIVE_TYPES",
    "Side",
    "Subfield",
    "Suggestion",
    "TargetChoice",
    "TargetChoices",
    "Verdict",
    "convert_value",
    "fingerprint",
    "fingerprint_member",
    "fingerprint_person",
    "kind_of",
    "map_member_to_person_input",
    "map_person_to_merge_fields",
    "matrix",
    "pair_verdict",
    "render_matrix_markdown",
    "verdict",
]
