"""Jobs: list, status, cancel, and waiting for changes."""

from __future__ import annotations

from typing import Any

from ganeti import constants, ht
from ganeti.rapi import OPT_WRITE, apierrors
from ganeti.rapi.baserlib import BULK, DRY_RUN, Resource, name_uri_list

#: Fields of a job in the bulk list (Ganeti's).
JOB_BULK_FIELDS = ("id", "ops", "status", "summary", "opstatus", "received_ts",
                   "start_ts", "end_ts")
#: Fields of /2/jobs/<id> (Ganeti's).
JOB_FIELDS = ("id", "ops", "status", "summary", "opstatus", "opresult", "oplog",
              "received_ts", "start_ts", "end_ts")

#: Seconds /2/jobs/<id>/wait blocks at most before answering "no change" (null).
WAIT_TIMEOUT = 30.0


def parse_job_id(text: str) -> int:
    try:
        job_id = int(text)
    except ValueError:
        job_id = -1
    if job_id < 0:
        raise apierrors.BadRequest("Job id must be a non-negative integer, got %r" % text)
    return job_id


class Jobs(Resource):
    DOC = "The jobs in the queue: ids and URIs, or details with bulk=1."
    GET_QUERY = (BULK,)

    async def handle_get(self) -> Any:
        bulk = self.query_bool("bulk")
        fields = list(JOB_BULK_FIELDS) if bulk else ["id"]
        rows = await self.service.luxi.call("QueryJobs", None, fields)
        rows = [row for row in rows if row is not None]
        if bulk:
            return [dict(zip(fields, row)) for row in rows]
        return name_uri_list(sorted(row[0] for row in rows), "/2/jobs/%s")


class Job(Resource):
    DOC = "One job: GET its status and results, DELETE cancels it."
    DELETE_QUERY = (DRY_RUN,)

    async def handle_get(self) -> Any:
        job_id = parse_job_id(self.items["job_id"])
        rows = await self.service.luxi.call("QueryJobs", [job_id], list(JOB_FIELDS))
        if not rows or rows[0] is None:
            raise apierrors.NotFound("Job %d not found" % job_id)
        return dict(zip(JOB_FIELDS, rows[0]))

    async def handle_delete(self) -> Any:
        job_id = parse_job_id(self.items["job_id"])
        if self.query_bool("dry-run"):
            rows = await self.service.luxi.call("QueryJobs", [job_id], ["status"])
            if not rows or rows[0] is None:
                raise apierrors.NotFound("Job %d not found" % job_id)
            return [rows[0][0] not in constants.JOBS_FINALIZED,
                    "Job %d would be canceled (dry run)" % job_id]
        return await self.service.luxi.call("CancelJob", job_id, False)


class JobWait(Resource):
    DOC = ("Wait (up to 30 s) until a job changes: body 'fields', 'previous_job_info',"
           " 'previous_log_serial'; null when nothing changed.")
    GET_ACCESS = (OPT_WRITE,)
    GET_QUERY = ()
    BODY_DOC = {"GET": "{\"fields\": [job field names], \"previous_job_info\": list or null,"
                       " \"previous_log_serial\": integer or null}"}

    async def handle_get(self) -> Any:
        job_id = parse_job_id(self.items["job_id"])
        body = self.body_dict()
        fields = body.get("fields")
        if not ht.TListOfStrings(fields):
            raise apierrors.BadRequest("Body parameter 'fields' must be a list of job field"
                                       " names, got %s" % ht.describe_value(fields))
        prev_info = body.get("previous_job_info")
        prev_serial = body.get("previous_log_serial")
        if prev_info is not None and not isinstance(prev_info, list):
            raise apierrors.BadRequest("Body parameter 'previous_job_info' must be a list or"
                                       " null, got %s" % ht.describe_value(prev_info))
        if prev_serial is not None and not ht.TNonNegativeInt(prev_serial):
            raise apierrors.BadRequest("Body parameter 'previous_log_serial' must be a"
                                       " non-negative integer or null, got %s"
                                       % ht.describe_value(prev_serial))
        result = await self.service.luxi.call("WaitForJobChange", job_id, fields, prev_info,
                                              prev_serial or 0, WAIT_TIMEOUT)
        if not isinstance(result, list):  # "nochange"
            return None
        job_info, log_entries = result
        return {"job_info": job_info, "log_entries": log_entries}

