"""The command line for real accounts, run against the emulator served over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pdmc._cli_accounts import load_settings
from pdmc.cli import main
from pdmc.emulator import Emulator, EmulatorServer, SeedSummary


@pytest.fixture
def served() -> Iterator[tuple[Emulator, EmulatorServer, SeedSummary]]:
    emulator = Emulator()
    summary = emulator.seed(contacts=120, seed=5)
    with emulator.serve() as server:
        yield emulator, server, summary


@pytest.fixture
def configured(
    served: tuple[Emulator, EmulatorServer, SeedSummary],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Emulator, SeedSummary, Path]:
    emulator, server, summary = served
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PDMC_CONFIG", raising=False)
    (tmp_path / "pdmc.toml").write_text(
        "[pipedrive]\n"
        f'token = "{emulator.pipedrive.default_company.api_token.reveal()}"\n'
        f'base_url = "{server.url_of(emulator.pipedrive)}"\n'
        "[mailchimp]\n"
        f'api_key = "{emulator.mailchimp.default_account.api_key.reveal()}"\n'
        f'base_url = "{server.url_of(emulator.mailchimp)}"\n'
        "[store]\n"
        f'path = "{tmp_path / "state.sqlite3"}"\n',
        encoding="utf-8",
    )
    return emulator, summary, tmp_path


def test_a_flow_goes_from_a_file_to_a_run_through_the_command_line(
    configured: tuple[Emulator, SeedSummary, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """create, list, preview, activate, run-due, run --dry-run, pause and delete all work."""
    emulator, summary, folder = configured
    definition = {
        "id": "software",
        "name": "Software industry",
        "trigger": {
            "type": "pipedrive_filters",
            "config": {"filter_ids": [summary.filters["Software industry"]]},
        },
        "audience_id": summary.audience_id,
        "tag": "software",
    }
    (folder / "flow.json").write_text(json.dumps(definition), encoding="utf-8")
    assert main(["flows", "preview", "flow.json", "--limit", "3"]) == 0
    assert main(["flows", "create", "flow.json"]) == 1  # subscribed needs confirming
    assert main(["flows", "create", "flow.json", "--confirm-subscribed"]) == 0
    assert main(["flows", "activate", "software"]) == 0
    assert main(["run-due"]) == 0
    out = capsys.readouterr().out
    assert "flow software:" in out
    assert "created" in out
    tagged = [
        m
        for m in emulator.mailchimp.iter_members(summary.audience_id)
        if any(t["name"] == "software" for t in m.get("tags", []))
    ]
    assert tagged
    assert main(["flows", "run", "software", "--dry-run"]) == 0
    assert main(["flows", "list"]) == 0
    assert "active" in capsys.readouterr().out
    assert main(["flows", "pause", "software"]) == 0
    assert main(["flows", "delete", "software"]) == 0
    assert main(["flows", "show", "software"]) == 1


def test_catalogs_and_webhooks_commands(
    configured: tuple[Emulator, SeedSummary, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The catalogs of both sides print; webhooks ensure without active flows changes nothing."""
    _, summary, _ = configured
    assert main(["catalogs", summary.audience_id]) == 0
    out = capsys.readouterr().out
    assert "Pipedrive person fields" in out
    assert "EMAIL" in out
    assert main(["webhooks", "ensure", "https://hooks.example.org/pdmc"]) == 0
    assert "already as the active flows need them" in capsys.readouterr().out


def test_settings_come_from_the_environment_before_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment variable wins over the TOML file, and secrets stay masked."""
    (tmp_path / "custom.toml").write_text('[pipedrive]\ntoken = "from-file"\n', encoding="utf-8")
    settings = load_settings(
        {"PDMC_CONFIG": str(tmp_path / "custom.toml"), "PDMC_MAILCHIMP_API_KEY": "env-key-us1"}
    )
    assert settings.pipedrive_token is not None
    assert settings.pipedrive_token.reveal() == "from-file"
    assert settings.mailchimp_api_key is not None
    assert settings.mailchimp_api_key.reveal() == "env-key-us1"
    assert "from-file" not in repr(settings)
    assert "env-key" not in repr(settings)


def test_missing_credentials_are_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without credentials a command exits 1 and says which variables to set."""
    monkeypatch.chdir(tmp_path)
    for name in ("PDMC_PIPEDRIVE_TOKEN", "PDMC_MAILCHIMP_API_KEY", "PDMC_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["flows", "list"]) == 1
    assert "PDMC_PIPEDRIVE_TOKEN" in capsys.readouterr().err
