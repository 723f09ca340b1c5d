"""Safe extraction of a source bundle, member by member, as sagemaker-training 5.1.4 extracts it: the same members
kept, renamed and skipped with the same warnings, and the metadata rules of the standard library's tarfile "data"
filter, which the toolkit adds where the interpreter has it, applied on every Python. Nothing is written outside
the destination: every name and link is checked against its real path just before it is written."""

import os

from .. import log
from ..errors import JobError


def extract(tar_path, destination, shown, final=None):
    """Extract the gzip tar at ``tar_path`` into the existing directory ``destination``, from where its contents
    move to ``final`` (the code dir; by default ``destination`` itself); ``shown`` names the bundle in errors.
    A member that cannot be made safe is skipped with a warning, never fatal (the toolkit's rule); an archive
    that cannot be read is a JobError."""
    import tarfile

    top = os.path.realpath(destination)
    final = os.path.realpath(final or destination)
    directories = []
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            for member in tar:
                name = _sanitize(member, top, final)
                if name is None:
                    continue
                target = os.path.join(top, name)
                _check_parent(target, top, member.name)
                if member.isdir():
                    _make_dir(target)
                    directories.append((target, member.mtime))
                elif member.issym():
                    _replace(target)
                    os.symlink(member.linkname, target)
                elif member.islnk():
                    _hard_link(tar, member, target, top)
                else:
                    _write_file(tar.extractfile(member), target, _data_mode(member.mode), member.mtime)
    except (tarfile.TarError, EOFError, OSError, UnicodeError) as e:
        raise JobError("%s: cannot be extracted: %s" % (shown, _reason(e)))
    for path, mtime in reversed(directories):
        _set_mtime(path, mtime)


def _reason(e):
    text = str(e) if not isinstance(e, OSError) or not e.strerror else e.strerror
    if "not a gzip file" in text or "bad gzip" in text.lower():
        return "not a gzip-compressed tar (%s)" % text
    return text or type(e).__name__


def _normalized(name):
    """The toolkit's _normalize_member_name: backslashes as slashes, and the segments "", "." and ".." dropped."""
    return "/".join(s for s in name.replace("\\", "/").split("/") if s not in ("", ".", ".."))


def _inside(path, top):
    return path == top or path.startswith(top + os.sep)


def _sanitize(member, top, final):
    """The member's safe name, or None to skip it; each change or skip logs the toolkit's warning."""
    name = _normalized(member.name)
    if not name:
        log.warning("Skipping archive member %r: no usable path remains after normalization." % member.name)
        return None
    if name != member.name:
        log.warning("Archive member %r would have been extracted outside the code directory; normalized to %r."
                    % (member.name, name))
    target = os.path.realpath(os.path.join(top, name))
    if not _inside(target, top):
        log.warning("Skipping archive member %r: it still resolves outside the code directory." % member.name)
        return None
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        log.warning("Skipping archive member %r: special files are not supported." % member.name)
        return None
    if member.issym() or member.islnk():
        base = top if member.islnk() else os.path.dirname(target)
        pointed = os.path.realpath(os.path.join(base, member.linkname))
        if not _inside(pointed, top) and not _inside(member.linkname, final):
            log.warning("Skipping archive member %r: link target %r points outside the code directory."
                        % (member.name, member.linkname))
            return None
        if os.path.isabs(member.linkname):
            # The toolkit's data filter fails the whole job on an absolute link that points inside
            # (AbsoluteLinkError); sm-train skips that member instead, and says why.
            log.warning("Skipping archive member %r: link target %r is an absolute path."
                        % (member.name, member.linkname))
            return None
    return name


def _check_parent(target, top, original):
    """The folder the member lands in, created if need be, must really be inside the destination, even through
    links an earlier member made."""
    parent = os.path.dirname(target)
    if not _inside(os.path.realpath(parent), top):
        raise OSError(0, "archive member %r would land outside the code directory" % original)
    os.makedirs(parent, exist_ok=True)


def _make_dir(path):
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.unlink(path)
    os.makedirs(path, exist_ok=True)  # the data filter ignores a directory's mode: the system default applies


def _replace(path):
    """Make room for a link: a file or link of that name goes (a real directory stays, and the link fails)."""
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.unlink(path)


def _data_mode(mode):
    """tarfile's data filter for a file: no set-id, sticky or group/other write bits; no execute bits unless the
    owner's; always readable and writable by the owner."""
    mode &= 0o755
    if not mode & 0o100:
        mode &= ~0o111
    return mode | 0o600


def _write_file(source, target, mode, mtime):
    if os.path.isdir(target) and not os.path.islink(target):
        raise OSError(0, "%s is a directory in the bundle and a file later" % target)
    with open(target, "wb") as out:  # a link an earlier member made is followed: its target was checked inside
        while True:
            chunk = source.read(1024 * 1024)
            if not chunk:
                break
            out.write(chunk)
    os.chmod(target, mode)
    _set_mtime(target, mtime)


def _hard_link(tar, member, target, top):
    """As tarfile does: a hard link to what is already extracted, else a copy of the linked member's data."""
    _replace(target)
    linked = os.path.join(top, member.linkname)
    try:
        os.link(linked, target)
        return
    except OSError:
        pass
    original = tar.getmember(member.linkname) if member.linkname in tar.getnames() else None
    if original is None or not original.isreg():
        log.warning("Skipping archive member %r: link target %r is not in the archive."
                    % (member.name, member.linkname))
        return
    _write_file(tar.extractfile(original), target, _data_mode(member.mode), member.mtime)


def _set_mtime(path, mtime):
    try:
        os.utime(path, (mtime, mtime))
    except (OSError, OverflowError, ValueError):
        pass

