"""What each role of template.yaml may do with AWS, and the code path that needs it.

tests/contract/test_iam_least_privilege.py holds the template to exactly these rows; the embedded
runtime's recorder (tests/e2e/test_iam_audit_runtime.py) checks that they are enough for the calls the
code really makes. A change of what a function calls changes a row here and a statement there.

Resources read as the template writes them: ``${MediaBucket.Arn}/tasks/*`` is every object under
``tasks/``; ``*`` in an IAM resource spans ``/``. Key families: domain/task_data.py (DataKeys),
domain/uploads.py, domain/exports.py, domain/analytics.py, domain/drops.py,
adapters/aws/annotations.py, services/auto_annotation.py.

Two rules of S3 decide several rows:
- GetObject/HeadObject of a missing key answers 404 only to a caller that may s3:ListBucket the
  bucket (without a prefix condition: the check carries no prefix); otherwise 403. Functions
  whose code treats "not found" as an answer (an expired export, an upload id, a restore's first
  run, a frame made once) hold an unconditioned ListBucket; listing reveals names, never content.
- boto3's managed transfers (upload/copy above 64 MiB) abort a failed multipart upload: a function
  writing large objects may s3:AbortMultipartUpload where it writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class Role:
    principal: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)


B = "${MediaBucket.Arn}"
T = "${DataTable.Arn}"
BUS = "${EventBus.Arn}"
UPLOADS = f"{B}/${{UploadPrefix}}*"  # the drop folder (UploadPrefix, default uploads/)


def objects(*prefixes: str) -> tuple[str, ...]:
    return tuple(f"{B}/{prefix}" for prefix in prefixes)


STATES = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"


def executions(*workflows: str) -> tuple[str, ...]:
    return tuple(f"{STATES}:execution:${{AWS::StackName}}-{w}:*" for w in workflows)


DDB_READ_WRITE = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                  "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
"""What PynamoDB asks for (Model.get/batch_get/query/count/save/update/delete/batch_write, and
TransactWriteItems, which IAM checks per item as PutItem/UpdateItem/DeleteItem). No Scan (only
`cvat-serverless migrate`, under the operator's credentials), no DescribeTable (PynamoDB builds
the table's metadata from the models), no index (the table has none)."""

# Actions IAM has no resource type for, so that "*" is the only resource a statement can name.
UNSCOPABLE = (
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "states:SendTaskSuccess",  # answers a task token, which names no resource
)

TABLE = Grant("Table", DDB_READ_WRITE, (T,), "every service's repositories; an API call writes even to "
              "authenticate (a token's last use, login attempts, expired sessions)")
EVENTS = Grant("DomainEvents", ("events:PutEvents",), (BUS,), "services/common.py: domain events for webhooks "
               "and analytics")
LIST = Grant("ListForNotFound", ("s3:ListBucket",), (B,), "a missing object answers 404, not 403 (see above)")
SNAPSHOTS = Grant("AnnotationSnapshots", ("s3:GetObjectVersion", "s3:PutObject"),
                  objects("annotations/jobs/*"), "adapters/aws/annotations.py: one versioned snapshot per job, "
                  "written whole and read by its version id (which S3 authorises as GetObjectVersion alone)")
FRAME_SIZES = Grant("FrameSizes", ("s3:GetObject",), objects("tasks/*/data/*/frames.json"),
                    "frames.json: the frames' sizes and names, to check and clip shapes")


def function(name: str, *grants: Grant) -> Role:
    """A function's role: its own log group and X-Ray (FunctionTracingPolicy), then ``grants``."""
    logs = Grant("Logs", ("logs:CreateLogStream", "logs:PutLogEvents"), (f"${{{name}LogGroup.Arn}}",),
                 "its own log group (LoggingConfig), kept LogRetentionDays")
    tracing = Grant("Tracing", ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), ("*",),
                    "Tracing: Active (FunctionTracingPolicy)")
    return Role("lambda.amazonaws.com", (logs, tracing, *grants))


def poll(*queues: str) -> Grant:
    return Grant("PollQueues", ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
                 tuple(f"${{{q}.Arn}}" for q in queues), "its SQS event source mappings")


