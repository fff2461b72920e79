"""Verifiable reports: a genuine report verifies; every forgery is refused with its own reason."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta

import pytest

from safeguarding.client import ClientSession
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import (
    Rejection,
    Report,
    RevealedMessage,
    ServerKey,
    ServerKeyRing,
    VerificationError,
    commit,
    verify_report,
)
from safeguarding.e2ee.reports import report_signed_bytes

LINES = ["you seem really mature for your age", "this is our secret ok, dont tell your mum", "lol ok"]


def reported(relay: LocalRelay, pair: tuple[ClientSession, ClientSession]) -> Report:
    """``a1`` sends three lines to ``k1``; ``k1`` replies once; ``k1`` reports the first two lines."""
    a, k = pair
    ids = [relay.send(a, "c1", line)[0].envelope.message_id for line in LINES]
    relay.send(k, "c1", "stop it")
    return k.report("c1", ids[:2])


def check(report: Report, relay: LocalRelay, *, ledger: bool = True, **kw):  # type: ignore[no-untyped-def]
    return verify_report(
        report,
        keyring=relay.keyring,
        directory=relay.directory,
        ledger=relay.ledger if ledger else None,
        **kw,
    )


def refused(report: Report, relay: LocalRelay, code: Rejection, **kw) -> VerificationError:  # type: ignore[no-untyped-def]
    with pytest.raises(VerificationError) as exc:
        check(report, relay, **kw)
    assert exc.value.code is code, str(exc.value)
    return exc.value


def resign(report: Report, k: ClientSession, messages: tuple[RevealedMessage, ...]) -> Report:
    """What a dishonest reporter can do: change what he reveals and sign it with his own device key."""
    signed = report_signed_bytes(
        report_id=report.report_id,
        reporter=report.reporter,
        reporter_device=report.reporter_device,
        conversation=report.conversation,
        reason=report.reason,
        created_at=report.created_at,
        messages=messages,
    )
    return replace(report, messages=messages, signature=k.keys.sign(signed))


def test_a_genuine_report_verifies_with_and_without_the_ledger(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = Report.from_dict(json.loads(json.dumps(reported(relay, pair).to_dict())))
    for ledger in (True, False):
        v = check(report, relay, ledger=ledger, reporter="k1", now=relay.clock.now())
        assert v.accused == ("a1",) and v.reporter == "k1" and v.conversation == "c1"
        assert [m.text for m in v.messages] == LINES[:2]
        assert all(m.sender == "a1" and m.recipients == ("k1",) for m in v.messages)


def test_altered_plaintext_is_refused(relay: LocalRelay, pair: tuple[ClientSession, ClientSession]) -> None:
    report = reported(relay, pair)
    m = report.messages[0]
    forged = resign(report, pair[1], (replace(m, text=m.text + " and send me a pic"), report.messages[1]))
    err = refused(forged, relay, Rejection.ALTERED_PLAINTEXT)
    assert err.message_id == m.message_id


def test_a_forged_franking_tag_is_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    m = report.messages[0]
    forged = resign(report, pair[1], (replace(m, server_tag=os.urandom(32)),))
    refused(forged, relay, Rejection.FORGED_TAG)
    refused(forged, relay, Rejection.FORGED_TAG, ledger=False)
    unknown_key = resign(report, pair[1], (replace(m, server_key_id="k-1999"),))
    refused(unknown_key, relay, Rejection.FORGED_TAG, ledger=False)


def test_a_new_commitment_for_new_text_does_not_match_the_stamp(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    """The reporter commits to text of his own choosing: the commitment then differs from the stamped one."""
    report = reported(relay, pair)
    m = report.messages[0]
    fk = os.urandom(32)
    text = "meet me tonight, alone"
    c = commit(fk, message_id=m.message_id, conversation=m.conversation, sender=m.sender, text=text)
    forged = resign(report, pair[1], (replace(m, text=text, franking_key=fk, commitment=c),))
    refused(forged, relay, Rejection.FORGED_TAG)
    refused(forged, relay, Rejection.FORGED_TAG, ledger=False)


def test_the_wrong_sender_claimed_is_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    a2 = relay.device("a2")
    report = reported(relay, pair)
    m = report.messages[0]
    blamed = resign(report, pair[1], (replace(m, sender="a2", sender_device=a2.device),))
    refused(blamed, relay, Rejection.WRONG_SENDER)
    refused(blamed, relay, Rejection.FORGED_TAG, ledger=False)  # the tag alone cannot say more


def test_a_report_of_a_message_never_sent_is_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    m = report.messages[0]
    invented = resign(report, pair[1], (replace(m, message_id="0" * 32),))
    refused(invented, relay, Rejection.NEVER_SENT)
    refused(invented, relay, Rejection.FORGED_TAG, ledger=False)


def test_stamped_metadata_cannot_be_changed(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    m = report.messages[0]
    later = resign(report, pair[1], (replace(m, received_at=m.received_at + timedelta(hours=5)),))
    refused(later, relay, Rejection.FORGED_TAG)
    refused(later, relay, Rejection.FORGED_TAG, ledger=False)


def test_only_a_recipient_can_report_and_only_in_their_own_name(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    refused(report, relay, Rejection.SENDER_MISMATCH, reporter="x1")
    outsider = relay.device("x1")  # got the revealed message forwarded and reports it as his own
    signed = report_signed_bytes(
        report_id=report.report_id,
        reporter="x1",
        reporter_device=outsider.device,
        conversation=report.conversation,
        reason=report.reason,
        created_at=report.created_at,
        messages=report.messages,
    )
    stolen = replace(
        report, reporter="x1", reporter_device=outsider.device, signature=outsider.keys.sign(signed)
    )
    refused(stolen, relay, Rejection.NOT_A_RECIPIENT)


def test_the_report_signature_covers_every_revealed_field(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    refused(replace(report, messages=report.messages[:1]), relay, Rejection.BAD_SIGNATURE)
    refused(replace(report, reason="spam"), relay, Rejection.BAD_SIGNATURE)
    refused(replace(report, reporter_device="ghost"), relay, Rejection.UNKNOWN_DEVICE)


def test_reports_out_of_time_are_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    refused(report, relay, Rejection.STALE, now=report.created_at + timedelta(days=2))
    refused(report, relay, Rejection.STALE, now=report.created_at - timedelta(hours=1))


def test_the_sender_signature_is_checked_too(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    m = report.messages[0]
    refused(resign(report, pair[1], (replace(m, signature=bytes(64)),)), relay, Rejection.BAD_SIGNATURE)


def test_a_group_report_names_each_sender(relay: LocalRelay) -> None:
    a, b, k = relay.device("a1"), relay.device("b1"), relay.device("k1")
    relay.open(a, "g", ["a1", "b1", "k1"], group="grp")
    m1 = relay.send(a, "g", "hey kid what school do you go to")[1].envelope.message_id
    m2 = relay.send(b, "g", "add me on snap, dont tell the others")[1].envelope.message_id
    v = check(k.report("g", [m1, m2]), relay)
    assert v.accused == ("a1", "b1")
    assert [m.recipients for m in v.messages] == [("b1", "k1"), ("a1", "k1")]


def test_a_report_must_name_messages_of_one_conversation(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    with pytest.raises(VerificationError, match="reported twice"):
        replace(report, messages=(report.messages[0], report.messages[0]))
    with pytest.raises(VerificationError, match="reported conversation"):
        replace(report, conversation="c9")


def test_reports_stamped_before_a_key_rotation_still_verify(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    report = reported(relay, pair)
    rotated = ServerKeyRing(ServerKey.generate("k-2026-07"), [relay.keyring.current])
    v = verify_report(report, keyring=rotated, directory=relay.directory, ledger=relay.ledger)
    assert len(v.messages) == 2
    with pytest.raises(VerificationError) as exc:
        verify_report(
            report, keyring=ServerKeyRing(ServerKey.generate("k-2026-01")), directory=relay.directory
        )
    assert exc.value.code is Rejection.FORGED_TAG  # same key id, other secret: a forged tag
