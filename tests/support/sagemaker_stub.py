"""A loopback stand-in for the SageMaker API's DescribeTrainingJob, for what moto's server leaves out: moto 5.2.5
answers no Environment, no FailureReason, always TrainingJobStatus Completed, and no ResourceConfig.InstanceGroups.

The stub speaks the API's JSON 1.1 protocol (a POST of a JSON body to /, X-Amz-Target names the operation),
checks every request's SigV4 signature by recomputing it with botocore's own signer (as codeartifact_stub does),
answers errors in the API's shape (``__type`` and a message), records every request in ``calls``, and can be told
to fail, always or for the next K calls. ``description()`` builds a realistic answer for a job made by the
SageMaker Python SDK's PyTorch estimator with a source_dir; tests put it in ``jobs``.

Test-only: the launcher never imports it. It imports botocore only inside the signature check."""

import hashlib
import http.server
import json
import threading
import uuid

ACCESS_KEY = "AKIDSAGEMAKERSTUB"
SECRET_KEY = "sagemaker/stub+secret"
REGION = "us-west-2"
ACCOUNT = "123456789012"
TARGET = "SageMaker.DescribeTrainingJob"
CONTENT_TYPE = "application/x-amz-json-1.1"

# The API's own words for the answers tests ask the stub to give through ``fail``: (HTTP status, JSON body).
ACCESS_DENIED = (400, {"__type": "AccessDeniedException",
                       "Message": "User: arn:aws:iam::%s:user/x is not authorized to perform: "
                                  "sagemaker:DescribeTrainingJob on resource: arn:aws:sagemaker:%s:%s:training-job/"
                                  "job because no identity-based policy allows the sagemaker:DescribeTrainingJob "
                                  "action" % (ACCOUNT, REGION, ACCOUNT)})
THROTTLING = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
INTERNAL_FAILURE = (500, {"__type": "InternalFailure", "message": "An internal error occurred."})
SERVICE_UNAVAILABLE = (503, {"__type": "ServiceUnavailable", "message": "Service is unavailable."})

NOT_FOUND = (400, {"__type": "ValidationException", "message": "Requested resource not found."})
BAD_SIGNATURE = (403, {"__type": "InvalidSignatureException",
                       "message": "The request signature we calculated does not match the signature you provided. "
                                  "Check your AWS Secret Access Key and signing method. Consult the service "
                                  "documentation for details."})
UNRECOGNIZED_CLIENT = (403, {"__type": "UnrecognizedClientException",
                             "message": "The security token included in the request is invalid."})
UNKNOWN_OPERATION = (400, {"__type": "UnknownOperationException"})

# Fields a channel's extras name that live in DataSource.S3DataSource rather than on the channel itself.
_S3_SOURCE_FIELDS = frozenset(("AttributeNames", "InstanceGroupNames", "ModelAccessConfig", "HubAccessConfig"))
_SECONDARY = {"Failed": "Failed", "Completed": "Completed", "InProgress": "Training", "Stopped": "Stopped",
              "Stopping": "Stopping"}
FAILURE_REASON = ('AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "ValueError: the loss is '
                  'NaN"\nCommand "/opt/conda/bin/python3.10 train.py --epochs 3 --optimizer adam", exit code: 1')
IMAGE = "763104351884.dkr.ecr.%s.amazonaws.com/pytorch-training:2.1.0-gpu-py310"


