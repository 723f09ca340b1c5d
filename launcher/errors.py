"""The one error type of the launcher: a one-line message and the exit status it ends with."""


class LauncherError(Exception):
    """A launch that cannot go on; ``str(error)`` is the one line the user sees."""

    status = 1
    report = True  # written to the failure file in a real start


class JobError(LauncherError):
    """The job's configuration (files, variables, program name) is unusable."""

    status = 1


class NoJob(JobError):
    """The base directory holds no job: a start outside SageMaker. Not reported in a failure file, which
    would be written into a directory of the user's that is not a job's."""

    report = False


class UsageError(LauncherError):
    """The launcher's own command line is wrong."""

    status = 2


class NotExecutable(LauncherError):
    """The program exists but cannot be executed."""

    status = 126


class NotFound(LauncherError):
    """The program does not exist."""

    status = 127


class Stopped(LauncherError):
    """A signal ended the launch before the program ran; the status is the shell's 128+N."""

    def __init__(self, signum, name, when):
        LauncherError.__init__(self, "stopped by %s (signal %d) %s" % (name, signum, when))
        self.status = 128 + signum


class ProgramFailed(LauncherError):
    """A distributed program (or, for an MPI worker, the master's) ended with a non-zero status, which the
    launcher ends with too."""

    def __init__(self, message, status):
        LauncherError.__init__(self, message)
        self.status = status
