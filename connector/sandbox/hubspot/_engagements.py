"""Engagement objects' properties: emails, calls, meetings, notes, tasks (reference §2.2)."""

from __future__ import annotations

from typing import Final

from connector.sandbox.hubspot._propbuild import calculated, common, prop
from connector.sandbox.hubspot._schema import Option, PropertyDef, options

__all__ = ["CALL_DISPOSITIONS", "engagement_properties"]

CALL_DISPOSITIONS: Final = (
    Option("f240bbac-87c9-4f6e-bf70-924b57d47db7", "Connected", 0),
    Option("73a0d17f-1163-4015-bdd5-ec830791da20", "No answer", 1),
    Option("9d9162e7-6cf3-4944-bf63-4dff82258764", "Busy", 2),
    Option("b2cf5968-551e-4856-9783-52b3da59a7d0", "Left live message", 3),
    Option("a4c4c377-d246-4b32-a13b-75a56a4cd0ff", "Left voicemail", 4),
    Option("17b47fee-58de-441e-a44c-c6300d46f273", "Wrong number", 5),
)


def _engagement(kind: str, specific: list[PropertyDef]) -> list[PropertyDef]:
    g = f"{kind}information"
    return [*common(g), prop("hs_timestamp", "Activity date", "datetime", "date", g), *specific]


def _emails() -> list[PropertyDef]:
    g = "emailinformation"
    return _engagement(
        "email",
        [
            prop(
                "hs_email_direction",
                "Email direction",
                "enumeration",
                "select",
                g,
                options=options(
                    ("EMAIL", "Email sent from CRM"),
                    ("INCOMING_EMAIL", "Reply to logged email"),
                    ("FORWARDED_EMAIL", "Email forwarded to CRM"),
                ),
            ),
            prop(
                "hs_email_status",
                "Email send status",
                "enumeration",
                "select",
                g,
                options=options(
                    ("BOUNCED", "Bounced"),
                    ("FAILED", "Failed"),
                    ("SCHEDULED", "Scheduled"),
                    ("SENDING", "Sending"),
                    ("SENT", "Sent"),
                ),
            ),
            prop("hs_email_subject", "Subject", "string", "text", g),
            prop("hs_email_text", "Body", "string", "textarea", g),
            prop("hs_email_html", "HTML body", "string", "html", g),
            prop("hs_email_headers", "Email headers", "string", "textarea", g),
            prop("hs_attachment_ids", "Attachment IDs", "enumeration", "checkbox", g),
            calculated("hs_email_open_count", "Number of opens", "number", "number", g),
            calculated("hs_email_click_count", "Number of clicks", "number", "number", g),
            calculated("hs_email_from_email", "From email", "string", "text", g),
            calculated("hs_email_to_email", "To email", "string", "text", g),
        ],
    )


def _calls() -> list[PropertyDef]:
    g = "callinformation"
    return _engagement(
        "call",
        [
            prop(
                "hs_call_direction",
                "Call direction",
                "enumeration",
                "select",
                g,
                options=options(("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")),
            ),
            prop(
                "hs_call_status",
                "Call status",
                "enumeration",
                "select",
                g,
                options=options(
                    *(
                        (s, s.replace("_", " ").title())
                        for s in (
                            "BUSY",
                            "CALLING_CRM_USER",
                            "CANCELED",
                            "COMPLETED",
                            "CONNECTING",
                            "FAILED",
                            "IN_PROGRESS",
                            "MISSED",
                            "NO_ANSWER",
                            "QUEUED",
                            "RINGING",
                        )
                    )
                ),
            ),
            prop(
                "hs_call_disposition",
                "Call outcome",
                "enumeration",
                "select",
                g,
                options=CALL_DISPOSITIONS,
            ),
            prop("hs_call_duration", "Call duration (ms)", "number", "number", g),
            prop("hs_call_title", "Call title", "string", "text", g),
            prop("hs_call_body", "Call notes", "string", "html", g),
            prop("hs_call_callee_object_id", "Callee object id", "number", "number", g),
            prop("hs_call_callee_object_type", "Callee object type", "string", "text", g),
        ],
    )


def _meetings() -> list[PropertyDef]:
    g = "meetinginformation"
    return _engagement(
        "meeting",
        [
            prop(
                "hs_meeting_outcome",
                "Meeting outcome",
                "enumeration",
                "select",
                g,
                options=options(
                    ("SCHEDULED", "Scheduled"),
                    ("COMPLETED", "Completed"),
                    ("RESCHEDULED", "Rescheduled"),
                    ("NO_SHOW", "No Show"),
                    ("CANCELLED", "Canceled"),
                ),
            ),
            prop("hs_meeting_start_time", "Start time", "datetime", "date", g),
            prop("hs_meeting_end_time", "End time", "datetime", "date", g),
            prop("hs_meeting_title", "Meeting name", "string", "text", g),
            prop("hs_meeting_body", "Meeting description", "string", "html", g),
            prop("hs_internal_meeting_notes", "Internal notes", "string", "html", g),
            prop("hs_meeting_external_url", "External URL", "string", "text", g),
            prop("hs_meeting_location", "Location", "string", "text", g),
        ],
    )


def _notes() -> list[PropertyDef]:
    g = "noteinformation"
    return _engagement("note", [prop("hs_note_body", "Note body", "string", "html", g)])


def _tasks() -> list[PropertyDef]:
    g = "taskinformation"
    return _engagement(
        "task",
        [
            prop("hs_task_subject", "Task title", "string", "text", g),
            prop("hs_task_body", "Task notes", "string", "html", g),
            prop(
                "hs_task_status",
                "Task status",
                "enumeration",
                "select",
                g,
                options=options(
                    ("NOT_STARTED", "Not started"),
                    ("IN_PROGRESS", "In progress"),
                    ("COMPLETED", "Completed"),
                    ("DEFERRED", "Deferred"),
                    ("WAITING", "Waiting"),
                ),
            ),
            prop(
                "hs_task_priority",
                "Priority",
                "enumeration",
                "select",
                g,
                options=options(("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")),
            ),
            prop(
                "hs_task_type",
                "Task type",
                "enumeration",
                "select",
                g,
                options=options(("TODO", "To-do"), ("CALL", "Call"), ("EMAIL", "Email")),
            ),
        ],
    )


def engagement_properties() -> dict[str, list[PropertyDef]]:
    return {
        "emails": _emails(),
        "calls": _calls(),
        "meetings": _meetings(),
        "notes": _notes(),
        "tasks": _tasks(),
    }
