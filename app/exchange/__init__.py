"""Exchange with other systems: FollowTheMoney (Aleph, OpenSanctions) and STIX 2.1 (MISP,
OpenCTI) in and out of the entity registry. ``app.exchange.ftm`` is the reusable FtM reader."""
