"""Tasks in the API (DESIGN.md section 11): the operators' work queue, closing a task with
its outcome, and a voicemail's audio fetched by the server."""

from __future__ import annotations

from flask import Response, abort, g, jsonify, request
from flask_babel import gettext as _

from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import error, json_body, unprocessable
from hotline.api.responses import Audio, Error, TaskDoneBody, TaskItem, TaskList, TaskQuery
from hotline.api.schema import documented
from hotline.cases.access import iso
from hotline.tasks.work import AlreadyDone, TaskView, close_task, list_tasks, recording_of, views
from hotline.telephony import RecordingUnavailable
from models import Task, db

MAX_ID = 2**31 - 1


def task_json(view: TaskView) -> dict:
    t = view.task
    return {
        "id": t.id,
        "kind": t.kind,
        "created_at": iso(t.created_at),
        "status": t.status,
        "case_reference": view.case_reference,
        "has_recording": view.has_recording,
        "outcome": t.outcome,
        "done_at": iso(t.done_at),
    }


def _task_or_404(task_id: int) -> Task:
    task = db.session.get(Task, task_id) if task_id <= MAX_ID else None
    if task is None:
        abort(404)
    return task


@bp.get("/tasks")
@documented(
    "listTasks",
    query=TaskQuery,
    responses={200: (TaskList, "Open tasks oldest first; done ones newest first.")},
    description="Operators only.",
)
@token_required("operator")
def tasks():
    """Work waiting for an operator."""
    status = request.args.get("status") or "open"
    if status not in ("open", "done"):
        return unprocessable({"status": [_("Status is open or done.")]})
    return jsonify(items=[task_json(v) for v in list_tasks(status)])


@bp.post("/tasks/<int:task_id>/done")
@documented(
    "closeTask",
    body=TaskDoneBody,
    responses={
        200: (TaskItem, "Closed."),
        404: (Error, "No such task."),
        409: (Error, "The task was closed already."),
    },
    description="Operators only.",
)
@token_required("operator")
def task_done(task_id: int):
    """Close a task with its outcome."""
    task = _task_or_404(task_id)
    body = json_body(object_only=True)
    try:
        close_task(task, g.api_user, body.get("outcome"), body.get("note"))
    except AlreadyDone:
        db.session.rollback()
        return error(409, _("This task was already closed."))
    payload = task_json(views([task])[0])
    db.session.commit()
    return jsonify(payload)


@bp.get("/tasks/<int:task_id>/recording")
@documented(
    "getTaskRecording",
    responses={
        200: (Audio, "The voicemail's audio, with the provider's Content-Type."),
        404: (Error, "No such task, no recording, or not an operator."),
        502: (Error, "The provider could not give the recording now."),
    },
    description="Operators only (other roles get 404). Fetched by the server with the "
    "provider's credentials; audit-logged.",
)
@token_required()
def task_recording(task_id: int):
    """Play a voicemail."""
    if g.api_user.role != "operator":
        abort(404)
    return recording_response(_task_or_404(task_id), g.api_user)


def recording_response(task: Task, user) -> Response:
    """The audio as an HTTP answer (shared with the board's player)."""
    try:
        recording = recording_of(task, user)
    except LookupError:
        abort(404)
    except RecordingUnavailable as exc:
        if exc.code == "gone":
            abort(404)
        return error(502, _("The recording cannot be fetched right now. Try again later."))
    content_type = recording.content_type
    if not content_type.startswith("audio/"):
        return error(502, _("The recording cannot be fetched right now. Try again later."))
    response = Response(recording.content, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
