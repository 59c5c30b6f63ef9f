"""Mapping files: foreign column names, date formats, value codes, defaults, attributes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tenure.accounts.models import Account, Contact
from tenure.feedback.models import Ticket
from tenure.imports.fields import ENTITIES
from tenure.imports.mapping import MappingError, load_mapping
from tenure.imports.report import ImportFileError, ImportOptions, RowError
from tenure.imports.service import import_file
from tenure.kit.runtime import Runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
Write = Callable[..., Path]
Rows = Callable[..., list[dict[str, Any]]]


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in rows}


class TestShippedExamples:
    def test_zendesk_tickets_export_loads_unedited(
        self, seeded: Runtime, write: Write, rows: Rows
    ) -> None:
        import_file(seeded, "contacts", write("c.csv", "external_id,account_id,name\nC1,A1,Wang\n"))
        options = ImportOptions(mapping=EXAMPLES / "zendesk-tickets.toml")
        summary = import_file(seeded, "tickets", EXAMPLES / "zendesk-tickets.csv", options)
        assert (summary.read, summary.inserted, summary.rejected) == (3, 3, 0)
        assert summary.ignored_columns == []
        tickets = _by_key(rows(seeded, Ticket))
        first = tickets["48213"]
        # 09:30 in Asia/Shanghai is 01:30 UTC
        assert first["opened_at"] == dt.datetime(2024, 3, 1, 1, 30)
        assert first["resolved_at"] == dt.datetime(2024, 3, 2, 10, 0)
        assert (first["severity"], first["category"], first["is_complaint"]) == (
            "critical",
            "problem",
            True,
        )
        second = tickets["48214"]
        assert (second["severity"], second["is_complaint"], second["first_response_at"]) == (
            "medium",
            False,
            None,
        )
        assert second["opened_at"] == dt.datetime(2024, 3, 5, 6, 12)  # the second format
        third = tickets["48215"]
        assert (third["contact_id"], third["is_complaint"], third["severity"]) == (
            None,
            False,
            "low",
        )

    def test_salesforce_accounts_export_loads_unedited(self, seeded: Runtime, rows: Rows) -> None:
        options = ImportOptions(mapping=EXAMPLES / "salesforce-accounts.toml")
        summary = import_file(seeded, "accounts", EXAMPLES / "salesforce-accounts.csv", options)
        assert (summary.inserted, summary.rejected, summary.ignored_columns) == (2, 0, [])
        accounts = _by_key(rows(seeded, Account))
        shanghai = accounts["0015g00000A1xyzAAA"]
        assert (shanghai["customer_since"], shanghai["status"], shanghai["employees"]) == (
            dt.date(2022, 1, 15),
            "active",
            1200,
        )
        assert shanghai["attributes"] == {
            "sf_type": "Customer - Direct",
            "rating": "Hot",
            "annual_revenue": "12,500,000",
        }
        beijing = accounts["0015g00000B2xyzAAB"]
        assert (beijing["status"], beijing["churn_date"]) == ("churned", dt.date(2024, 2, 29))
        assert beijing["owner_id"] != shanghai["owner_id"] is not None

    @pytest.mark.parametrize("name", ["zendesk-tickets.toml", "salesforce-accounts.toml"])
    def test_examples_are_valid(self, name: str) -> None:
        mapping = load_mapping(EXAMPLES / name)
        assert mapping.entity is not None
        mapping.check(ENTITIES[mapping.entity])


class TestMappingRules:
    def test_foreign_date_format_errors_name_the_format(
        self, seeded: Runtime, write: Write
    ) -> None:
        mapping = write(
            "m.toml",
            '[columns]\n"Ticket" = "external_id"\n"Kunde" = "account_id"\n'
            '"Eröffnet" = "opened_at"\n[formats]\nopened_at = "%d.%m.%Y %H:%M"\n',
        )
        text = "Ticket,Kunde,Eröffnet\nT1,A1,01.03.2024 09:30\nT2,A1,2024-03-01 09:30\n"
        summary = import_file(
            seeded, "tickets", write("t.csv", text), ImportOptions(mapping=mapping)
        )
        assert summary.errors == [
            RowError(
                3, "Eröffnet", "'2024-03-01 09:30' is not a date-time in format %d.%m.%Y %H:%M"
            )
        ]
        assert summary.inserted == 1

    def test_codes_defaults_and_blank_codes(
        self, seeded: Runtime, write: Write, rows: Rows
    ) -> None:
        mapping = write(
            "m.toml",
            '[values.opted_out_all]\n"是" = true\n"否" = false\n'
            '[values.channel_preference]\n"企业微信" = "wecom"\n"N/A" = ""\n'
            '[defaults]\nrole = "champion"\nlocale = "zh-CN"\n',
        )
        text = (
            "external_id,account_id,name,opted_out_all,channel_preference,role\n"
            "C1,A1,Wang,是,企业微信,\nC2,A1,Li,否,N/A,billing\nC3,A2,Zhao,Y,EMAIL,\n"
        )
        summary = import_file(
            seeded, "contacts", write("c.csv", text), ImportOptions(mapping=mapping)
        )
        assert summary.errors == []
        got = {
            r["external_id"]: (r["opted_out_all"], r["channel_preference"], r["role"], r["locale"])
            for r in rows(seeded, Contact)
        }
        assert got == {
            "C1": (True, "wecom", "champion", "zh-CN"),
            "C2": (False, None, "billing", "zh-CN"),
            "C3": (True, "email", "champion", "zh-CN"),
        }

    def test_default_satisfies_a_required_column(self, seeded: Runtime, write: Write) -> None:
        mapping = write("m.toml", '[defaults]\naccount_id = "A2"\n')
        summary = import_file(
            seeded,
            "contacts",
            write("c.csv", "external_id,name\nC1,Li\n"),
            ImportOptions(mapping=mapping),
        )
        assert (summary.inserted, summary.errors) == (1, [])

    def test_star_keeps_every_unmapped_column(
        self, seeded: Runtime, write: Write, rows: Rows
    ) -> None:
        mapping = write("m.toml", 'attributes = ["*"]\nignore = ["Noise"]\n')
        text = "external_id,name,Segment,Noise\nA1,Acme,SMB,x\n"
        import_file(seeded, "accounts", write("a.csv", text), ImportOptions(mapping=mapping))
        assert _by_key(rows(seeded, Account))["A1"]["attributes"] == {"Segment": "SMB"}

    def test_two_columns_for_one_field(self, seeded: Runtime, write: Write) -> None:
        mapping = write("m.toml", '[columns]\n"Company" = "name"\n')
        with pytest.raises(
            ImportFileError, match="column 'Company': maps to 'name' like column 'name'"
        ):
            import_file(
                seeded,
                "accounts",
                write("a.csv", "external_id,name,Company\nA1,x,y\n"),
                ImportOptions(mapping=mapping),
            )


class TestBadMappingFiles:
    def test_every_bad_key_is_named(self, write: Write) -> None:
        path = write(
            "m.toml",
            'entity = "accounts"\n[source]\ntimezone = "Mars/Base"\n'
            '[columns]\n"Prio" = "priorty"\n[formats]\nseverity = "%Y"\n',
        )
        mapping_error = None
        try:
            load_mapping(path).check(ENTITIES["tickets"], path)
        except MappingError as exc:
            mapping_error = exc
        assert mapping_error is not None
        assert mapping_error.keys == [
            ("source.timezone", "Value error, unknown time zone 'Mars/Base'")
        ]

    def test_fields_checked_against_the_entity(self, write: Write) -> None:
        path = write(
            "m.toml",
            'entity = "accounts"\n[columns]\n"Prio" = "priorty"\n[formats]\nseverity = "%Y"\n',
        )
        with pytest.raises(MappingError) as err:
            load_mapping(path).check(ENTITIES["tickets"], path)
        keys = [key for key, _ in err.value.keys]
        assert keys == ["entity", "columns.Prio", "formats.severity"]
        assert err.value.keys[0][1] == "this mapping is for 'accounts', not 'tickets'"
        assert err.value.keys[1][1].startswith("'priorty' is not a field of tickets; fields: ")
        assert err.value.keys[2][1] == "severity is a enum, not a date"

    def test_toml_syntax_error(self, write: Write) -> None:
        with pytest.raises(MappingError, match=r"\(syntax\)"):
            load_mapping(write("m.toml", "[columns\n"))

    def test_attributes_only_where_kept(self, write: Write) -> None:
        with pytest.raises(MappingError, match="attributes: tickets keep no custom attributes"):
            load_mapping(write("m.toml", 'attributes = ["X"]\n')).check(ENTITIES["tickets"])

    def test_top_level_key_after_a_table_is_explained(self, write: Write) -> None:
        path = write("m.toml", '[columns]\n"Id" = "external_id"\nignore = ["Status"]\n')
        with pytest.raises(MappingError) as err:
            load_mapping(path)
        assert err.value.keys == [
            (
                "columns.ignore",
                "'ignore' must come before the first [table] header, not in [columns]",
            )
        ]
