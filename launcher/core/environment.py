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
    framework = {k: v for k, v in internal.items() if k not in hp.KNOWN_INTERNAL}
    rc = job.resource_config
    hosts = rc["hosts"]
    current_host = rc["current_host"]
    current_group = rc.get("current_group_name", "homogeneousCluster")
    groups = rc.get("instance_groups", [])

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
    master = dist_hosts[0] if dist_hosts else hosts[0]

    if job.program_env is not None:
        module_name = job.program_env
    else:
        module_name = str(internal.get("sagemaker_program", None))
    if module_name.endswith(".py"):
        module_name = module_name[:-3]
    entry_point = job.program_env or internal.get("sagemaker_program")
    mp = job.mp_parameters
    channels = {name: layout.channel(name) for name in job.input_data_config}
    user_args = args_renderer(user_hps)

    training_env = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": channels,
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
    t = training_env
    items = [
        ("hosts", hosts),
        ("network_interface_name", t["network_interface_name"]),
        ("hps", user_hps),
        ("user_entry_point", entry_point),
        ("framework_params", framework),
        ("resource_config", rc),
        ("input_data_config", job.input_data_config),
        ("output_data_dir", layout.output_data),
        ("channels", sorted(channels)),
        ("current_host", current_host),
        ("current_instance_type", t["current_instance_type"]),
        ("current_instance_group", current_group),
        ("current_instance_group_hosts", t["current_instance_group_hosts"]),
        ("instance_groups", t["instance_groups"]),
        ("instance_groups_dict", t["instance_groups_dict"]),
        ("distribution_instance_groups", dist_groups),
        ("is_hetero", t["is_hetero"]),
        ("module_name", module_name),
        ("log_level", t["log_level"]),
        ("framework_module", job.framework_module),
        ("input_dir", layout.input),
        ("input_config_dir", layout.input_config),
        ("output_dir", layout.output),
        ("num_cpus", resources.cpus),
        ("num_gpus", resources.gpus),
        ("num_neurons", resources.neurons),
        ("model_dir", layout.model),
        ("module_dir", t["module_dir"]),
        ("training_env", training_env),
        ("user_args", user_args),
        ("output_intermediate_dir", layout.output_intermediate),
    ]
    if t["topology"]:
        items.append(("topology", t["topology"]))
    items.extend(("channel_%s" % name, path) for name, path in channels.items())

    env = {}
    job_name = internal.get("sagemaker_job_name", "")
    region = internal.get("sagemaker_region", job.default_region)
    env["SAGEMAKER_JOB_NAME"] = hp.env_value(job_name)
    env["SAGEMAKER_REGION"] = hp.env_value(region or "")
    env["CURRENT_HOST"] = current_host
    for key, value in items:
        env["SM_%s" % key.upper()] = hp.env_value(value)
    # The hp_ items come last. Later duplicates (SM_HP_LR from "lr" and "LR") replace the value but keep the
    # first position, exactly as the toolkit's dict comprehension does.
    for key, value in user_hps.items():
        kind = value.__class__  # strings and integers, most values, without a call (env_value writes them alike)
        env["SM_HP_" + key.upper()] = value if kind is str else str(value) if kind is int else hp.env_value(value)
    env["PYTHONPATH"] = layout.code + (":" + job.pythonpath if job.pythonpath else "")
    return Rendered(env, training_env, user_args, entry_point)


def _group_hosts(groups, name):
    for group in groups:
        if group["instance_group_name"] == name:
            return group["hosts"]
    return []


def training_env_text(training_env):
    """The "Training Env" block of the start record: top-level keys sorted, 4-space indent."""
    return jsonc.pretty(training_env)
