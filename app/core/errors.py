"""Errors services raise for bad input: each names the field(s) at fault."""


class ValidationError(ValueError):
    """``fields`` maps a field name or JSON path (``items[2].hs_code``, ``row 14: date``) to
    what is wrong with it. Views show the messages next to the fields; the API answers 422."""

    def __init__(self, fields: dict[str, str] | str, message: str | None = None):
        if isinstance(fields, str):
            fields = {fields: message or "is invalid"}
        self.fields = fields
        summary = "; ".join(f"{k}: {v}" for k, v in fields.items())
        super().__init__(summary)