def state_machine(steps: tuple[str, ...], distributed: str | None = None) -> Role:
    grants = [
        Grant("Tracing", ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                          "xray:GetSamplingTargets"), ("*",), "Tracing (StateMachineObservabilityPolicy)"),
        Grant("LogDelivery [if LogStateMachines]",
              ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
               "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
               "logs:DescribeLogGroups"), ("*",),
              "execution logs to StateMachinesLogGroup (StateMachineLogLevel != OFF)",
              ),
        Grant("InvokeSteps", ("lambda:InvokeFunction",), tuple(f"${{{s}.Arn}}" for s in steps), "its Task states"),
    ]
    if distributed:
        grants += [
            Grant("DistributedMapChildren", ("states:StartExecution",),
                  (f"{STATES}:stateMachine:${{AWS::StackName}}-{distributed}",),
                  "a Distributed Map runs its items as child executions"),
            Grant("DistributedMapChildrenState", ("states:DescribeExecution", "states:StopExecution"),
                  (f"{STATES}:execution:${{AWS::StackName}}-{distributed}/*",),
                  "the Map run follows and stops its children"),
        ]
    return Role("states.amazonaws.com", tuple(grants))


ROLES: dict[str, Role] = {
    "CoreApiFunctionRole": function(
        "CoreApiFunction", TABLE, EVENTS, LIST,
        Grant("Uploads", ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
              objects("staging/tasks/*", "staging/uploads/*"),
              "task data (TUS parts, files, direct multipart uploads and their presigned parts); import "
              "and restore uploads (services/uploads.py); discard and abort"),
        Grant("ReadUploads", ("s3:GetObject",), objects("staging/uploads/*"),
              "services/uploads.py: an upload's record"),
        Grant("StartTaskData", ("s3:PutObject",), objects("tasks/*/data/*/request.json"),
              "services/task_data.py: the request the task-data workflow reads"),
        Grant("ClientEvents", ("s3:PutObject",), objects("events/*"), "POST /api/events into the event store"),
        Grant("Downloads", ("s3:GetObject",), objects("exports/*"),
              "an export's or an events CSV's presigned URL (the 302 of ?action=download) and its HEAD"),
        Grant("DeleteAnnotations", ("s3:DeleteObject",), objects("annotations/jobs/*"),
              "deleting a task, project or organization deletes its jobs' snapshots"),
        Grant("StartWorkflows", ("states:StartExecution",),
              ("${TaskDataStateMachine}", "${ExportDatasetStateMachine}", "${ImportAnnotationsStateMachine}",
               "${RestoreBackupStateMachine}", "${ExportEventsStateMachine}"),
              "task data, dataset and backup exports, project imports, restores, events exports"),
        Grant("ReadRequests", ("states:DescribeExecution",),
              executions("task-data", "export-dataset", "import-annotations", "restore-backup", "export-events",
                         "auto-annotate"),
              "/api/requests fails a request whose execution ended without reporting (services/requests.py)"),
    ),
    "AnnotationsApiFunctionRole": function(
        "AnnotationsApiFunction", TABLE, EVENTS, LIST, SNAPSHOTS, FRAME_SIZES,
        Grant("AnnotationUploads", ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
              objects("staging/uploads/annotations/*"), "annotation files being uploaded (TUS, direct)"),
        Grant("StartImports", ("states:StartExecution",), ("${ImportAnnotationsStateMachine}",),
              "services/imports.py"),
    ),
    "WebhooksApiFunctionRole": function(
        "WebhooksApiFunction", TABLE,
        Grant("Redeliver", ("sqs:SendMessage",), ("${WebhookDeliveryQueue.Arn}",),
              "POST /api/webhooks/{id}/deliveries/{id}/redelivery"),
    ),
    "FunctionsApiFunctionRole": function(
        "FunctionsApiFunction", TABLE, EVENTS, LIST, SNAPSHOTS,
        Grant("ReadFrames", ("s3:GetObject",), objects("tasks/*"),
              "an interactive call's frame: frames.json, original chunks, decoded frames"),
        Grant("KeepFrames", ("s3:PutObject",), objects("tasks/*/data/*/frames/*"),
              "a video frame decoded once is kept"),
        Grant("StartAutoAnnotation", ("states:StartExecution",), ("${AutoAnnotateStateMachine}",),
              "POST /api/lambda/requests"),
        Grant("FollowAutoAnnotation", ("states:DescribeExecution", "states:StopExecution"), executions("auto-annotate"),
              "read repair, and DELETE /api/lambda/requests/{id}"),
        Grant("CallModels", ("sagemaker:InvokeEndpoint",),
              ("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/*",),
              "interactive calls; which endpoint is the admin's registry entry (`cvat-serverless function add`)"),
    ),
    "WebhookDeliveryFunctionRole": function(
        "WebhookDeliveryFunction", TABLE,
        Grant("QueueDeliveries", ("sqs:SendMessage",), ("${WebhookDeliveryQueue.Arn}",),
              "one job per (event, webhook), and its delayed retries"),
        poll("DomainEventsQueue", "WebhookDeliveryQueue"),
    ),
    "MediaApiFunctionRole": function(
        "MediaApiFunction", TABLE, LIST,
        Grant("ReadMedia", ("s3:GetObject",), objects("tasks/*"),
              "chunks, frames, previews, frames.json; presigned GETs of chunks and frames"),
        Grant("KeepDerived", ("s3:PutObject",),
              objects("tasks/*/data/*/chunks/parts/*", "tasks/*/data/*/chunks/images/*", "tasks/*/data/*/frames/*"),
              "what is cut or decoded once is kept (services/task_media.py)"),
    ),
    "IngestFunctionRole": function(
        "IngestFunction", TABLE, EVENTS, LIST,
        Grant("ReadDrops", ("s3:GetObject",), (UPLOADS,), "the drop folder: the object, a folder's task.json"),
        Grant("DropFailures", ("s3:PutObject", "s3:DeleteObject"), objects("drop-failures/*"),
              "a refused drop's record, removed once it is taken"),
        Grant("StartTaskData", ("s3:PutObject",), objects("tasks/*/data/*/request.json"), "start_in_place"),
        Grant("StartWorkflows", ("states:StartExecution",), ("${TaskDataStateMachine}",), "the dropped media's task"),
        poll("UploadQueue"),
    ),
    "TaskDataPrepareFunctionRole": function(
        "TaskDataPrepareFunction", TABLE, LIST,
        Grant("ReadSources", ("s3:GetObject",),
              (*objects("tasks/*", "staging/tasks/*", "staging/restores/*", "share/*"), UPLOADS),
              "the request, uploaded files and TUS parts, a restore's media, the share, the drop folder"),
        Grant("WritePlan", ("s3:PutObject", "s3:AbortMultipartUpload"), objects("tasks/*"),
              "the source, manifest, frames.json and plan (large sources as multipart uploads)"),
    ),
    "TaskDataUnitFunctionRole": function(
        "TaskDataUnitFunction",
        Grant("ReadSources", ("s3:GetObject",),
              (*objects("tasks/*", "staging/tasks/*", "staging/restores/*", "share/*"), UPLOADS),
              "the plan, manifest and the media read in place (ranged reads)"),
        Grant("WriteChunks", ("s3:PutObject", "s3:AbortMultipartUpload"),
              objects("tasks/*/data/*/chunks/*", "tasks/*/data/*/failures/*"), "its chunks; a failed unit's message"),
        Grant("ClearFailure", ("s3:DeleteObject",), objects("tasks/*/data/*/failures/*"),
              "a retried unit that succeeds removes its failure record"),
    ),
    "TaskDataFinalizeFunctionRole": function(
        "TaskDataFinalizeFunction", TABLE, EVENTS,
        Grant("ReadData", ("s3:GetObject",), objects("tasks/*", "staging/tasks/*", "staging/restores/*"),
              "the plan, chunks for previews, the staged video it copies"),
        Grant("WriteData", ("s3:PutObject", "s3:AbortMultipartUpload"), objects("tasks/*"),
              "previews, the plan, the copied video"),
        Grant("ClearStaging", ("s3:DeleteObject",), objects("staging/tasks/*"), "the task's staged upload"),
        Grant("ListStaging", ("s3:ListBucket",), (B,), "delete_prefix of the staged upload",
              {"StringLike": {"s3:prefix": ["staging/tasks/*"]}}),
    ),
    "TaskDataFailFunctionRole": function(
        "TaskDataFailFunction", TABLE,
        Grant("ReadFailures", ("s3:GetObject",), objects("tasks/*/data/*/failures/*"), "the failed units' messages"),
        Grant("RemoveData", ("s3:DeleteObject",), objects("tasks/*"), "a failed task's partial data"),
        Grant("ListData", ("s3:ListBucket",), (B,), "the failures, and the partial data to delete",
              {"StringLike": {"s3:prefix": ["tasks/*"]}}),
    ),
    "DatasetExportFunctionRole": function(
        "DatasetExportFunction", TABLE, EVENTS, LIST, FRAME_SIZES,
        Grant("ReadMedia", ("s3:GetObject",), (*objects("tasks/*", "share/*", "exports/*"), UPLOADS),
              "frames and videos of a dataset or backup; a video read in place; a fresh result; parts"),
        Grant("ReadSnapshots", ("s3:GetObjectVersion",), objects("annotations/jobs/*"),
              "the jobs' annotations"),
        Grant("WriteExports", ("s3:PutObject", "s3:AbortMultipartUpload"), objects("exports/*"),
              "work files and the result (multipart, UploadPartCopy)"),
        Grant("ClearWork", ("s3:DeleteObject",), objects("exports/tmp/*"), "work files"),
    ),
    "ImportAnnotationsFunctionRole": function(
        "ImportAnnotationsFunction", TABLE, EVENTS, LIST, SNAPSHOTS, FRAME_SIZES,
        Grant("ReadUploads", ("s3:GetObject", "s3:DeleteObject"), objects("staging/uploads/*"),
              "the uploaded annotation file or dataset, removed once imported"),
    ),
    "AutoAnnotateFunctionRole": function(
        "AutoAnnotateFunction", TABLE, EVENTS, SNAPSHOTS,
        Grant("ReadFrames", ("s3:GetObject",), objects("tasks/*", "auto-annotation/*"),
              "frames.json and original chunks; an async endpoint's input meta, result or failure"),
        Grant("AsyncInputs", ("s3:PutObject",), objects("auto-annotation/async-input/*"),
              "InvokeEndpointAsync reads its input from S3"),
        Grant("InvokeModels", ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"),
              ("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/*",),
              "the registry entry's endpoint"),
        Grant("ResumeChunk", ("states:SendTaskSuccess",), ("*",),
              "a chunk already saved (a retry) or without images answers its own task token"),
    ),
    "AutoAnnotateResultsFunctionRole": function(
        "AutoAnnotateResultsFunction",
        Grant("Callbacks", ("dynamodb:GetItem", "dynamodb:BatchWriteItem"), (T,),
              "the task token waiting for the object, removed once answered"),
        Grant("ResumeChunks", ("states:SendTaskSuccess",), ("*",), "the waiting chunk's task token"),
        poll("AutoAnnotateResultsQueue"),
    ),
    "BackupRestoreFunctionRole": function(
        "BackupRestoreFunction", TABLE, EVENTS, LIST, FRAME_SIZES,
        Grant("RestoreWork", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
              objects("staging/restores/*"), "the restore's state, media and annotations"),
        Grant("ReadBackupUploads", ("s3:GetObject", "s3:DeleteObject"), objects("staging/uploads/backup/*"),
              "the uploaded backup, removed once restored"),
        Grant("StartTaskData", ("s3:PutObject",), objects("tasks/*/data/*/request.json"), "each restored task's data"),
        Grant("Snapshots", ("s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"),
              objects("annotations/jobs/*"), "the restored annotations; undo of a failed restore"),
        Grant("StartWorkflows", ("states:StartExecution",), ("${TaskDataStateMachine}",), "each restored task's data"),
        Grant("ReadRequests", ("states:DescribeExecution",), executions("task-data"),
              "a task whose processing ended without reporting fails the restore"),
    ),
    "AnalyticsWriterFunctionRole": function(
        "AnalyticsWriterFunction",
        Grant("Names", ("dynamodb:BatchGetItem",), (T,), "user names and organization slugs of the rows"),
        Grant("WriteEvents", ("s3:PutObject",), objects("events/*"), "JSON lines of the event store"),
        poll("AnalyticsEventsQueue"),
    ),
    "EventsExportFunctionRole": function(
        "EventsExportFunction", LIST,
        Grant("Requests", ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                           "dynamodb:DeleteItem"), (T,), "the export request's progress and result"),
        Grant("EventStore", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), objects("events/*", "events-index/*"),
              "reads, compacts and indexes the event store"),
        Grant("WriteCsv", ("s3:PutObject",), objects("exports/events/*"), "the CSV"),
    ),
    "TaskDataStateMachineRole": state_machine(
        ("TaskDataPrepareFunction", "TaskDataUnitFunction", "TaskDataFinalizeFunction", "TaskDataFailFunction"),
        "task-data"),
    "ExportDatasetStateMachineRole": state_machine(("DatasetExportFunction",)),
    "ImportAnnotationsStateMachineRole": state_machine(("ImportAnnotationsFunction",)),
    "AutoAnnotateStateMachineRole": state_machine(("AutoAnnotateFunction",), "auto-annotate"),
    "ExportEventsStateMachineRole": state_machine(("EventsExportFunction",)),
    "RestoreBackupStateMachineRole": state_machine(("BackupRestoreFunction",)),
    "ApiGatewayLogsRole": Role("apigateway.amazonaws.com", (
        Grant("WriteApiLogs", ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                               "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents",
                               "logs:FilterLogEvents"),
              ("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",),
              "API Gateway's account role (ManageApiGatewayAccount) writes every API's logs of the region"),
    )),
}
