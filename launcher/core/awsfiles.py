"""The AWS shared config and credentials files, read exactly as botocore 1.44 reads them (configloader.py
and Session.full_config), and the region boto3 finds. The one reader: SAGEMAKER_REGION and the credential
chain (launcher/aws/credentials.py) both use it.

What botocore does, and so what this does:
- the files are AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE when set (even to "", which names no file),
  else ~/.aws/config and ~/.aws/credentials; $VAR, ${VAR} and ~ are expanded; a path that is not a file
  is no file;
- each file is parsed by configparser.RawConfigParser (strict: a repeated section or key is a parse error);
  a value whose first line is empty and the following lines indented is a sub-section of `key = value`
  lines;
- config file profiles are `[default]` and `[profile NAME]`, NAME as shlex splits the section name (any
  section name starting with "profile" that splits in exactly two words); when both `[profile default]`
  and `[default]` exist the later one wins whole; a bare `[NAME]` is not a profile; `[services NAME]`
  sections (a profile's `services = NAME` names one) are read the same way;
- credentials file sections are profiles by their raw name, and their keys override the config file's;
- the profile is AWS_DEFAULT_PROFILE, else AWS_PROFILE (a set but empty variable is the profile ""),
  else "default", which alone may be missing.

Where botocore raises (a file that does not parse, a profile that is not there), boto3.Session() fails, so
the toolkit and any boto3 in the program fail: this raises a one-line JobError naming the file(s) and the
profile instead. configparser and shlex are imported only when a file exists (neither is on a plain start).
"""

import os

from ..errors import JobError

CONFIG = ("AWS_CONFIG_FILE", "~/.aws/config")
CREDENTIALS = ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")


def file_path(environ, which):
    """The expanded path botocore reads for CONFIG or CREDENTIALS ("" when the variable names no file)."""
    name, default = which
    return expanduser(expandvars(environ.get(name, default), environ), environ)


def selected_profile(environ):
    """(profile name or None, the variable it came from or None), as botocore's 'profile' setting."""
    for name in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        if name in environ:
            return environ[name], name
    return None, None


class Files(object):
    """Both files, parsed: ``config`` (profile -> dict, config file only), ``credentials`` (section -> dict),
    ``profiles`` (botocore's full_config['profiles']: the two merged) and ``services`` (its
    full_config['services']: name -> dict, config file only)."""

    def __init__(self, environ):
        self.config_file = file_path(environ, CONFIG)
        self.credentials_file = file_path(environ, CREDENTIALS)
        self.profile, self.profile_variable = selected_profile(environ)
        raw_config = parse(self.config_file)
        self.config = _profile_map(raw_config)
        self.services = _named(raw_config, "services")
        self.credentials = parse(self.credentials_file)
        self.profiles = dict((name, dict(values)) for name, values in self.config.items())
        for name, values in self.credentials.items():
            self.profiles.setdefault(name, {}).update(values)
        self._bare = [name for name in raw_config if name == self.profile]

    def where(self):
        """The two files, for messages."""
        return "%s or %s" % (self.config_file or '"" (no config file)',
                             self.credentials_file or '"" (no credentials file)')

    def name(self):
        """The profile the credential chain reads (botocore: the setting, or "default" when empty)."""
        return self.profile or "default"

    def scoped(self):
        """botocore's get_scoped_config: the selected profile's merged values; ProfileNotFound is a JobError."""
        if self.profile is None:
            return self.profiles.get("default", {})
        if self.profile not in self.profiles:
            hint = ""
            if self._bare:
                hint = "; the config file's section [%s] is not a profile, botocore reads [profile %s]" % (
                    self.profile, self.profile)
            raise JobError("AWS profile %s (from %s) is not in %s, so boto3 cannot start%s"
                           % (quote(self.profile), self.profile_variable, self.where(), hint))
        return self.profiles[self.profile]

    def value(self, values, key, profile):
        """A plain value of a profile (None when absent); a sub-section or a value continued on an indented
        line is a JobError, since no setting read here can hold one. The value is never shown: it may be a
        secret."""
        value = values.get(key)
        path = self.path_of(key, profile)
        if isinstance(value, dict):
            raise JobError("%s: profile %s: '%s' is a sub-section, not a value" % (path, quote(profile), key))
        if value is not None and "\n" in value:
            raise JobError("%s: profile %s: '%s' is continued on an indented line; put its value on one line"
                           % (path, quote(profile), key))
        return value

    def path_of(self, key, profile):
        """The file a profile's ``key`` comes from: the credentials file's value wins."""
        return self.credentials_file if key in self.credentials.get(profile, {}) else self.config_file


