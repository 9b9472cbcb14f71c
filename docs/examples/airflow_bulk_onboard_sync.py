"""Airflow DAG: the nightly `bulk-onboard sync` (see docs/scheduling.md).

Put this file in the DAGs folder of a deployment where `bulk-onboard` is installed on the workers,
and keep the API key in an Airflow connection named `mailreach` (its password field).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:
    from airflow.providers.standard.operators.bash import BashOperator  # Airflow 3
except ImportError:
    from airflow.operators.bash import BashOperator  # Airflow 2.6+

with DAG(
    dag_id="bulk_onboard_sync",
    schedule="30 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,  # one sync brings MailReach up to date: missed nights need no replay
    max_active_runs=1,  # never two syncs at once
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["mailreach", "bulk-onboard"],
) as dag:
    BashOperator(
        task_id="sync",
        bash_command=(
            "bulk-onboard sync /data/bulk-onboard/mailboxes.csv --out /data/bulk-onboard/output"
            " --log-format json --no-progress"
        ),
        env={"MAILREACH_API_KEY": "{{ conn.mailreach.password }}"},
        append_env=True,
        # 75: another sync holds the lock; this one did nothing. Shown as skipped, not failed.
        skip_on_exit_code=75,
        execution_timeout=timedelta(hours=4),
    )
