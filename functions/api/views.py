"""From state records to what the submitter sees."""

from __future__ import annotations

from functions.domain.models import Decision, PrescreenFlag, ReleaseLinks, ReleaseView
from functions.domain.records import ReleaseRecord


def view_of(record: ReleaseRecord, api_root: str) -> ReleaseView:
    decision = None
    if record.decision:
        # The moderator's identity is recorded for audit, never shown to the submitter.
        decision = Decision(
            action=record.decision["action"],
            reason_codes=list(record.decision.get("reason_codes") or []),
            note=record.decision.get("note"),
            decided_at=record.decision["decided_at"],
            version=int(record.decision.get("version", record.version)),
        )
    return ReleaseView(
        id=record.release_id,
        status=record.status,
        version=record.version,
        category=record.category,  # type: ignore[arg-type]
        headline=record.headline,
        language=record.language,
        created_at=record.created_at,
        updated_at=record.updated_at,
        release_at=record.release_at,
        published_at=record.published_at,
        decision=decision,
        prescreen_flags=[PrescreenFlag(code=f.code, message=f.message) for f in record.prescreen],
        public_url=record.public_url,
        links=ReleaseLinks(self=f"{api_root}/releases/{record.release_id}", public=record.public_url),
    )
