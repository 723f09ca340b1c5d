"""What an MPI job of several hosts needs for mpirun's ssh: sshd (as root, with host keys, a config that loads),
the ssh client, a key pair whose public key is in authorized_keys, and no prompt for the new hosts' keys."""

import glob
import os

from ..core.probes import which
from .findings import install_line, ok

KEY_FIX = ('RUN mkdir -p /root/.ssh && ssh-keygen -q -t ed25519 -N "" -f /root/.ssh/id_ed25519 '
           '&& cp /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys')
PROMPT_FIX = ("RUN printf 'Host *\\n  StrictHostKeyChecking no\\n  UserKnownHostsFile /dev/null\\n  LogLevel ERROR\\n' "
              ">> /root/.ssh/config")
KEYS = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_dsa")
NO_PROMPT = ("no", "off", "accept-new")


def check(ctx, sshd_path, need):
    """``need``: error with several hosts, warning with one (which needs none of it)."""
    found = [sshd(sshd_path, need)]
    if which("ssh", ctx.path) is None:
        found.append(need("ssh", "the ssh client is not on PATH: mpirun starts the other hosts' ranks with it",
                          install_line("ssh")))
    home = os.path.expanduser("~")
    found.append(key_pair(os.path.join(home, ".ssh"), need))
    found.append(host_keys(home, ctx.environ, need))
    return found


def sshd(path, need):
    """sshd runs as root on every host (mpirun logs in as root); `sshd -t` loads its config and host keys."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return need("sshd", "MPI needs an SSH server on every host: %s is not in the image" % path,
                    install_line("sshd") + ", or ENV SM_TRAIN_SSHD=/path/to/sshd")
    if os.geteuid() != 0:
        return need("sshd", "sshd and mpirun's logins need root, and the image runs as uid %d" % os.geteuid(),
                    "USER root (or no USER line) before the ENTRYPOINT line")
    import subprocess

    try:  # read-only: -t loads the config and the host keys, and says what is wrong
        run = subprocess.run([path, "-t"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=5)
    except (OSError, subprocess.TimeoutExpired) as e:
        return need("sshd", "`%s -t` failed: %s" % (path, e), install_line("sshd"))
    said = run.stdout.decode("utf-8", "replace").strip().splitlines()
    # The privilege separation dir (/run/sshd) is checked last, after the config and host keys: sm-train makes it.
    if run.returncode and not any("privilege separation directory" in line for line in said):
        last = said[-1] if said else "status %d" % run.returncode
        return need("sshd", "`%s -t` says: %s" % (path, last),
                    "RUN ssh-keygen -A" if "hostkeys" in last.replace(" ", "") else "correct /etc/ssh/sshd_config")
    return ok("sshd", "%s, with host keys and a config that loads (sm-train creates /run/sshd, which it needs)" % path)


def key_pair(folder, need):
    """A private key ssh offers by default, with its .pub in authorized_keys, neither readable nor writable by others
    (ssh and sshd's StrictModes refuse them then): every host has the same, from the image."""
    names = [n for n in KEYS if os.path.isfile(os.path.join(folder, n))]
    if not names:
        return need("ssh-key", "no key pair in %s: mpirun's ssh to the other hosts would ask for a password" % folder,
                    KEY_FIX)
    authorized = _read(os.path.join(folder, "authorized_keys")) + _read(os.path.join(folder, "authorized_keys2"))
    blobs = {line.split()[1] for line in authorized.splitlines() if len(line.split()) > 1}
    for name in names:
        key = os.path.join(folder, name)
        public = _read(key + ".pub").split()
        if len(public) > 1 and public[1] in blobs:
            loose = [p for p in (folder, key, os.path.join(folder, "authorized_keys")) if _loose(p, p == key)]
            if loose:
                return need("ssh-key", "%s: ssh and sshd refuse a key or folder others may read or write" % (
                    ", ".join(loose)), "RUN chmod 700 %s && chmod 600 %s %s/authorized_keys" % (folder, key, folder))
            return ok("ssh-key", "the key pair %s, its public key in %s/authorized_keys" % (key, folder))
    return need("ssh-key", "the public key of %s is not in %s/authorized_keys: ssh to the other hosts would ask for a "
                "password" % (os.path.join(folder, names[0]), folder),
                "RUN cat %s.pub >> %s/authorized_keys" % (os.path.join(folder, names[0]), folder))


def _loose(path, private):
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & (0o077 if private else 0o022))


def _read(path):
    try:
        with open(path) as f:
            return f.read(1024 * 1024)
    except (OSError, UnicodeDecodeError):
        return ""


def host_keys(home, environ, need):
    """Each job's hosts are new, so ssh must not stop to ask about their keys: StrictHostKeyChecking no (or
    accept-new) in an ssh config, or in mpirun's ssh arguments (OMPI_MCA_plm_rsh_args, an MCA parameter file)."""
    configs = [os.path.join(home, ".ssh", "config"), "/etc/ssh/ssh_config"] + sorted(
        glob.glob("/etc/ssh/ssh_config.d/*.conf"))
    for path in configs:
        for line in _read(path).splitlines():
            words = line.replace("=", " ").split()
            if len(words) > 1 and words[0].lower() == "stricthostkeychecking" and words[1].lower() in NO_PROMPT:
                return ok("ssh-config", "no host-key prompt: %s (%s)" % (line.strip(), path))
    params = [environ.get("OMPI_MCA_plm_rsh_args", "")]
    params += [_read(p) for p in ("/etc/openmpi/openmpi-mca-params.conf", os.path.join(home, ".openmpi",
                                                                                        "mca-params.conf"))]
    if any("stricthostkeychecking=no" in text.lower().replace(" ", "") for text in params):
        return ok("ssh-config", "no host-key prompt: mpirun's ssh arguments say StrictHostKeyChecking=no")
    return need("ssh-config", "ssh would stop to ask about each new host's key, and mpirun would hang: no "
                "StrictHostKeyChecking no in %s" % ", ".join(configs[:2]), PROMPT_FIX)
