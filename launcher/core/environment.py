"""(Job, Resources, Layout) -> the variables the toolkit sets, in its order and encodings. Pure."""

from .. import jsonc
from ..errors import JobError
from . import hyperparameters as hp

# Framework parameters that put the current instance group into the distribution groups.
DISTRIBUTION_SWITCHES = (
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_torch_distributed_enabled",
)

# The toolkit's SM_ variables in its order, each with the Training Env key whose value it carries; None where
# the value has no Training Env key. Written out in full so that a search for a variable's name finds it.
# SM_TOPOLOGY (when there is one), SM_CHANNEL_<name> and SM_HP_<name> follow.
_VARIABLES = (
    ("SM_HOSTS", "hosts"),
    ("SM_NETWORK_INTERFACE_NAME", "network_interface_name"),
    ("SM_HPS", "hyperparameters"),
    ("SM_USER_ENTRY_POINT", "user_entry_point"),
    ("SM_FRAMEWORK_PARAMS", "additional_framework_parameters"),
    ("SM_RESOURCE_CONFIG", "resource_config"),
    ("SM_INPUT_DATA_CONFIG", "input_data_config"),
    ("SM_OUTPUT_DATA_DIR", "output_data_dir"),
    ("SM_CHANNELS", None),
    ("SM_CURRENT_HOST", "current_host"),
    ("SM_CURRENT_INSTANCE_TYPE", "current_instance_type"),
    ("SM_CURRENT_INSTANCE_GROUP", "current_instance_group"),
    ("SM_CURRENT_INSTANCE_GROUP_HOSTS", "current_instance_group_hosts"),
    ("SM_INSTANCE_GROUPS", "instance_groups"),
    ("SM_INSTANCE_GROUPS_DICT", "instance_groups_dict"),
    ("SM_DISTRIBUTION_INSTANCE_GROUPS", "distribution_instance_groups"),
    ("SM_IS_HETERO", "is_hetero"),
    ("SM_MODULE_NAME", "module_name"),
    ("SM_LOG_LEVEL", "log_level"),
    ("SM_FRAMEWORK_MODULE", "framework_module"),
    ("SM_INPUT_DIR", "input_dir"),
    ("SM_INPUT_CONFIG_DIR", "input_config_dir"),
    ("SM_OUTPUT_DIR", "output_dir"),
    ("SM_NUM_CPUS", "num_cpus"),
    ("SM_NUM_GPUS", "num_gpus"),
    ("SM_NUM_NEURONS", "num_neurons"),
    ("SM_MODEL_DIR", "model_dir"),
    ("SM_MODULE_DIR", "module_dir"),
    ("SM_TRAINING_ENV", None),
    ("SM_USER_ARGS", None),
    ("SM_OUTPUT_INTERMEDIATE_DIR", "output_intermediate_dir"),
)


class Rendered(object):
    """The environment of a job: ``env`` (name -> value, in order) and the Training Env mapping."""

    def __init__(self, env, training_env, user_args, entry_point):
        self.env = env
        self.training_env = training_env
        self.user_args = user_args
        self.entry_point = entry_point


def render(job, decoded, resources, layout, args_renderer=hp.to_args):
    """Every variable of the toolkit's ``Environment.to_env_vars()`` plus those it puts in os.environ."""
    user_hps, internal = hp.split(decoded)
    t = _training_env(job, user_hps, internal, resources, layout)
    channels = t["channel_input_dirs"]
    user_args = args_renderer(user_hps)
    sm_only = {"SM_CHANNELS": sorted(channels), "SM_TRAINING_ENV": t, "SM_USER_ARGS": user_args}
    env = {
        "SAGEMAKER_JOB_NAME": hp.env_value(internal.get("sagemaker_job_name", "")),
        "SAGEMAKER_REGION": hp.env_value(internal.get("sagemaker_region", job.default_region) or ""),
        "CURRENT_HOST": t["current_host"],
    }
    for name, key in _VARIABLES:
        env[name] = hp.env_value(sm_only[name] if key is None else t[key])
    if t["topology"]:
        env["SM_TOPOLOGY"] = hp.env_value(t["topology"])
    for name, path in channels.items():
        env["SM_CHANNEL_" + name.upper()] = path  # a path is a string, which env_value leaves as it is
    # The SM_HP_ variables come last. Later duplicates (SM_HP_LR from "lr" and "LR") replace the value but keep the
    # first position, exactly as the toolkit's dict comprehension does.
    for key, value in user_hps.items():
        kind = value.__class__  # strings and integers, most values, without a call (env_value writes them alike)
        env["SM_HP_" + key.upper()] = value if kind is str else str(value) if kind is int else hp.env_value(value)
    env["PYTHONPATH"] = layout.code + (":" + job.pythonpath if job.pythonpath else "")
    return Rendered(env, t, user_args, t["user_entry_point"])


