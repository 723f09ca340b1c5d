"""The SageMaker stub is a faithful DescribeTrainingJob server: botocore, the real client, gets its answers back
parsed, is refused for a bad signature, an unknown job or a failure it was told to give, in the API's own error
shapes; and ``description()`` holds only fields of botocore's service model, of the model's types and enums."""

import datetime
import hashlib
import http.client
import json

import boto3
import botocore.session
import pytest
import sagemaker_stub as stub
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

OUTPUT = botocore.session.get_session().get_service_model("sagemaker").operation_model(
    "DescribeTrainingJob").output_shape


@pytest.fixture
def server():
    with stub.SageMakerStub() as s:
        yield s


def client(server, secret=stub.SECRET_KEY, key=stub.ACCESS_KEY, token=None, region=None):
    # One attempt in all (max_attempts counts retries only): a retried call would hide which answer the stub gave.
    return boto3.client("sagemaker", endpoint_url=server.url, region_name=region or server.region,
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"total_max_attempts": 1}))


def error(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def shape_problems(value, shape, where="DescribeTrainingJobResponse"):
    """What in ``value`` botocore's model does not allow: unknown members, missing required ones, wrong types and
    values outside an enum (ParamValidator checks input shapes only, so the output is walked here)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return ["%s: %r is not an object" % (where, value)]
        problems = ["%s: %s is required" % (where, name) for name in shape.required_members if name not in value]
        for name, member in value.items():
            if name not in shape.members:
                problems.append("%s: %s is no member of %s" % (where, name, shape.name))
            else:
                problems += shape_problems(member, shape.members[name], "%s.%s" % (where, name))
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return ["%s: %r is not a list" % (where, value)]
        return [p for i, item in enumerate(value) for p in shape_problems(item, shape.member, "%s[%d]" % (where, i))]
    if kind == "map":
        if not isinstance(value, dict):
            return ["%s: %r is not an object" % (where, value)]
        return [p for k, v in value.items()
                for p in shape_problems(k, shape.key, where + " key") + shape_problems(v, shape.value, where + "." + k)]
    types = {"string": str, "integer": int, "long": int, "boolean": bool, "float": (int, float),
             "double": (int, float), "timestamp": (int, float)}[kind]
    if not isinstance(value, types) or (kind != "boolean" and isinstance(value, bool)):
        return ["%s: %r is not a %s" % (where, value, kind)]
    if kind == "string" and shape.enum and value not in shape.enum:
        return ["%s: %r is not one of %s" % (where, value, shape.enum)]
    return []


@pytest.mark.parametrize("answer", [
    stub.description(),
    stub.description(status="InProgress"),
    stub.description(status="Completed", environment={}),
    stub.description(instance_groups=[("head", "ml.c5.xlarge", 1), ("workers", "ml.g5.2xlarge", 2)],
                     channels=[("train", "s3://b/train", "ShardedByS3Key",
                                {"ContentType": "application/x-parquet", "InputMode": "FastFile",
                                 "InstanceGroupNames": ["workers"]})]),
], ids=["failed", "in-progress", "completed", "instance-groups"])
def test_descriptions_hold_only_fields_types_and_enums_of_the_api_model(answer):
    assert shape_problems(answer, OUTPUT) == []


def test_the_shape_check_finds_a_member_the_model_lacks():
    # The check above proves something only if it can fail.
    bad = stub.description(Bogus=1, ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": "1"})
    problems = shape_problems(bad, OUTPUT)
    assert any("Bogus is no member" in p for p in problems)
    assert any("InstanceCount: '1' is not a integer" in p for p in problems)


def test_boto3_gets_the_description_back_parsed(server):
    answer = stub.description("job-1", bucket="my-bucket", environment={"MY_SETTING": "x", "OTHER": "y"},
                              hyperparameters={"epochs": 3, "optimizer": "adam"})
    server.add(answer)
    got = client(server).describe_training_job(TrainingJobName="job-1")
    assert got["TrainingJobStatus"] == "Failed" and got["SecondaryStatus"] == "Failed"
    assert got["FailureReason"].startswith("AlgorithmError: ExecuteUserScriptError:")
    assert got["Environment"] == {"MY_SETTING": "x", "OTHER": "y"}
    assert got["HyperParameters"] == {
        "epochs": "3", "optimizer": '"adam"', "sagemaker_container_log_level": "20",
        "sagemaker_job_name": '"job-1"', "sagemaker_program": '"train.py"', "sagemaker_region": '"us-west-2"',
        "sagemaker_submit_directory": '"s3://my-bucket/job-1/source/sourcedir.tar.gz"'}
    assert got["CreationTime"] == datetime.datetime.fromtimestamp(answer["CreationTime"], datetime.timezone.utc)
    assert got["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://my-bucket/data/train"
    assert got["ResourceConfig"] == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert got["TrainingJobArn"] == "arn:aws:sagemaker:us-west-2:123456789012:training-job/job-1"
    (target, body, headers), = server.calls
    assert (target, body) == ("SageMaker.DescribeTrainingJob", {"TrainingJobName": "job-1"})
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=%s/" % stub.ACCESS_KEY)


def test_boto3_gets_instance_groups_back(server):
    server.add(stub.description("hetero", instance_groups=[("head", "ml.c5.xlarge", 1), ("gpu", "ml.p4d.24xlarge",
                                                                                          2)]))
    got = client(server).describe_training_job(TrainingJobName="hetero")["ResourceConfig"]
    assert got == {"InstanceGroups": [{"InstanceType": "ml.c5.xlarge", "InstanceCount": 1, "InstanceGroupName": "head"},
                                      {"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 2,
                                       "InstanceGroupName": "gpu"}],
                   "VolumeSizeInGB": 30}


def test_a_wrong_secret_gets_invalid_signature_exception(server):
    server.add(stub.description("job-1"))
    err, status = error(lambda: client(server, secret="not-the-secret").describe_training_job(TrainingJobName="job-1"))
    assert status == 403 and err["Code"] == "InvalidSignatureException"
    assert err["Message"].startswith("The request signature we calculated does not match")


def test_a_signature_for_another_region_gets_invalid_signature_exception(server):
    server.add(stub.description("job-1"))
    err, status = error(lambda: client(server, region="eu-west-1").describe_training_job(TrainingJobName="job-1"))
    assert status == 403 and err["Code"] == "InvalidSignatureException"


def test_a_wrong_key_id_gets_unrecognized_client_exception(server):
    err, status = error(lambda: client(server, key="AKIDSOMEONEELSE").describe_training_job(TrainingJobName="j"))
    assert status == 403 and err["Code"] == "UnrecognizedClientException"


def test_a_session_token_must_be_the_one_the_stub_was_given():
    with stub.SageMakerStub(token="the-token") as server:
        server.add(stub.description("job-1"))
        assert client(server, token="the-token").describe_training_job(TrainingJobName="job-1")["TrainingJobName"]
        for other in (client(server), client(server, token="another-token")):
            err, status = error(lambda: other.describe_training_job(TrainingJobName="job-1"))  # noqa: B023
            assert status == 403 and err["Code"] == "UnrecognizedClientException"


def test_an_unknown_job_gets_the_apis_validation_exception(server):
    err, status = error(lambda: client(server).describe_training_job(TrainingJobName="no-such-job"))
    assert status == 400
    assert err == {"Code": "ValidationException", "Message": "Requested resource not found."}


def test_another_operation_gets_unknown_operation_exception(server):
    err, status = error(lambda: client(server).describe_processing_job(ProcessingJobName="p"))
    assert status == 400 and err["Code"] == "UnknownOperationException"
    assert server.calls[0][0] == "SageMaker.DescribeProcessingJob"


def test_fail_answers_access_denied_to_every_call(server):
    server.add(stub.description("job-1"))
    server.fail = stub.ACCESS_DENIED
    for _ in range(2):
        err, status = error(lambda: client(server).describe_training_job(TrainingJobName="job-1"))
        assert status == 400 and err["Code"] == "AccessDeniedException"
        assert "is not authorized to perform: sagemaker:DescribeTrainingJob" in err["Message"]


def test_fail_times_fails_only_the_next_calls_then_answers(server):
    server.add(stub.description("job-1"))
    server.fail, server.fail_times = stub.THROTTLING, 2
    sagemaker = client(server)
    for _ in range(2):
        err, status = error(lambda: sagemaker.describe_training_job(TrainingJobName="job-1"))
        assert status == 400 and err["Code"] == "ThrottlingException"
    assert sagemaker.describe_training_job(TrainingJobName="job-1")["TrainingJobName"] == "job-1"
    assert server.fail_times == 0 and len(server.calls) == 3


def test_botocore_retries_a_500_until_the_stub_answers(server):
    # botocore's own retry policy sees the stub's 500 as the API's: one failure, then the answer.
    server.add(stub.description("job-1"))
    server.fail, server.fail_times = stub.INTERNAL_FAILURE, 1
    retrying = boto3.client("sagemaker", endpoint_url=server.url, region_name=server.region,
                            aws_access_key_id=stub.ACCESS_KEY, aws_secret_access_key=stub.SECRET_KEY,
                            config=Config(retries={"total_max_attempts": 2, "mode": "standard"}))
    got = retrying.describe_training_job(TrainingJobName="job-1")
    assert got["ResponseMetadata"]["RetryAttempts"] == 1 and len(server.calls) == 2


def post(server, signed_body, sent_body, digest_header=None):
    """A request signed by botocore over ``signed_body`` (with X-Amz-Content-SHA256 when given) that sends
    ``sent_body``: (status, JSON answer)."""
    host = "127.0.0.1:%d" % server.server.server_port
    headers = {"Content-Type": stub.CONTENT_TYPE, "X-Amz-Target": stub.TARGET, "Host": host}
    if digest_header:
        headers["X-Amz-Content-SHA256"] = digest_header
    request = AWSRequest(method="POST", url=server.url + "/", data=signed_body, headers=headers)
    SigV4Auth(Credentials(stub.ACCESS_KEY, stub.SECRET_KEY), "sagemaker", server.region).add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", server.server.server_port, timeout=10)
    try:
        connection.request("POST", "/", body=sent_body, headers=dict(request.headers.items()))
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_the_payload_hash_is_over_the_body_that_came(server):
    server.add(stub.description("job-1"))
    asked, other = b'{"TrainingJobName": "job-1"}', b'{"TrainingJobName": "job-2"}'
    status, answer = post(server, asked, asked, hashlib.sha256(asked).hexdigest())
    assert status == 200 and answer["TrainingJobName"] == "job-1"
    # Signed over one body, another sent: with no digest header, and with a signed one that names the first.
    for digest in (None, hashlib.sha256(asked).hexdigest()):
        status, answer = post(server, asked, other, digest)
        assert (status, answer["__type"]) == (403, "InvalidSignatureException")
