"""A finding: one thing the check looked at, its level (ok, warning, error), one line saying what it found and,
unless it is ok, one line saying what to change (a Dockerfile line where that is the fix)."""

OK, WARNING, ERROR = "ok", "warning", "error"

# What the image lacks: the Debian or Ubuntu package that brings it, and the Amazon Linux line.
PACKAGES = {
    "sshd": ("openssh-server", "RUN yum install -y openssh-server"),
    "ssh": ("openssh-client", "RUN yum install -y openssh-clients"),
    "mpirun": ("openmpi-bin", "RUN yum install -y openmpi, and ENV PATH=/usr/lib64/openmpi/bin:$PATH"),
    "mpi4py": ("python3-mpi4py", "RUN yum install -y openmpi-devel gcc python3-devel && python3 -m pip install mpi4py"),
    "pip": ("python3-pip", "RUN yum install -y python3-pip"),
    "sh": ("dash", "RUN yum install -y bash"),
}


class Finding(object):
    def __init__(self, level, topic, message, fix=None):
        self.level = level
        self.topic = topic      # a short name that stays the same from release to release: tests and CI match it
        self.message = message
        self.fix = fix

    def as_dict(self):
        return {"level": self.level, "topic": self.topic, "message": self.message, "fix": self.fix}


def ok(topic, message):
    return Finding(OK, topic, message)


def warning(topic, message, fix):
    return Finding(WARNING, topic, message, fix)


def error(topic, message, fix):
    return Finding(ERROR, topic, message, fix)


def install_line(what):
    """The Dockerfile lines that install the package bringing ``what``, for Debian or Ubuntu and for Amazon Linux."""
    debian, amazon = PACKAGES[what]
    return "RUN apt-get update && apt-get install -y --no-install-recommends %s (Debian, Ubuntu; Amazon Linux: %s)" % (
        debian, amazon)
