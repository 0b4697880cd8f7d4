"""Evidence files: type by content sniffing, size cap, random names outside the web root.

Files are never served from a static path: the download route checks need-to-know, writes a
trail row and answers with ``Content-Disposition: attachment`` and the sniffed type only.
"""

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

from flask import current_app

from app.cases.models import Evidence
from app.cases.service import _case_for_edit, _require_open, get_case, journal
from app.core.errors import ValidationError
from app.extensions import db
from app.security import trail
from app.security.access import Actor, NotFound

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

#: sniffed type -> file extension used for downloads
ALLOWED_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/tiff": "tif",
    "application/pdf": "pdf",
}


def sniff(head: bytes) -> str | None:
    """The type the first bytes prove, or None. Names and browser-sent types are ignored."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def evidence_dir() -> Path:
    path = Path(current_app.config["TOLLGATE_EVIDENCE_DIR"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def max_bytes() -> int:
    return int(current_app.config["TOLLGATE_EVIDENCE_MAX_BYTES"])


def safe_display_name(name: str | None) -> str:
    """A display name without paths, control characters or quotes (never used on disk)."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>;')
    return name.strip()[:200] or "evidence"


def store_evidence(
    case_id, stream, filename, *, actor: Actor, description=None, field="file"
) -> Evidence:
    """Check and store one uploaded file for a case; ``stream`` is a binary file object."""
    case = _case_for_edit(case_id, actor)
    _require_open(case)
    limit = max_bytes()
    data = stream.read(limit + 1)
    if not data:
        raise ValidationError({field: "the file is empty"})
    if len(data) > limit:
        size = f"{limit / 1048576:.0f} MB" if limit >= 1048576 else f"{limit:,} bytes"
        raise ValidationError({field: f"the file is larger than the limit of {size}"})
    content_type = sniff(data[:16])
    if content_type is None:
        raise ValidationError(
            {
                field: "only photos (PNG, JPEG, GIF, WebP, TIFF) and PDF "
                "documents are accepted; the content is not one of them"
            }
        )
    stored = secrets.token_hex(20)
    description = (description or "").strip()[:500] or None
    evidence = Evidence(
        case=case,
        stored_name=stored,
        original_name=safe_display_name(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        description=description,
        uploaded_by_id=actor.user_id,
        uploaded_by_name=actor.username,
    )
    db.session.add(evidence)
    journal(
        case,
        actor,
        "evidence",
        f"Evidence added: {evidence.original_name} ({content_type}, {len(data)} bytes).",
    )
    db.session.flush()
    # Written after the row is accepted; if the transaction later rolls back, the file is an
    # unreachable orphan under a random name (callers that can, remove it: discard_files).
    fd = os.open(evidence_dir() / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    trail.record(actor, "create", "evidence", evidence.id, details={"case_id": case.id})
    return evidence


def discard_files(evidence_rows) -> None:
    """Remove files written for rows whose transaction was rolled back."""
    for row in evidence_rows:
        try:
            (evidence_dir() / row.stored_name).unlink(missing_ok=True)
        except OSError:
            current_app.logger.warning("could not remove evidence file %s", row.stored_name)


def open_evidence(case_id, evidence_id, *, actor: Actor) -> tuple[Evidence, Path, str]:
    """The evidence row, its path and a download name; the download goes in the trail."""
    case = get_case(case_id, actor=actor, log=False)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.case_id != case.id:
        raise NotFound()
    path = evidence_dir() / evidence.stored_name
    if not path.is_file():
        raise NotFound("The evidence file is missing from storage.")
    trail.record(
        actor, "view", "evidence", evidence.id, details={"case_id": case.id, "download": True}
    )
    stem = safe_display_name(evidence.original_name).rsplit(".", 1)[0]
    return evidence, path, f"{stem}.{ALLOWED_TYPES[evidence.content_type]}"