def _training_env(job, user_hps, internal, resources, layout):
    """The toolkit's Training Env, its keys in the sorted order in which the toolkit logs them."""
    framework = {k: v for k, v in internal.items() if k not in hp.KNOWN_INTERNAL}
    rc = job.resource_config
    hosts = rc["hosts"]
    current_host = rc["current_host"]
    current_group = rc.get("current_group_name", "homogeneousCluster")
    groups = rc.get("instance_groups", [])
    dist_groups, dist_hosts, master = _distribution(framework, hosts, current_group, groups)
    entry_point, module_name = _program(job, internal)
    mp = job.mp_parameters
    return {
        "additional_framework_parameters": framework,
        "channel_input_dirs": {name: layout.channel(name) for name in job.input_data_config},
        "current_host": current_host,
        "current_instance_group": current_group,
        "current_instance_group_hosts": _group_hosts(groups, current_group),
        "current_instance_type": rc.get("current_instance_type", "local"),
        "distribution_hosts": dist_hosts,
        "distribution_instance_groups": dist_groups,
        "framework_module": job.framework_module,
        "hosts": hosts,
        "hyperparameters": user_hps,
        "input_config_dir": layout.input_config,
        "input_data_config": job.input_data_config,
        "input_dir": layout.input,
        "instance_groups": [g["instance_group_name"] for g in groups],
        "instance_groups_dict": {g["instance_group_name"]: g for g in groups},
        "is_hetero": len(groups) > 1,
        "is_master": current_host == master,
        "is_modelparallel_enabled": mp and mp != "{}",
        "is_smddpmprun_installed": resources.smddpmprun,
        "is_smddprun_installed": resources.smddprun,
        "job_name": job.training_job_name,
        "log_level": internal.get("sagemaker_container_log_level", 20),
        "master_hostname": master,
        "model_dir": layout.model,
        "module_dir": str(internal.get("sagemaker_submit_directory", layout.code)),
        "module_name": module_name,
        "network_interface_name": rc.get("network_interface_name", "eth0"),
        "num_cpus": resources.cpus,
        "num_gpus": resources.gpus,
        "num_neurons": resources.neurons,
        "output_data_dir": layout.output_data,
        "output_dir": layout.output,
        "output_intermediate_dir": layout.output_intermediate,
        "resource_config": rc,
        "topology": rc.get("topology", []),
        "user_entry_point": entry_point,
    }


def _distribution(framework, hosts, current_group, groups):
    """(distribution instance groups, distribution hosts, master host)."""
    if "sagemaker_distribution_instance_groups" in framework:
        dist_groups = framework["sagemaker_distribution_instance_groups"]
    else:
        dist_groups = [current_group] if any(framework.get(k, False) for k in DISTRIBUTION_SWITCHES) else []
    if not isinstance(dist_groups, list) or not all(isinstance(g, str) for g in dist_groups):
        raise JobError("hyperparameter sagemaker_distribution_instance_groups must be a list of group "
                       "names, not %s" % jsonc.short(dist_groups))
    if groups:
        dist_hosts = [h for g in groups if g["instance_group_name"] in dist_groups for h in g["hosts"]]
    else:
        dist_hosts = list(hosts)
    return dist_groups, dist_hosts, dist_hosts[0] if dist_hosts else hosts[0]


def _program(job, internal):
    """(user_entry_point, module_name): $SAGEMAKER_PROGRAM, else sagemaker_program; the module without .py.
    An empty $SAGEMAKER_PROGRAM is the module name but not the entry point, as in the toolkit."""
    entry_point = job.program_env or internal.get("sagemaker_program")
    if job.program_env is not None:
        module_name = job.program_env
    else:
        module_name = str(internal.get("sagemaker_program", None))
    if module_name.endswith(".py"):
        module_name = module_name[:-3]
    return entry_point, module_name


def _group_hosts(groups, name):
    for group in groups:
        if group["instance_group_name"] == name:
            return group["hosts"]
    return []


def training_env_text(training_env):
    """The "Training Env" block of the start record: top-level keys sorted, 4-space indent."""
    return jsonc.pretty(training_env)
