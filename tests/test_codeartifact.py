"""CA_REPOSITORY_ARN through the built pyz: the two CodeArtifact calls against a loopback stub that checks their
signatures with botocore, pip installing requirements.txt from a loopback HTTPS index with the token, and the
token in no log line, failure file or --print-env output."""

import json
import os
import subprocess
import sys

import codeartifact_stub as stub
import pytest

ARN = "arn:aws:codeartifact:us-west-2:111122223333:repository/my-domain/repo"
TRAIN = "import smtrain_tiny\nprint('trained')\n"


@pytest.fixture
def servers(tmp_path):
    s = stub.Servers(str(tmp_path))
    yield s
    s.close()


def job(tmp_path, requirements):
    base = tmp_path / "ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "code").mkdir()
    (base / "code" / "train.py").write_text(TRAIN)
    (base / "code" / "requirements.txt").write_text(requirements)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"sagemaker_program": "\"train.py\""}))
    return str(base)


def run(pyz, base, servers, tmp_path, *args, **extra):
    target = str(tmp_path / "site")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CA_REPOSITORY_ARN": ARN,
           "AWS_ENDPOINT_URL_CODEARTIFACT": servers.api_url, "AWS_ACCESS_KEY_ID": stub.ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": stub.SECRET_KEY, "PIP_CERT": servers.cert, "PIP_TARGET": target,
           "PYTHONPATH": target, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1",
           "PIP_RETRIES": "0", "PIP_TIMEOUT": "5"}
    env.update(extra)
    proc = subprocess.run([sys.executable, pyz, "--root", base] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=180)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def failure(base):
    path = os.path.join(base, "output", "failure")
    return open(path).read() if os.path.exists(path) else None


def test_requirements_install_from_the_codeartifact_index(pyz, tmp_path, servers):
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    status, out, err = run(pyz, base, servers, tmp_path)
    assert status == 0, err
    assert "smtrain_tiny imported" in out and "trained" in out
    api = [c for c in servers.calls if c[0] != "index"]
    assert api == [("GetAuthorizationToken", "POST", {"domain": "my-domain", "domain-owner": "111122223333"}),
                   ("GetRepositoryEndpoint", "GET", {"domain": "my-domain", "domain-owner": "111122223333",
                                                     "repository": "repo", "format": "pypi"})]
    assert any(c[0] == "index" for c in servers.calls)
    assert ("configuring pip to use codeartifact (domain: my-domain, domain owner: 111122223333, repository: repo, "
            "region: us-west-2)") in err
    assert "-i https://aws:********@127.0.0.1:%d/pypi/repo/simple/" % servers.index.server_port in err
    assert stub.TOKEN not in err + out


def test_a_failing_install_names_no_token(pyz, tmp_path, servers):
    base = job(tmp_path, "smtrain-missing==9\n")
    status, out, err = run(pyz, base, servers, tmp_path)
    assert status == 1
    text = failure(base)
    assert "dependency install failed" in text and "-i https://aws:********@" in text
    assert stub.TOKEN not in err + out + text


def test_print_env_contacts_nothing_and_shows_no_token(pyz, tmp_path, servers):
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    status, out, err = run(pyz, base, servers, tmp_path, "--print-env")
    assert status == 0, err
    assert servers.calls == []
    assert '"-i","<the index of %s, with a token fetched at the start>"' % ARN in out
    assert not os.path.exists(str(tmp_path / "site"))


@pytest.mark.parametrize("fail, words", [
    ({"GetAuthorizationToken": (403, {"__type": "AccessDeniedException", "message": "not allowed"})},
     ["CodeArtifact GetAuthorizationToken for %s failed: HTTP 403 AccessDeniedException: not allowed" % ARN,
      "credentials from environment variables"]),
    ({"GetRepositoryEndpoint": (404, {"__type": "ResourceNotFoundException", "message": "no repo"})},
     ["GetRepositoryEndpoint", "HTTP 404 ResourceNotFoundException: no repo"]),
])
def test_a_failing_call_is_one_line_naming_it(pyz, tmp_path, servers, fail, words):
    servers.fail = fail
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    status, out, err = run(pyz, base, servers, tmp_path)
    assert status == 1
    errors = [line for line in err.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and all(w in errors[0] for w in words), err
    assert all(w in failure(base) for w in words)
    assert "Traceback" not in err and stub.SECRET_KEY not in err + failure(base)


def test_a_wrong_secret_is_refused_by_the_signature_check(pyz, tmp_path, servers):
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    status, out, err = run(pyz, base, servers, tmp_path, AWS_SECRET_ACCESS_KEY="wrong")
    assert status == 1 and "HTTP 403 InvalidSignatureException" in failure(base)


@pytest.mark.parametrize("arn", ["arn:aws:codeartifact:us-west-2:111122223333:domain/my-domain",
                                 "not-an-arn", "arn:aws:s3:::bucket"])
def test_an_invalid_arn_is_refused_in_both_modes(pyz, tmp_path, servers, arn):
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    for args in ((), ("--print-env",)):
        status, out, err = run(pyz, base, servers, tmp_path, *args, CA_REPOSITORY_ARN=arn)
        assert status == 1
        assert "CA_REPOSITORY_ARN: invalid CodeArtifact repository arn %s" % arn in err
    assert servers.calls == []


def test_no_requirements_means_no_call(pyz, tmp_path, servers):
    base = job(tmp_path, "")
    os.unlink(os.path.join(base, "code", "requirements.txt"))
    with open(os.path.join(base, "code", "train.py"), "w") as f:
        f.write("print('trained')\n")
    status, out, err = run(pyz, base, servers, tmp_path)
    assert status == 0 and servers.calls == []


def test_a_token_with_url_characters_is_hidden_too(pyz, tmp_path, servers):
    """The toolkit puts the token in the URL unquoted; whatever pip makes of it, no line sm-train writes holds it."""
    servers.token = "tok/with@url-chars-secret"
    base = job(tmp_path, "%s==0.1\n" % stub.PACKAGE)
    status, out, err = run(pyz, base, servers, tmp_path)
    text = failure(base) or ""
    sm_train_lines = "\n".join(line for line in err.splitlines() if " sm-train " in line)
    assert "with@url-chars-secret" not in sm_train_lines + text
    assert "-i https://aws:********@127.0.0.1" in sm_train_lines
