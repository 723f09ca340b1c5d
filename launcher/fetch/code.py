"""sagemaker_submit_directory into the empty code dir, as the toolkit's files.download_and_extract: an s3:// gzip
tar, a local directory (copied), a local gzip tar, or a single file (copied into the code dir). A bundle is
downloaded and extracted in a staging dir inside the code dir (the same filesystem, even when the code dir is a
mount) and moved up whole, so a failure leaves the code dir empty."""

import os
import shutil

from .. import log
from ..errors import JobError


def fetch(source, code_dir, env, timeout):
    """Fill ``code_dir`` (missing or empty) from ``source``; ``timeout``: seconds for an S3 download
    ($SM_TRAIN_FETCH_TIMEOUT, checked with the options). A signal's Stopped, raised anywhere in here by the
    frame's handler, leaves the code dir empty too."""
    log.info("Provided path: %s  is empty, unzipping" % code_dir)  # sic: the toolkit's two spaces
    try:
        os.makedirs(code_dir, exist_ok=True)
    except OSError as e:
        raise JobError("cannot create the code directory %s: %s" % (code_dir, e.strerror or e))
    if source.startswith("s3://"):
        _staged(code_dir, lambda staging: _from_s3(source, staging, env, timeout, code_dir))
    elif os.path.isdir(source):
        _copy_dir(source, code_dir)
    elif _is_tar(source):
        _staged(code_dir, lambda staging: _extract(source, staging, source, code_dir))
    else:
        _copy_file(source, code_dir)


def _is_tar(source):
    import tarfile

    try:
        return tarfile.is_tarfile(source)
    except FileNotFoundError:
        raise JobError("sagemaker_submit_directory %s: no such file or directory" % source)
    except OSError as e:
        raise JobError("sagemaker_submit_directory %s: cannot be read: %s" % (source, e.strerror or e))


def _staged(code_dir, fill):
    """Run ``fill(tree)`` on a new directory in a staging dir inside the code dir, then move what it made up into
    the code dir."""
    import tempfile

    try:
        staging = tempfile.mkdtemp(prefix=".sm-train-fetch-", dir=code_dir)
    except OSError as e:
        raise JobError("cannot create a staging directory in %s: %s" % (code_dir, e.strerror or e))
    try:
        tree = os.path.join(staging, "code")
        os.mkdir(tree)
        fill(tree)
        for name in sorted(os.listdir(tree)):
            os.rename(os.path.join(tree, name), os.path.join(code_dir, name))
    except BaseException as e:  # cut short, by an error or a signal: back to an empty code dir
        _clear(code_dir)
        if isinstance(e, OSError):
            raise JobError("cannot put the fetched code into %s: %s" % (code_dir, e.strerror or e))
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _clear(folder):
    for name in os.listdir(folder):
        _remove(os.path.join(folder, name))


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def _extract(tar_path, tree, shown, code_dir):
    from .extract import extract

    extract(tar_path, tree, shown, code_dir)


def _from_s3(uri, tree, env, timeout, code_dir):
    import time

    from ..aws import credentials, endpoints, s3

    deadline = time.monotonic() + timeout
    bundle = os.path.join(os.path.dirname(tree), "sourcedir.tar.gz")
    region = endpoints.client_region(env)
    source = credentials.resolve(env, region or None)  # web identity's STS call goes to the client's region
    try:
        size = s3.download(uri, bundle, source, region, env, deadline)
    except s3.DeadlinePassed as e:
        raise s3.DeadlinePassed("%s; SM_TRAIN_FETCH_TIMEOUT (%g s) sets the deadline" % (e, timeout))
    log.info("Downloaded %s (%d bytes, credentials from %s)" % (uri, size, source.source))
    _extract(bundle, tree, uri, code_dir)


def _copy_dir(source, code_dir):
    """The toolkit's rmtree and copytree (links followed); a copy that fails leaves the code dir empty."""
    if source == code_dir:
        return
    try:
        os.rmdir(code_dir)
        shutil.copytree(source, code_dir)
    except BaseException as e:  # a copy cut short, by an error or a signal: back to an empty code dir
        _remove(code_dir)
        os.makedirs(code_dir, exist_ok=True)
        if isinstance(e, (OSError, shutil.Error)):
            raise JobError("sagemaker_submit_directory %s: cannot be copied to %s: %s"
                           % (source, code_dir, _first_error(e)))
        raise


def _copy_file(source, code_dir):
    try:
        shutil.copy2(source, code_dir)
    except OSError as e:
        raise JobError("sagemaker_submit_directory %s: cannot be copied to %s: %s"
                       % (source, code_dir, e.strerror or e))


def _first_error(e):
    if isinstance(e, shutil.Error) and e.args and isinstance(e.args[0], list) and e.args[0]:
        return e.args[0][0][2]
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)
