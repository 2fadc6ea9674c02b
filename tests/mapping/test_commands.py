"""``crmsync mappings ...`` through the real CLI entry point."""

from __future__ import annotations

import difflib
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connector.cli import main
from connector.mapping import SyncRule, load_mappings

ROOT = Path(__file__).parents[2]
HERE = Path(__file__).parent


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", target)
    return target


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_validate_passes_on_the_shipped_files(
    mappings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mappings", "validate", "--dir", str(mappings)]) == 0
    assert "18 mappings in 2 files: ok" in capsys.readouterr().out


def test_validate_exits_2_listing_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    broken = HERE / "broken" / "05_unknown_key.yaml"
    assert main(["mappings", "validate", "--dir", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "mapping error: 2 problems" in err
    assert "05_unknown_key.yaml:5:5: mapping 'email': unknown key 'snyc'" in err


def test_validate_against_a_schema_snapshot_lists_live_problems(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = HERE / "broken" / "22_picklist_value_not_in_org.yaml"
    schema = HERE / "schemas" / "standard.json"
    args = ["mappings", "validate", "--dir", str(broken), "--schema", str(schema)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "22_picklist_value_not_in_org.yaml:14:7" in err
    assert "'Qualified'" in err


def test_validate_live_without_credentials_says_what_to_do(
    mappings: Path, clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--config", str(clean_env / "none.toml"), "--env-file", str(clean_env / "none.env")]
    assert main([*args, "mappings", "validate", "--dir", str(mappings), "--live"]) == 2
    err = capsys.readouterr().err
    assert "no CRM could be described" in err
    assert "--schema FILE" in err


def test_show_json_lists_every_mapping_with_targets(
    mappings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mappings", "show", "--dir", str(mappings), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    by_name = {row["mapping"]: row for row in shown["mappings"]}
    assert by_name["lead_status"]["canonical"] == "stage"
    assert by_name["lead_status"]["salesforce"] == {"Lead": "Status"}
    assert by_name["company.employee_count"]["writes"] == []
    assert shown["value_maps"]["lifecycle_stage"]["outbound"]["disqualified"] is None


def test_show_renders_a_table(mappings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "show", "--dir", str(mappings)]) == 0
    out = capsys.readouterr().out
    assert "Field mappings (18 mappings in 2 files)" in out
    assert "FirstName" in out
    assert "NEW" in out


def test_set_changes_one_line_and_keeps_every_comment(mappings: Path) -> None:
    path = mappings / "contact.yaml"
    before = path.read_text()
    assert main(["mappings", "set", "phone", "--sync", "two_way", "--dir", str(mappings)]) == 0
    after = path.read_text()
    assert _changed_lines(before, after) == [
        "-    sync: prefer_salesforce",
        "+    sync: two_way",
    ]
    assert load_mappings(mappings).get("phone").sync is SyncRule.TWO_WAY


def test_add_value_creates_an_inbound_entry_and_keeps_comments(mappings: Path) -> None:
    path = mappings / "funnel.yaml"
    before = path.read_text()
    args = ["mappings", "add-value", "salesforce_funnel_stage", "Nurture", "lead"]
    args += ["--dir", str(mappings)]
    assert main(args) == 0
    after = path.read_text()
    assert _changed_lines(before, after) == ["+    inbound:", "+      Nurture: lead"]
    assert [line for line in before.splitlines() if "#" in line] == [
        line for line in after.splitlines() if "#" in line
    ]
    stage = load_mappings(mappings).get("stage")
    assert stage.from_salesforce("Nurture") == "lead"


def test_an_edit_that_would_break_the_mapping_is_refused_and_undone(
    mappings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = mappings / "contact.yaml"
    before = path.read_text()
    args = ["mappings", "set", "company.employee_count", "--sync", "prefer_hubspot"]
    assert main([*args, "--dir", str(mappings)]) == 2
    assert "no HubSpot field is mapped" in capsys.readouterr().err
    assert path.read_text() == before


def test_set_names_a_near_miss_mapping(mappings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "set", "phon", "--sync", "none", "--dir", str(mappings)]) == 2
    assert "did you mean 'phone'?" in capsys.readouterr().err


def _at_most_1_gib() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_validate_refuses_a_billion_laughs_with_the_alias_line(tmp_path: Path) -> None:
    # Expanded, this file holds 9 ** 12 (about 2.8e11) strings. The real command runs in a
    # process capped at 1 GiB of memory with a generous time limit: a loader that expands
    # aliases dies of MemoryError (a traceback, exit 1) or times out; only a bounded one passes.
    lines = ["version: 1", "lol0: &lol0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * 9) + "]" for n in range(1, 12)]
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [Path(sys.executable).parent / "crmsync", "mappings", "validate", "--dir", "mappings"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_at_most_1_gib,
        check=False,
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    [where] = [line for line in result.stderr.splitlines() if "bomb.yaml:" in line]
    location = where.split("bomb.yaml:")[1].split(":")
    line, column = int(location[0]), int(location[1])
    assert lines[line - 1][column - 1] == "*"
    assert "anchor" in where


def test_set_keeps_anchors_and_aliases(mappings: Path) -> None:
    contact = mappings / "contact.yaml"
    text = contact.read_text()
    first = "    transform: [trim, truncate]   # Salesforce FirstName holds 40 characters\n"
    assert text.count(first) == 1
    text = text.replace(first, first.replace("[trim", "&trimmed [trim"))
    text = text.replace("    transform: [trim, truncate]\n", "    transform: *trimmed\n", 1)
    assert text.count("*trimmed") == 1
    contact.write_text(text)
    assert (
        main(["mappings", "set", "first_name", "--sync", "prefer_hubspot", "--dir", str(mappings)])
        == 0
    )
    after = contact.read_text()
    assert _changed_lines(text, after) == [
        "-    sync: two_way",
        "+    sync: prefer_hubspot",
    ]
    assert load_mappings(mappings).get("last_name").transforms == ("trim", "truncate")
