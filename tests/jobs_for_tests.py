"""Jobs used only by tests, importable by a worker process started from the project root."""

from hotline.jobs.context import job

CANARY = "+84900999111 canary-note-Nguyễn"


@job
def fail_with_personal_value() -> None:
    """Fail the way a database error would: with a personal value in the message."""
    raise ValueError(f"could not store {CANARY}")