def description(name="pytorch-training-2024-05-01-12-00-00-000", bucket="sagemaker-us-west-2-123456789012",
                channels=None, instance_groups=None, instance_type="ml.g5.xlarge", instance_count=1,
                environment=None, status="Failed", failure_reason=None, hyperparameters=None, region=REGION,
                created=1714564800.0, **overrides):
    """DescribeTrainingJob's answer, as the API sends it, for job ``name`` made by the SDK's PyTorch estimator
    with a source_dir (output_path and code location left to the SDK, so both are under ``bucket``).

    ``channels``: (name, S3 URI, S3DataDistributionType, extras) tuples, the last two optional (FullyReplicated,
    {}); extras are channel fields (ContentType, InputMode, ...) except InstanceGroupNames and AttributeNames,
    which go in the S3DataSource. ``instance_groups``: (InstanceGroupName, InstanceType, InstanceCount) tuples,
    written as ResourceConfig.InstanceGroups in place of InstanceType and InstanceCount. ``environment``: None
    means {"MY_SETTING": "x"}. ``status``: TrainingJobStatus (SecondaryStatus follows it); FailureReason is the
    SDK's ExecuteUserScriptError for a Failed job, ``failure_reason`` when given, else absent.
    ``hyperparameters``: the user's, as Python values, JSON-encoded as the SDK does (None: epochs 3, optimizer
    adam); the sagemaker_* ones are added. Times are epoch seconds (the JSON protocol's form), from ``created``.
    ``overrides`` replace top-level fields as given (HyperParameters={...} replaces the encoded map whole); a
    value of None removes the field."""
    arn_prefix = "arn:aws:sagemaker:%s:%s" % (region, ACCOUNT)
    if channels is None:
        channels = [("train", "s3://%s/data/train" % bucket), ("validation", "s3://%s/data/validation" % bucket)]
    if hyperparameters is None:
        hyperparameters = {"epochs": 3, "optimizer": "adam"}
    # The SDK's _json_encode_hyperparameters: every value json.dumps'd, so strings arrive quoted.
    encoded = {str(key): json.dumps(value) for key, value in hyperparameters.items()}
    encoded.update({"sagemaker_container_log_level": "20", "sagemaker_job_name": json.dumps(name),
                    "sagemaker_program": json.dumps("train.py"), "sagemaker_region": json.dumps(region),
                    "sagemaker_submit_directory": json.dumps("s3://%s/%s/source/sourcedir.tar.gz" % (bucket, name))})
    if instance_groups is None:
        resources = {"InstanceType": instance_type, "InstanceCount": instance_count, "VolumeSizeInGB": 30}
    else:
        resources = {"InstanceGroups": [{"InstanceType": kind, "InstanceCount": count, "InstanceGroupName": group}
                                        for group, kind, count in instance_groups], "VolumeSizeInGB": 30}
    if failure_reason is None and status == "Failed":
        failure_reason = FAILURE_REASON
    started, ended = created + 85.391, created + 312.822
    answer = {
        "TrainingJobName": name,
        "TrainingJobArn": "%s:training-job/%s" % (arn_prefix, name),
        "ModelArtifacts": {"S3ModelArtifacts": "s3://%s/%s/output/model.tar.gz" % (bucket, name)},
        "TrainingJobStatus": status,
        "SecondaryStatus": _SECONDARY.get(status, status),
        "FailureReason": failure_reason,
        "HyperParameters": encoded,
        "AlgorithmSpecification": {"TrainingImage": IMAGE % region, "TrainingInputMode": "File",
                                   "EnableSageMakerMetricsTimeSeries": True},
        "RoleArn": "arn:aws:iam::%s:role/service-role/AmazonSageMaker-ExecutionRole" % ACCOUNT,
        "InputDataConfig": [_channel(*channel) for channel in channels],
        "OutputDataConfig": {"KmsKeyId": "", "S3OutputPath": "s3://%s/" % bucket, "CompressionType": "GZIP"},
        "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "CreationTime": created,
        "TrainingStartTime": started,
        "TrainingEndTime": ended,
        "LastModifiedTime": ended + 0.5,
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": created, "EndTime": started,
             "StatusMessage": "Preparing the instances for training"},
            {"Status": "Downloading", "StartTime": started, "EndTime": started + 48.0,
             "StatusMessage": "Downloading the training image"},
            {"Status": "Training", "StartTime": started + 48.0, "EndTime": ended,
             "StatusMessage": "Training image download completed. Training in progress."},
            {"Status": _SECONDARY.get(status, status), "StartTime": ended, "EndTime": ended,
             "StatusMessage": failure_reason or "Training job completed"}],
        "EnableNetworkIsolation": False,
        "EnableInterContainerTrafficEncryption": False,
        "EnableManagedSpotTraining": False,
        "TrainingTimeInSeconds": int(ended - started),
        "BillableTimeInSeconds": int(ended - started),
        "DebugHookConfig": {"S3OutputPath": "s3://%s/" % bucket, "CollectionConfigurations": []},
        "ProfilerConfig": {"S3OutputPath": "s3://%s/" % bucket, "ProfilingIntervalInMilliseconds": 500,
                           "DisableProfiler": False},
        "Environment": {"MY_SETTING": "x"} if environment is None else dict(environment),
    }
    if status in ("InProgress", "Stopping"):
        # A running job has no end yet: the API leaves out its end time and billed time.
        for field in ("TrainingEndTime", "TrainingTimeInSeconds", "BillableTimeInSeconds"):
            del answer[field]
        answer["SecondaryStatusTransitions"] = answer["SecondaryStatusTransitions"][:3]
        del answer["SecondaryStatusTransitions"][2]["EndTime"]
    answer.update(overrides)
    return {key: value for key, value in answer.items() if value is not None}


