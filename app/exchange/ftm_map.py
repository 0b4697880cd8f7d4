"""How Tollgate's entity types, identifiers, attributes and link kinds read in FollowTheMoney.

Both directions use these tables, so what the export writes the import reads back:

- entity types: person <-> Person; organisation <-> Company (Organization, LegalEntity and
  PublicBody are read as organisations too); vessel <-> Vessel; vehicle <-> Vehicle;
  aircraft <-> Airplane; address <-> Address (its ``full`` text is the name); bank_account
  <-> BankAccount. Containers, phones, e-mail addresses and identity documents have no FtM
  schema of their own: an export leaves them out and says how many.
- identifiers: the scheme's FtM property where the schema has one (``IDENTIFIER_PROPS``);
  any other scheme (EORI, trader code, identity card, VIN) travels as an ``Identification``
  entity whose ``holder`` is the entity, ``type`` the scheme and ``number`` the value.
  A ``Passport`` is read as the holder's passport number.
- links: ``LINK_SCHEMATA`` (Ownership, Directorship, Family, Associate, Employment,
  Representation); every other kind is an ``UnknownLink`` whose ``role`` is the kind's
  name (``drives``, ``importer_of``). An ``addressEntity`` of a person reads as ``lives_at``,
  of anything else as ``registered_at``.
- Tollgate's handling code and a link's 3x5x2 grade ride on each line as the top-level keys
  ``handling_code`` and ``grade`` (FtM readers keep unknown top-level keys as context).
"""

#: FtM schema -> Tollgate entity type, for reading
SCHEMA_TYPES = {
    "Person": "person",
    "LegalEntity": "organisation",
    "Organization": "organisation",
    "Company": "organisation",
    "PublicBody": "organisation",
    "Vessel": "vessel",
    "Vehicle": "vehicle",
    "Airplane": "aircraft",
    "Address": "address",
    "BankAccount": "bank_account",
}
#: Tollgate entity type -> FtM schema, for writing
TYPE_SCHEMATA = {
    "person": "Person",
    "organisation": "Company",
    "vessel": "Vessel",
    "vehicle": "Vehicle",
    "aircraft": "Airplane",
    "address": "Address",
    "bank_account": "BankAccount",
}
#: per entity type: identifier scheme -> the FtM property holding it
IDENTIFIER_PROPS = {
    "person": {
        "passport": "passportNumber",
        "national_id": "idNumber",
        "tin": "taxNumber",
        "email": "email",
        "phone": "phone",
    },
    "organisation": {
        "tin": "taxNumber",
        "company_reg": "registrationNumber",
        "email": "email",
        "phone": "phone",
    },
    "vessel": {"imo": "imoNumber", "mmsi": "mmsi"},
    "vehicle": {"plate": "registrationNumber"},
    "aircraft": {"aircraft_reg": "registrationNumber"},
    "bank_account": {"iban": "iban"},
}
#: Tollgate attribute -> FtM property (other FtM properties are kept under their own name)
ATTRIBUTE_PROPS = {
    "birth_date": "birthDate",
    "birth_place": "birthPlace",
    "nationality": "nationality",
    "country": "country",
    "gender": "gender",
    "flag": "flag",
    "model": "model",
}
#: properties that are the entity's names (the first ``name`` is its name, the rest aliases)
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")
#: FtM properties never copied into attributes: names, identifiers, links, bookkeeping
SKIPPED_PROPS = {*NAME_PROPS, "full", "addressEntity", "indexText", "modifiedAt", "createdAt"}
#: the schemata of an identifier held by another entity
IDENTIFICATION_SCHEMATA = {"Identification", "Passport"}
#: FtM interval schema -> (Tollgate link kind, source property, target property)
LINK_SCHEMATA = {
    "Ownership": ("owns", "owner", "asset"),
    "Directorship": ("director_of", "director", "organization"),
    "Family": ("family_of", "person", "relative"),
    "Associate": ("associate_of", "person", "associate"),
    "Employment": ("employs", "employer", "employee"),
    "Representation": ("represents", "agent", "client"),
    "UnknownLink": (None, "subject", "object"),
}
#: a shareholding is an Ownership with this ``ownershipType``
SHAREHOLDING = "shareholding"


def link_schema(link_type: str) -> tuple[str, str, str, dict]:
    """(schema, source property, target property, extra properties) of a Tollgate link kind."""
    if link_type == "shareholder_of":
        return "Ownership", "owner", "asset", {"ownershipType": [SHAREHOLDING]}
    for schema, (kind, source, target) in LINK_SCHEMATA.items():
        if kind == link_type:
            return schema, source, target, {}
    return "UnknownLink", "subject", "object", {"role": [link_type]}


def link_kind(schema: str, proxy, link_types) -> str | None:
    """The Tollgate link kind of an FtM interval entity; None when it has none."""
    kind = LINK_SCHEMATA[schema][0]
    if schema == "Ownership":
        kinds = [t.lower() for t in proxy.get("ownershipType")]
        return "shareholder_of" if any("share" in t for t in kinds) else "owns"
    if kind is not None:
        return kind
    roles = proxy.get("role")
    by_label = {label: key for key, label in link_types.items()}
    for role in roles[:1]:
        role = role.strip()
        return role if role in link_types else by_label.get(role.lower())
    return None
