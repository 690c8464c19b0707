"""Email: a subject SNS accepts, a body that stands alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lambdas.notifier.email_message import BODY_LIMIT, SUBJECT_LIMIT, build_email, email_subject
from tests.unit.notifier.factories import notification


def test_subject_says_severity_environment_what_and_service() -> None:
    assert email_subject(notification()) == "[CRITICAL] LMS production: Deployment failed (backend)"


def test_body_stands_alone() -> None:
    # Given a failed deployment
    subject = notification()
    # When it becomes an email
    body = build_email(subject).body
    # Then someone reading only the email has every fact, the reason, the evidence and the link
    for expected in (
        "Deployment failed - LMS production",
        "Environment: production",
        "Service:     backend",
        "Version:     lms-production-backend:42",
        "Deployment:  d-ABCDEF123",
        "Severity:    critical",
        "When:        2026-03-10 09:27:40 UTC",
        "  CodeDeploy reported FAILURE.",
        '  alarms: ["lms-production-5xx"]',
        f"AWS console: {subject.console_url}",
        "event e-1",
    ):
        assert expected in body


def test_huge_evidence_is_cut_to_keep_the_email_readable() -> None:
    body = build_email(notification(evidence={"log": "y" * (BODY_LIMIT * 2)})).body
    assert len(body) <= BODY_LIMIT
    assert "(truncated; see the AWS console)" in body
    assert body.rstrip().endswith("notifications.")


@given(title=st.text(min_size=1, max_size=300), service=st.one_of(st.none(), st.text(max_size=200)))
def test_any_subject_is_short_ascii_and_one_line(title: str, service: str | None) -> None:
    subject = email_subject(notification(title=title, service=service))
    assert len(subject) <= SUBJECT_LIMIT
    assert subject.isascii()
    assert "\n" not in subject
    assert "\r" not in subject
    assert subject.startswith("[CRITICAL] LMS production:")
