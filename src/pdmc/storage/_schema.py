"""The versioned SQL schema of the SQLite and PostgreSQL stores.

``MIGRATIONS[n]`` holds the statements that take a database from schema version
``n`` to ``n + 1``; a new pdmc appends a step and never edits an old one, so a
database of any earlier version reaches the current one by running the steps it
lacks, in order, in one transaction. The statements are written once for both
databases; ``{time}``, ``{serial}`` and ``{bytewise}`` stand for what differs:
times (microseconds since the epoch as an integer on SQLite, ``timestamptz`` on
PostgreSQL), an auto-numbered primary key, and the collation that orders text by its
bytes, so links are listed in the same order by every store whatever the server's
locale.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # Version 1: flows, links with fingerprints, checkpoints, processed events,
    # retry rows, runs with outcomes, leases.
    (
        """CREATE TABLE pdmc_flows (
            flow_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            definition TEXT NOT NULL,
            definition_version INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deactivated')),
            status_reason TEXT,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            activated_at {time},
            next_run_at {time},
            last_run_at {time}
        )""",
        "CREATE INDEX pdmc_flows_due ON pdmc_flows (status, next_run_at)",
        """CREATE TABLE pdmc_links (
            account_pair TEXT NOT NULL,
            audience_id TEXT NOT NULL,
            email TEXT {bytewise} NOT NULL,
            person_id BIGINT,
            member_id TEXT,
            pipedrive_fingerprint TEXT,
            mailchimp_fingerprint TEXT,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            PRIMARY KEY (account_pair, audience_id, email)
        )""",
        (
            "CREATE UNIQUE INDEX pdmc_links_person "
            "ON pdmc_links (account_pair, audience_id, person_id)"
        ),
        (
            "CREATE UNIQUE INDEX pdmc_links_member "
            "ON pdmc_links (account_pair, audience_id, member_id)"
        ),
        """CREATE TABLE pdmc_checkpoints (
            flow_id TEXT NOT NULL REFERENCES pdmc_flows (flow_id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at {time} NOT NULL,
            PRIMARY KEY (flow_id, name)
        )""",
        """CREATE TABLE pdmc_events (
            source TEXT NOT NULL,
            event_id TEXT NOT NULL,
            processed_at {time} NOT NULL,
            PRIMARY KEY (source, event_id)
        )""",
        "CREATE INDEX pdmc_events_age ON pdmc_events (processed_at)",
        """CREATE TABLE pdmc_retries (
            flow_id TEXT NOT NULL REFERENCES pdmc_flows (flow_id) ON DELETE CASCADE,
            row_key TEXT NOT NULL,
            payload TEXT NOT NULL,
            error TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            first_failed_at {time} NOT NULL,
            next_attempt_at {time} NOT NULL,
            PRIMARY KEY (flow_id, row_key)
        )""",
        "CREATE INDEX pdmc_retries_due ON pdmc_retries (flow_id, next_attempt_at)",
        """CREATE TABLE pdmc_runs (
            run_id {serial},
            flow_id TEXT NOT NULL REFERENCES pdmc_flows (flow_id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
            started_at {time} NOT NULL,
            finished_at {time},
            counts TEXT NOT NULL,
            error TEXT
        )""",
        "CREATE INDEX pdmc_runs_flow ON pdmc_runs (flow_id, run_id)",
        """CREATE TABLE pdmc_outcomes (
            seq {serial},
            run_id BIGINT NOT NULL REFERENCES pdmc_runs (run_id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            email TEXT,
            person_id BIGINT,
            member_id TEXT,
            reason TEXT,
            recorded_at {time} NOT NULL
        )""",
        "CREATE INDEX pdmc_outcomes_run ON pdmc_outcomes (run_id, seq)",
        """CREATE TABLE pdmc_leases (
            flow_id TEXT PRIMARY KEY REFERENCES pdmc_flows (flow_id) ON DELETE CASCADE,
            holder TEXT NOT NULL,
            token BIGINT NOT NULL,
            acquired_at {time} NOT NULL,
            expires_at {time} NOT NULL
        )""",
    ),
    # Version 2: each link's last known member status; per-flow memberships (which
    # contacts a flow syncs, and whether they match its trigger); claims.
    (
        "ALTER TABLE pdmc_links ADD COLUMN member_status TEXT",
        # The primary key serves both lookups by key and the end of a pass (a range
        # scan of one flow): an index on seen_at would slow every tracked contact's
        # write to speed up one statement per pass.
        """CREATE TABLE pdmc_memberships (
            flow_id TEXT NOT NULL REFERENCES pdmc_flows (flow_id) ON DELETE CASCADE,
            contact_key TEXT NOT NULL,
            matching BOOLEAN NOT NULL,
            seen_at {time} NOT NULL,
            PRIMARY KEY (flow_id, contact_key)
        )""",
        """CREATE TABLE pdmc_claims (
            claim_key TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            token TEXT NOT NULL,
            acquired_at {time} NOT NULL,
            expires_at {time} NOT NULL
        )""",
    ),
)
