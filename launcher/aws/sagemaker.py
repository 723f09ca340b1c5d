"""DescribeTrainingJob, as botocore 1.44 sends it: the SageMaker API's JSON 1.1 protocol (a POST of the JSON
body to /, X-Amz-Target SageMaker.DescribeTrainingJob), signed with SigV4 for the service ``sagemaker``, at the
configured endpoint URL (AWS_ENDPOINT_URL_SAGEMAKER, AWS_ENDPOINT_URL, the config file) or at
api.sagemaker.REGION; retried by the one policy."""

import json

from ..errors import JobError
from . import credentials, http
from .endpoints import checked, configured_endpoint, dns_suffix
from .jsonapi import ApiError, call


def endpoint(environ, region):
    configured = configured_endpoint(environ, "sagemaker")
    if configured:
        return checked(configured, "the SageMaker API")
    return "https://api.sagemaker.%s.%s/" % (region, dns_suffix(region))


def describe_training_job(name, region, environ):
    """DescribeTrainingJob's answer for the job ``name`` in ``region``: a dict as the API sends it."""
    url = endpoint(environ, region)
    source = credentials.resolve(environ, region)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.DescribeTrainingJob"}
    body = json.dumps({"TrainingJobName": name}).encode("utf-8")
    where = "DescribeTrainingJob %s in %s (endpoint %s)" % (name, region, http.shown_host(url))
    try:
        return call("POST", url, headers, body, source, region, "sagemaker", environ, where)
    except ApiError as e:
        # The API's word for an unknown job: ValidationException, "Requested resource not found." (moto: "Could
        # not find training job ...")
        said = (e.message or "").lower()
        if e.code == "ValidationException" and ("not found" in said or "could not find" in said):
            raise JobError("no training job %s in %s: the SageMaker API says \"%s\" (credentials from %s; endpoint "
                            "%s)" % (name, region, e.message, source.source, http.shown_host(url)))
        raise
