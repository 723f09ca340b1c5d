"""Hyperparameters as the toolkit reads them: decode each value, split the internal names off,
render the program's arguments. Pure functions of plain data."""

from .. import jsonc
from ..errors import JobError, UsageError

# params.SAGEMAKER_HYPERPARAMETERS of the toolkit: removed from the user's hyperparameters and not
# reported as framework parameters.
KNOWN_INTERNAL = frozenset((
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "default_user_module_name",
    "_tuning_objective_metric",
    "sagemaker_s3_output",
))


def decode(raw):
    """Each value ``json.loads``-ed, the raw value kept where that fails; returns (values, kept keys).
    Never imports json: the generic Estimator writes its values with str(), so ``adam`` is common."""
    decoded = {}
    not_json = []
    for key, value in raw.items():
        try:
            value = jsonc.parse(value)
        except (ValueError, TypeError):
            not_json.append(key)
        except RecursionError as e:  # the toolkit dies of it; sm-train says which value
            raise JobError("hyperparameter %s: JSON %s" % (jsonc.quote(key), e))
        decoded[key] = value
    return decoded, not_json


def split(decoded):
    """(user hyperparameters, internal ones): internal means a known name or a ``sagemaker_`` prefix."""
    user, internal = {}, {}
    for key, value in decoded.items():
        if key.startswith("sagemaker_") or key in KNOWN_INTERNAL:
            internal[key] = value
        else:
            user[key] = value
    return user, internal


def to_args(hyperparameters):
    """The toolkit's argv: code-point sorted keys, ``-k``/``--key``, every key followed by its value."""
    args = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        args.append(("--" + key if len(key) > 1 else "-" + key) if key else "")
        args.append(str(value) if value is not None and not isinstance(value, dict) else _arg_value(value))
    return args


def _arg_value(value):
    """A dict or None as an argument (to_args writes the rest with str())."""
    if value is None:
        return ""
    return ",".join("%s=%s" % (k, v) for k, v in sorted(value.items()))


def to_json_args(hyperparameters):
    """``--hp-style json`` (toolkit issues #117, #128): keys as to_args; strings raw, numbers str(); lists,
    dicts, booleans and null as compact JSON in their given order, so ``type=json.loads`` reads them back."""
    return to_args({key: _json_arg_value(value) for key, value in hyperparameters.items()})


def _json_arg_value(value):
    if isinstance(value, (bool, list, dict)) or value is None:
        return jsonc.dumps(value, sort_keys=False, ensure_ascii=False)
    return value


# --hp-style NAME -> the args_renderer that plan.build takes
STYLES = {"toolkit": to_args, "json": to_json_args}


def style(value, environ):
    """--hp-style, else $SM_TRAIN_HP_STYLE, else toolkit; a name STYLES knows (sm-train and sm-train local)."""
    name = value if value is not None else environ.get("SM_TRAIN_HP_STYLE") or "toolkit"
    if name not in STYLES:
        raise UsageError("hyperparameter style (--hp-style, $SM_TRAIN_HP_STYLE) must be %s, not %r"
                         % (" or ".join(sorted(STYLES, reverse=True)), name))
    return name


def env_value(value):
    """A value as an environment variable: strings raw, null empty, the rest compact sorted JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if type(value) is int:  # as JSON writes it, without the encoder's call
        return str(value)
    return jsonc.dumps(value)
