"""The declaration's fields by name, in one place: the CSV import (``importer``) builds
declarations and items from them, the ML model (``app.audit.ml``) reads them as its columns
and the audit lifecycle (``app.audit.lifecycle``) takes a declaration's header by them.
Plain names, no models: other domains may import this module."""

#: the coded fields saying where and how a declaration was declared
PROCEDURE_CODES = (
    "office",
    "procedure",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
)
#: the traders a declaration names, by their codes
TRADER_CODES = ("declarant_code", "importer_code", "seller_code", "courier_code")
#: the coded fields of a declaration's header
HEADER_CODES = (*PROCEDURE_CODES, *TRADER_CODES)
#: a declaration's header
DECLARATION_FIELDS = ("number", "declaration_date", *HEADER_CODES)
#: an item's fields the risk and ML models score
SCORED_ITEM_FIELDS = (
    "hs_code",
    "departure_country",
    "origin_country",
    "tax_rate",
    "tax_type",
    "origin_indicator",
    "mass_kg",
    "value",
)
#: an item's fields as stored
ITEM_FIELDS = (*SCORED_ITEM_FIELDS, "description", "quantity", "quantity_unit")
