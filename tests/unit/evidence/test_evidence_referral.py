"""Referral packages built from a case: schema-valid report, complete conversation, manifest, chain."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import REPORTER, T0, record_case

from safeguarding.evidence import (
    CaseFile,
    MemoryEvidenceLog,
    Participant,
    PlatformMessage,
    Priority,
    build_referral,
    package_files,
    verify_package,
    write_package,
)
from safeguarding.evidence.package import read_package


def _validator() -> Callable[[Any], list[str]]:
    schema = json.loads(resource_files("safeguarding.evidence").joinpath("referral.schema.json").read_text())
    try:
        import jsonschema

        jsonschema.Draft202012Validator.check_schema(schema)
        v = jsonschema.Draft202012Validator(schema)
        return lambda doc: [e.message for e in v.iter_errors(doc)]
    except ImportError:
        pass
    try:
        import jsonschema_rs
    except ImportError:
        pytest.skip("needs jsonschema (or jsonschema_rs) to validate the report schema")
    rs = jsonschema_rs.Draft202012Validator(schema)
    return lambda doc: [str(e) for e in rs.iter_errors(doc)]


def _case(log: MemoryEvidenceLog, platform: tuple[PlatformMessage, ...] = ()) -> CaseFile:
    head = log.head()
    assert head is not None
    return CaseFile(
        case="e3:0",
        chain=log.chain,
        conversation="c1",
        subject="m1",
        entries=tuple(log.entries),
        segment=tuple(log.entries),
        head=head,
        participants=(
            Participant("k1", "13_15", "verified", None, "GB", "Europe/London"),
            Participant("m1", "adult"),
        ),
        platform_messages=platform,
    )


@pytest.fixture
def package(tmp_path: Path) -> Path:
    log = MemoryEvidenceLog("acme")
    record_case(log)
    earlier = PlatformMessage("c1-e-1", T0.replace(hour=17), "m1", "hey", ("k1",))
    ref = build_referral(_case(log, (earlier,)), REPORTER, package_id="p1", created_at=T0,
                         priority=Priority(True, "meeting arranged for tonight"))  # fmt: skip
    return write_package(package_files(ref), tmp_path / "pkg")


def test_report_is_schema_valid_with_priority_people_and_complete_conversation(package: Path) -> None:
    report = json.loads((package / "report.json").read_text())
    assert _validator()(report) == []
    assert report["priority"] == {"imminent_danger": True, "reason": "meeting arranged for tonight",
                                  "indicators": ["meeting"]}  # fmt: skip
    assert report["ncmec"]["incidentSummary"]["escalateToHighPriority"] == "meeting arranged for tonight"
    assert report["nca"]["priority"] == "immediate_risk"
    assert report["reported_person"]["platform_id"] == "m1"
    assert report["reported_person"]["ip_capture_events"][0]["ip"] == "203.0.113.7"
    assert report["ncmec"]["reportedPerson"]["ipCaptureEvent"][0]["ipAddress"] == "203.0.113.7"
    assert [v["platform_id"] for v in report["victims"]] == ["k1"] and report["victims"][0][
        "age_band"
    ] == "13_15"
    assert report["reporter"]["email"] == REPORTER.email and report["moderation"][0]["action"]
    conv = json.loads((package / "conversation.json").read_text())
    assert conv["time_zone"] == "UTC" and len(conv["messages"]) == 4
    assert conv["messages"][0]["source"] == "platform" and conv["messages"][0]["sent_at"].endswith("Z")
    assert [m["text"] for m in conv["messages"][1:]][-1] == "let's meet, don't tell your mum"
    assert verify_package(package).ok


def test_invalid_report_fails_the_schema(package: Path) -> None:
    report = json.loads((package / "report.json").read_text())
    report["priority"]["imminent_danger"] = "yes"
    del report["reporter"]["email"]
    assert len(_validator()(report)) >= 2


def test_zip_package_verifies(tmp_path: Path, package: Path) -> None:
    files = read_package(package)
    out = write_package(files, tmp_path / "pkg.zip")
    assert zipfile.is_zipfile(out) and verify_package(out).ok
    with pytest.raises(Exception, match="already exists"):
        write_package(files, out)


def _tamper(package: Path, name: str, fn: Callable[[Any], None], *, fix_manifest: bool = False) -> None:
    doc = json.loads((package / name).read_text())
    fn(doc)
    data = (json.dumps(doc, indent=2) + "\n").encode()
    (package / name).write_bytes(data)
    if fix_manifest:
        import hashlib

        m = json.loads((package / "manifest.json").read_text())
        for f in m["files"]:
            if f["path"] == name:
                f["sha256"], f["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        (package / "manifest.json").write_text(json.dumps(m))


def test_altered_file_fails_on_its_hash(package: Path) -> None:
    _tamper(package, "conversation.json", lambda d: d["messages"][1].update(text="nothing happened"))
    check = verify_package(package)
    assert not check.ok and any("conversation.json: sha256 differs" in p for p in check.problems)


def test_altered_message_fails_against_the_chain_even_with_a_rewritten_manifest(package: Path) -> None:
    _tamper(package, "conversation.json", lambda d: d["messages"][3].update(text="bye"), fix_manifest=True)
    check = verify_package(package)
    assert not check.ok and any("differs from evidence entry" in p for p in check.problems), check.problems


def test_altered_evidence_payload_fails_against_the_sealed_hash(package: Path) -> None:
    def edit(d: Any) -> None:
        d["entries"][0]["payload"] = d["entries"][0]["payload"].replace("hi,", "hello,")

    _tamper(package, "evidence.json", edit, fix_manifest=True)
    check = verify_package(package)
    assert any("payload altered" in p for p in check.problems), check.problems


def test_altered_chain_head_fails(package: Path) -> None:
    _tamper(package, "manifest.json", lambda d: d["chain_head"].update(hash="0" * 64))
    check = verify_package(package)
    assert any("chain head differs" in p for p in check.problems)
    assert any("does not end at the chain head" in p for p in check.problems)


def test_extra_or_missing_files_fail(package: Path) -> None:
    (package / "note.txt").write_text("x")
    (package / "evidence.json").unlink()
    problems = verify_package(package).problems
    assert any("note.txt: not listed" in p for p in problems)
    assert any("evidence.json: listed in the manifest but missing" in p for p in problems)
