"""Thin Celery tasks: take ids, call one service, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def run_import(job_id: int) -> None:
    services.run_import(job_id=job_id)


@shared_task(expires=240)
def sweep_engagement_thresholds() -> dict:
    result = services.sweep_engagement_thresholds()
    return {"promoted": result.promoted, "cooled": result.cooled}


@shared_task
def recompute_fit_scores() -> int:
    return services.recompute_fit_scores()


@shared_task
def change_half_life(new_half_life_days: float) -> int:
    return services.change_half_life(new_half_life_days=new_half_life_days)
