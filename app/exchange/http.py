"""Responses shared by the pages' and the API's exports (files with their media types)."""

from flask import Response

FTM_MIMETYPE = "application/x-ndjson"
STIX_MIMETYPE = "application/stix+json;version=2.1"


def download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def ftm_file(out, filename: str) -> Response:
    """An FtM export as a file; ``X-Tollgate-Left-Out`` names the entity types that had no
    FtM schema, so the reader knows the file is not the whole chart."""
    response = download(out.body, FTM_MIMETYPE, filename)
    if out.left_out:
        response.headers["X-Tollgate-Left-Out"] = ", ".join(
            f"{k}={v}" for k, v in sorted(out.left_out.items())
        )
    return response
