"""The scheduler: in-memory APScheduler jobs that run sweeps; the database holds every fact.

``scheduler.sweep.run_sweep`` is one pass (plan, insert, deliver);
``scheduler.delivery.outbox`` delivers exactly once; ``scheduler.jobs.start_scheduler`` runs
the sweep every minute, the weekly digest at its cron time and a daily retention pass.
"""
