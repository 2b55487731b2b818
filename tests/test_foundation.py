"""The package's foundation: the public surface, the version, secrets, the error tree."""

from __future__ import annotations

import pickle

import pytest

import pdmc
from pdmc import errors


def test_version_is_the_distribution_version() -> None:
    """`pdmc.__version__` is read from the installed distribution's metadata."""
    from importlib.metadata import version

    assert pdmc.__version__ == version("pdmc")


def test_all_is_sorted_and_complete() -> None:
    """`__all__` is sorted and every name in it exists."""
    assert list(pdmc.__all__) == sorted(pdmc.__all__)
    for name in pdmc.__all__:
        assert getattr(pdmc, name) is not None


def test_the_public_surface_is_exactly_the_curated_names() -> None:
    """The top-level surface changes only on purpose: this list is the contract."""
    public = {name for name in dir(pdmc) if not name.startswith("_")}
    layers = {
        "clients",
        "errors",
        "mapping",
        "storage",
        "emulator",
        "flows",
        "cli",
        "annotations",
        "logging",
    }
    assert public - layers == set(pdmc.__all__) - {"__version__"}


def test_secret_never_shows_its_value() -> None:
    """A Secret's repr, str and format show a mask; only reveal() returns the value."""
    secret = pdmc.Secret("canary-7f3a-us6")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>20}"):
        assert "canary" not in text
    assert secret.reveal() == "canary-7f3a-us6"


def test_secret_refuses_pickling() -> None:
    """A Secret cannot be pickled, so it cannot leak into a cache or a queue by accident."""
    with pytest.raises(TypeError):
        pickle.dumps(pdmc.Secret("canary"))


def test_secret_compares_by_value() -> None:
    """Two secrets with the same value are equal; a secret never equals a plain string."""
    assert pdmc.Secret("a") == pdmc.Secret("a")
    assert pdmc.Secret("a") != pdmc.Secret("b")
    assert pdmc.Secret("a") != "a"


def test_error_tree_markers() -> None:
    """Each error carries the marker that tells a runner what to do with it."""
    assert issubclass(errors.RateLimitError, errors.RetryableError)
    assert issubclass(errors.ServerError, errors.RetryableError)
    assert issubclass(errors.ThrottledError, errors.RetryableError)
    assert issubclass(errors.TransportError, errors.RetryableError)
    assert issubclass(errors.ComplianceStateError, errors.RowError)
    assert issubclass(errors.ConversionError, errors.RowError)
    assert issubclass(errors.AuthenticationError, errors.FlowError)
    assert not issubclass(errors.BadRequestError, errors.RetryableError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.PdmcError)


def test_error_tree_is_drawn_in_the_docstring() -> None:
    """Every public error class appears in the tree drawn in the module docstring."""
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, name


def test_invalid_field_map_error_is_an_exception_group() -> None:
    """InvalidFieldMapError holds every problem at once and is still a PdmcError."""
    problems = [
        errors.FieldMapRuleError("x", field="FNAME", reason="mapped twice"),
        errors.FieldMapRuleError("y", field="BIRTHDAY", reason="incompatible"),
    ]
    with pytest.raises(errors.PdmcError) as info:
        raise errors.InvalidFieldMapError("2 problems", problems)
    assert isinstance(info.value, ExceptionGroup)
    assert [p.field for p in info.value.exceptions] == ["FNAME", "BIRTHDAY"]
    assert "reason: mapped twice" in problems[0].__notes__
