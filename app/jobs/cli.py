"""``tollgate worker`` and ``tollgate jobs``."""

import click
from flask import current_app
from flask.cli import with_appcontext

from app.jobs.registry import registered_jobs


@click.command("worker")
def worker_command():
    """Run the one scheduler process (waits if another worker already runs)."""
    from app.jobs.scheduler import run_worker

    run_worker(current_app._get_current_object())


jobs = click.Group("jobs", help="Scheduled jobs.")


@jobs.command("list")
@with_appcontext
def jobs_list():
    for spec in registered_jobs(current_app):
        click.echo(f"{spec.id:30} {spec.trigger} {spec.trigger_args}  {spec.description}")


@jobs.command("run")
@click.argument("job_id")
@with_appcontext
def jobs_run(job_id):
    """Run one job now, in this process."""
    from app.jobs.scheduler import run_job

    specs = {s.id: s for s in registered_jobs(current_app)}
    if job_id not in specs:
        raise click.BadParameter(f"unknown job {job_id}; see `tollgate jobs list`")
    run_job(current_app._get_current_object(), specs[job_id])


def init_app(app):
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs)