def region(environ):
    """The region boto3.session.Session().region_name gives: AWS_DEFAULT_REGION when set (even ""), else the
    profile's `region`, from the credentials file before the config file; None when there is none. The
    files are read even when the variable is set, as boto3.Session() reads them."""
    files = Files(environ)
    values = files.scoped()
    if "AWS_DEFAULT_REGION" in environ:
        return environ["AWS_DEFAULT_REGION"]
    return files.value(values, "region", files.profile or "default")


def parse(path):
    """raw_config_parse: section -> {key: value or sub-section dict}; {} when the path is not a file."""
    if not path or not os.path.isfile(path):
        return {}
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read([path])  # an unreadable file is read as empty, as botocore's read does
    except (configparser.Error, UnicodeDecodeError) as e:
        raise JobError("%s: botocore cannot parse it (%s)" % (path, _parse_error(e)))
    sections = {}
    for section in parser.sections():
        values = sections[section] = {}
        for key in parser.options(section):
            value = parser.get(section, key)
            if value.startswith("\n"):
                value = _sub_section(path, section, key, value)
            values[key] = value
    return sections


def _sub_section(path, section, key, value):
    parsed = {}
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise JobError("%s: [%s] '%s': botocore cannot parse it (an indented line is not `key = value`)"
                           % (path, section, key))
        name, _, item = line.partition("=")
        parsed[name.strip()] = item.strip()
    return parsed


def _profile_map(raw):
    """build_profile_map's 'profiles', in file order so that the later of [default] / [profile default] wins."""
    profiles = {}
    for section, values in raw.items():
        if section.startswith("profile"):
            name = _name(section)
            if name is not None:
                profiles[name] = values
        elif section == "default":
            profiles[section] = values
    return profiles


def _named(raw, prefix):
    """build_profile_map's map of the sections `[PREFIX NAME]` (any section name starting with PREFIX that shlex
    splits in exactly two words): NAME -> values, a later one winning."""
    found = {}
    for section, values in raw.items():
        if section.startswith(prefix) and _name(section) is not None:
            found[_name(section)] = values
    return found


def _name(section):
    """The NAME of a section `[WORD NAME]`, or None."""
    import shlex

    try:
        parts = shlex.split(section)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


def expandvars(path, environ):
    """posixpath.expandvars against ``environ``: $NAME and ${NAME}; unknown names stay as written."""
    if "$" not in path:
        return path
    import re

    out, i = [], 0
    for m in re.finditer(r"\$(\w+|\{[^}]*\})", path, re.ASCII):
        name = m.group(1)
        if name.startswith("{") and name.endswith("}"):
            name = name[1:-1]
        if name in environ:
            out.append(path[i:m.start()] + environ[name])
            i = m.end()
    return "".join(out) + path[i:]


def expanduser(path, environ):
    """posixpath.expanduser against ``environ``: ~ is HOME (else the user's home), ~user that user's."""
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    end = len(path) if end < 0 else end
    if end == 1 and "HOME" in environ:
        home = environ["HOME"]  # the usual case, without importing pwd
    else:
        import pwd

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir if end == 1 else pwd.getpwnam(path[1:end]).pw_dir
        except KeyError:
            return path
    return (home.rstrip("/") + path[end:]) or "/"


def quote(text):
    return "'%s'" % text if "'" not in text else '"%s"' % text


def _parse_error(error):
    """configparser's error without the text of the line, which may hold a secret."""
    import configparser

    if isinstance(error, UnicodeDecodeError):
        return "not valid text at byte %d" % error.start
    if isinstance(error, configparser.MissingSectionHeaderError):
        return "line %d comes before any [section]" % error.lineno
    if isinstance(error, configparser.ParsingError):
        return "line %s is not a section, `key = value` or an indented continuation" % (
            ", ".join(str(n) for n, _ in error.errors))
    if isinstance(error, configparser.DuplicateSectionError):
        return "line %s: section [%s] appears twice" % (error.lineno, error.section)
    if isinstance(error, configparser.DuplicateOptionError):
        return "line %s: '%s' appears twice in [%s]" % (error.lineno, error.option, error.section)
    return type(error).__name__
