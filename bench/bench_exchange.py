"""FollowTheMoney import and export: how long a file takes, beside writing the same records
with ``EntityBatch`` directly (the baseline: the cost of reading and checking FtM on top).

    .venv/bin/python bench/bench_exchange.py [--people 5000] [--batch-size 1000] [--json]

Generates a file of ``people`` persons, as many companies and one Directorship and one
Ownership per person (4 x people lines), imports it into a fresh SQLite database the way
``tollgate intel import-ftm`` does (commit per batch), then registers the same records in
another fresh database with ``EntityBatch`` (same batch size, same commits), then exports a
chart of 5,000 entities as FtM. Prints the figures and peak memory; never asserts a time.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security.access import Actor  # noqa: E402
from app.security.models import Unit, User  # noqa: E402


def generate(people: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(people):
            rows = [
                {"id": f"p{i}", "schema": "Person",
                 "properties": {"name": [f"Person {i} Petrov"], "birthDate": ["1970-01-01"],
                                "passportNumber": [f"P{i:07d}"]}},
                {"id": f"c{i}", "schema": "Company",
                 "properties": {"name": [f"Trading {i} LLC"], "country": ["rs"],
                                "registrationNumber": [f"R{i:08d}"]}},
                {"id": f"d{i}", "schema": "Directorship",
                 "properties": {"director": [f"p{i}"], "organization": [f"c{i}"],
                                "startDate": ["2020-01-01"]}},
                {"id": f"o{i}", "schema": "Ownership",
                 "properties": {"owner": [f"p{i}"], "asset": [f"c{(i + 1) % people}"]}},
            ]  # fmt: skip
            fh.write("".join(json.dumps(r) + "\n" for r in rows))


def _app(tmp: Path, name: str):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / name}",
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": "bench",
            "TOLLGATE_FAST_HASH": True,
            "TOLLGATE_SEARCH_DIR": str(tmp / f"search-{name}"),
        }
    )
    with app.app_context():
        db.create_all()
        unit = Unit(code="BENCH", name="Bench unit")
        db.session.add(unit)
        db.session.flush()
        user = User(
            username="bench",
            full_name="Bench",
            email="b@x.test",
            unit=unit,
            password_hash="!",  # noqa: S106 (no sign-in)
        )
        user.set_roles(["intelligence_officer"])
        db.session.add(user)
        db.session.commit()
    return app


def _actor():
    return Actor.for_user(db.session.scalar(db.select(User)), client_addr="bench")


def run_ftm(tmp: Path, path: Path, batch_size: int) -> dict:
    from app.exchange.ftm_import import FtmImport

    app = _app(tmp, "ftm.db")
    with app.app_context():
        job = FtmImport(_actor(), "C")
        t0 = time.perf_counter()
        created = links = 0
        with path.open("rb") as fh:
            for result in job.run(fh, batch_size):
                assert result.ok, result.errors
                created += len(result.created)
                links += result.links
                db.session.commit()
        seconds = time.perf_counter() - t0
        figures = {"seconds": round(seconds, 1), "entities": created, "links": links}
        from app.exchange import ftm_export

        ids = sorted(job.ids.values())[:5000]
        t0 = time.perf_counter()
        out = ftm_export.export(ids, actor=_actor(), justification="bench", what="bench")
        figures["export_5000_s"] = round(time.perf_counter() - t0, 2)
        figures["export_lines"] = len(out.lines)
    return figures


def run_batch(tmp: Path, people: int, batch_size: int) -> dict:
    from app.intel.bulk import EntityBatch

    app = _app(tmp, "batch.db")
    with app.app_context():
        actor = _actor()
        t0 = time.perf_counter()
        companies, created, links = {}, 0, 0
        step = max(1, batch_size // 4)  # four lines per person, as in the file
        for start in range(0, people, step):
            batch = EntityBatch(actor)
            pairs = []
            for i in range(start, min(people, start + step)):
                p = batch.entity("person", f"Person {i} Petrov", handling_code="C",
                                 identifiers={"passport": f"P{i:07d}"},
                                 attributes={"birth_date": "1970-01-01"},
                                 provenance=("import", None))  # fmt: skip
                c = batch.entity("organisation", f"Trading {i} LLC", handling_code="C",
                                 identifiers={"company_reg": f"R{i:08d}"},
                                 attributes={"country": "RS"},
                                 provenance=("import", None))  # fmt: skip
                companies[i] = c
                batch.link(p, c, "director_of", start_date="2020-01-01", handling_code="C",
                           provenance_type="import")  # fmt: skip
                pairs.append((p, i))
            for p, i in pairs:
                target = companies.get((i + 1) % people)
                if target is not None and (target in batch.entities or target.id is not None):
                    batch.link(p, target, "owns", handling_code="C", provenance_type="import")
            new, made = batch.write(propose=True)
            created += len(new)
            links += len(made)
            db.session.commit()
        seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 1), "entities": created, "links": links}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tollgate-bench-exchange-"))
    path = tmp / "in.ftm.jsonl"
    generate(args.people, path)
    lines = 4 * args.people
    ftm = run_ftm(tmp, path, args.batch_size)
    ftm["lines_per_s"] = round(lines / ftm["seconds"]) if ftm["seconds"] else None
    baseline = run_batch(tmp, args.people, args.batch_size)
    figures = {
        "people": args.people,
        "lines": lines,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "batch_size": args.batch_size,
        "ftm_import": ftm,
        "baseline_entity_batch": baseline,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{lines:,} FtM lines ({figures['file_mib']} MiB), batches of {args.batch_size:,}")
    print(
        f"  FtM import     : {ftm['seconds']:>7} s  {ftm['entities']:,} entities, "
        f"{ftm['links']:,} links ({ftm['lines_per_s']:,} lines/s)"
    )
    print(
        f"  EntityBatch    : {baseline['seconds']:>7} s  {baseline['entities']:,} entities, "
        f"{baseline['links']:,} links (baseline: same records, no FtM)"
    )
    print(f"  FtM export     : {ftm['export_5000_s']} s for a chart of 5,000 entities")
    print(f"  peak RSS       : {figures['peak_rss_mib']} MiB")


if __name__ == "__main__":
    main()