def _channel(name, uri, distribution="FullyReplicated", extras=None):
    """One InputDataConfig entry as the API returns it for an SDK TrainingInput."""
    source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
    channel = {"ChannelName": name, "DataSource": {"S3DataSource": source}, "CompressionType": "None",
               "RecordWrapperType": "None"}
    for key, value in (extras or {}).items():
        (source if key in _S3_SOURCE_FIELDS else channel)[key] = value
    return channel


def signature_problem(method, path, headers, body, region, token=None, keys=(ACCESS_KEY, SECRET_KEY)):
    """None when the request is signed with ``keys`` (access key, secret key) for ``sagemaker`` in ``region`` over
    ``body``, else the (status, JSON body) the API answers: UnrecognizedClientException for another key id or a
    session token other than ``token``, InvalidSignatureException for any other mismatch. The signature is
    recomputed by botocore's SigV4Auth, so the stub holds the launcher to botocore's canonical form."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("Authorization") or ""
    if not auth.startswith("AWS4-HMAC-SHA256 Credential=") or "X-Amz-Date" not in headers or "Host" not in headers:
        return BAD_SIGNATURE
    try:
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        credential, signed, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except (KeyError, ValueError):
        return BAD_SIGNATURE
    if credential.split("/")[0] != keys[0] or headers.get("X-Amz-Security-Token") != token:
        return UNRECOGNIZED_CLIENT
    names = signed.split(";")
    if "host" not in names or "x-amz-date" not in names or (token is not None and "x-amz-security-token" not in names):
        return BAD_SIGNATURE
    # botocore signs X-Amz-Content-SHA256's value in place of hashing the body when the header is there, so the
    # header has to be held to the body that came, or a signature over another body would pass.
    digest = headers.get("X-Amz-Content-SHA256")
    if digest is not None and digest != hashlib.sha256(body).hexdigest():
        return BAD_SIGNATURE
    request = AWSRequest(method=method, url="http://%s%s" % (headers["Host"], path), data=body,
                         headers={name: headers[name] for name in names if name in headers})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(keys[0], keys[1], token), "sagemaker", region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    # The scope is compared too: a signature for another region or service is computed over another scope.
    if credential != signer.scope(request) or signature != expected:
        return BAD_SIGNATURE
    return None


class SageMakerStub(object):
    """DescribeTrainingJob on http://127.0.0.1:PORT (``url``), answering from ``jobs`` (name -> description).

    ``fail``: a (status, JSON body) answered instead of the job, after the signature check, as the API
    throttles or refuses only signed calls; ``fail_times``: how many more calls get it (None: every call), to
    test retries. ``calls``: (target, body dict or None, headers dict) of every request, in order of arrival.
    ``token``: the session token the requests must carry (None: they must carry none); ``keys``: the (access
    key, secret key) they must be signed with, such as those of the moto server that serves the job's S3."""

    def __init__(self, jobs=None, region=REGION, token=None, fail=None, fail_times=None, keys=(ACCESS_KEY, SECRET_KEY)):
        self.jobs = dict(jobs or {})
        self.region = region
        self.token = token
        self.keys = keys
        self.fail = fail
        self.fail_times = fail_times
        self.calls = []
        self.server = None
        self.url = None
        self._lock = threading.Lock()  # the handler threads share fail_times and calls

    def add(self, answer):
        """Put a description in ``jobs`` under its TrainingJobName; returns the name."""
        self.jobs[answer["TrainingJobName"]] = answer
        return answer["TrainingJobName"]

    def environ(self, **extra):
        """The variables that point the launcher (or any AWS SDK) at this stub with its keys."""
        env = {"AWS_ENDPOINT_URL_SAGEMAKER": self.url, "AWS_REGION": self.region, "AWS_ACCESS_KEY_ID": self.keys[0],
               "AWS_SECRET_ACCESS_KEY": self.keys[1]}
        if self.token is not None:
            env["AWS_SESSION_TOKEN"] = self.token
        env.update(extra)
        return env

    def start(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = "http://127.0.0.1:%d" % self.server.server_port
        # A short poll: stop() waits for serve_forever to see the shutdown, 0.5 s by default.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _failure(self):
        """The answer ``fail`` asks for this call, counting it against ``fail_times``; None to answer normally."""
        with self._lock:
            if self.fail is None or self.fail_times == 0:
                return None
            if self.fail_times is not None:
                self.fail_times -= 1
            return self.fail

    def _answer_for(self, method, path, headers, body):
        target = headers.get("X-Amz-Target")
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        with self._lock:
            self.calls.append((target, parsed, dict(headers.items())))
        if method != "POST" or path != "/":
            return 404, {"__type": "UnknownOperationException"}
        if (headers.get("Content-Type") or "").split(";")[0].strip() != CONTENT_TYPE:
            # The API routes by content type and target together: neither known, no operation.
            return UNKNOWN_OPERATION
        problem = signature_problem(method, path, headers, body, self.region, self.token, self.keys)
        if problem:
            return problem
        if target != TARGET:
            return UNKNOWN_OPERATION
        if not isinstance(parsed, dict):
            return 400, {"__type": "SerializationException"}
        name = parsed.get("TrainingJobName")
        if not isinstance(name, str):
            return 400, {"__type": "ValidationException", "message": "1 validation error detected: Value null at "
                         "'trainingJobName' failed to satisfy constraint: Member must not be null"}
        failure = self._failure()
        if failure:
            return failure
        if name not in self.jobs:
            return NOT_FOUND
        return 200, self.jobs[name]

    def _handler(self):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.1 as the API speaks it, so botocore keeps its connection open between calls as it would.
            protocol_version = "HTTP/1.1"
            timeout = 10  # a client's idle kept-alive connection ends its thread instead of holding it

            def log_message(self, *args):
                pass

            def serve(self, method):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, value = stub._answer_for(method, self.path, self.headers, body)
                except Exception as e:
                    # A fault of the stub's own answers as the API's, so a test sees it rather than a dropped
                    # connection its client would retry in silence.
                    status, value = 500, {"__type": "InternalFailure", "message": "sagemaker_stub: %r" % (e,)}
                data = json.dumps(value).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self.serve("POST")

            def do_GET(self):
                self.serve("GET")

            def do_PUT(self):
                self.serve("PUT")

        return Handler
