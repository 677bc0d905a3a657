"""The kernel calls the spec language models, and the spec primitive each one becomes.

One table, CALLS: a C function (or macro) name -> Primitive. Adding a primitive the language
gains is one line here; `extract` emits it and `drift` compares it. Each argument role names
the kind of spec object the C argument becomes (declared by the skeleton when it is new):

    work, wq, driver, device, fn, module, mutex, rwsem, completion, waitqueue

and `cond` (a C condition, translated like an `if`). A role whose C index is None takes no C
argument (the spec primitive needs none). `mmio` and `ioport` are register ranges (declared
with placeholder addresses), `owner` the module the call is in, `mapping` the range an
`ioremap` result was stored from.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Primitive:
    spec: str                                   # the spec primitive's name
    args: tuple[tuple[str, int], ...] = ()      # (role, index of the C argument)
    result: bool = False                        # gives true/false (`ok = queue_work(...)`)
    query: bool = False                         # a condition (`work_pending(w)`), not a statement


def _p(spec, *args, result=False, query=False) -> Primitive:
    return Primitive(spec, tuple(args), result, query)


_REGISTER = _p("register_driver", ("driver", 0))
_UNREGISTER = _p("unregister_driver", ("driver", 0))
_DEVICE_ADD = _p("device_add", ("device", 0))
_DEVICE_DEL = _p("device_del", ("device", 0))

CALLS: dict[str, Primitive] = {
    # workqueues (kernel/workqueue.c, include/linux/workqueue.h)
    "INIT_WORK": _p("init_work", ("work", 0), ("fn", 1)),
    "queue_work": _p("queue_work", ("wq", 0), ("work", 1), result=True),
    "schedule_work": _p("queue_work", ("wq", None), ("work", 0), result=True),   # system_wq
    "flush_work": _p("flush_work", ("work", 0), result=True),
    "cancel_work_sync": _p("cancel_work_sync", ("work", 0), result=True),
    "flush_workqueue": _p("flush_workqueue", ("wq", 0)),
    "drain_workqueue": _p("flush_workqueue", ("wq", 0)),
    "destroy_workqueue": _p("destroy_workqueue", ("wq", 0)),
    "work_pending": _p("work_pending", ("work", 0), query=True),
    # the driver core (drivers/base/dd.c, bus.c, core.c, platform.c)
    "driver_register": _REGISTER, "platform_driver_register": _REGISTER,
    "__platform_driver_register": _REGISTER, "cxl_driver_register": _REGISTER,
    "pci_register_driver": _REGISTER, "__pci_register_driver": _REGISTER,
    "driver_unregister": _UNREGISTER, "platform_driver_unregister": _UNREGISTER,
    "cxl_driver_unregister": _UNREGISTER, "pci_unregister_driver": _UNREGISTER,
    "device_add": _DEVICE_ADD, "platform_device_add": _DEVICE_ADD,
    "device_register": _DEVICE_ADD, "platform_device_register": _DEVICE_ADD,
    "device_del": _DEVICE_DEL, "platform_device_del": _DEVICE_DEL,
    "device_unregister": _DEVICE_DEL, "platform_device_unregister": _DEVICE_DEL,
    "wait_for_device_probe": _p("wait_for_device_probe"),
    "device_lock": _p("device_lock", ("device", 0)),
    "device_unlock": _p("device_unlock", ("device", 0)),
    "devm_add_action": _p("devm_add_action", ("fn", 1)),
    "devm_add_action_or_reset": _p("devm_add_action", ("fn", 1)),
    # register windows and port ranges (kernel/resource.c, lib/devres.c); the owner is the module
    "request_mem_region": _p("request_mem_region", ("mmio", 0), ("owner", None), result=True),
    "release_mem_region": _p("release_mem_region", ("mmio", 0), ("owner", None)),
    "request_region": _p("request_region", ("ioport", 0), ("owner", None), result=True),
    "release_region": _p("release_region", ("ioport", 0), ("owner", None)),
    "devm_request_mem_region": _p("devm_request_mem_region", ("mmio", 1), result=True),
    "devm_request_region": _p("devm_request_region", ("ioport", 1), result=True),
    "devm_ioremap_resource": _p("devm_ioremap_resource", ("mmio", 1), result=True),
    "ioremap": _p("ioremap", ("mmio", 0), ("owner", None), result=True),
    "iounmap": _p("iounmap", ("mapping", 0), ("owner", None)),
    # modules (kernel/module/kmod.c)
    "request_module": _p("request_module", ("module", 0)),
    # sleeping locks (kernel/locking/mutex.c, rwsem.c)
    "mutex_lock": _p("mutex_lock", ("mutex", 0)),
    "mutex_lock_interruptible": _p("mutex_lock", ("mutex", 0)),
    "mutex_unlock": _p("mutex_unlock", ("mutex", 0)),
    "mutex_trylock": _p("mutex_trylock", ("mutex", 0), result=True),
    "mutex_is_locked": _p("mutex_is_locked", ("mutex", 0), query=True),
    "down_read": _p("down_read", ("rwsem", 0)),
    "up_read": _p("up_read", ("rwsem", 0)),
    "down_read_trylock": _p("down_read_trylock", ("rwsem", 0), result=True),
    "down_write": _p("down_write", ("rwsem", 0)),
    "up_write": _p("up_write", ("rwsem", 0)),
    # completions and wait queues (kernel/sched/completion.c, wait.c)
    "init_completion": _p("init_completion", ("completion", 0)),
    "reinit_completion": _p("reinit_completion", ("completion", 0)),
    "complete": _p("complete", ("completion", 0)),
    "complete_all": _p("complete_all", ("completion", 0)),
    "wait_for_completion": _p("wait_for_completion", ("completion", 0)),
    "wait_for_completion_timeout": _p("wait_for_completion_timeout", ("completion", 0), result=True),
    "completion_done": _p("completion_done", ("completion", 0), query=True),
    "wait_event": _p("wait_event", ("waitqueue", 0), ("cond", 1)),
    "wait_event_timeout": _p("wait_event_timeout", ("waitqueue", 0), ("cond", 1), result=True),
    "wake_up": _p("wake_up", ("waitqueue", 0)),
    "wake_up_all": _p("wake_up", ("waitqueue", 0)),
}

# Calls that allocate a workqueue: `wq = alloc_workqueue(...)` becomes alloc_workqueue(wq).
ALLOC_WORKQUEUE = {"alloc_workqueue": "unordered", "alloc_ordered_workqueue": "ordered",
                   "create_singlethread_workqueue": "ordered", "create_workqueue": "unordered"}

# Calls that create a platform device by name: the device is named after the string.
DEVICE_ALLOC = {"platform_device_alloc": 0, "platform_device_register_simple": 0,
                "platform_device_register_data": 1, "platform_device_register_resndata": 1}

# File-scope macros that declare an object: macro -> (kind, index of the name, index of the function).
DECLARE_MACROS = {"DECLARE_WORK": ("work", 0, 1), "DEFINE_MUTEX": ("mutex", 0, None),
                  "DECLARE_RWSEM": ("rwsem", 0, None), "DECLARE_COMPLETION": ("completion", 0, None),
                  "DECLARE_WAIT_QUEUE_HEAD": ("waitqueue", 0, None)}

# Primitives the language accepts only in a probe body (devres: released with the device).
PROBE_ONLY = {"devm_add_action", "devm_request_mem_region", "devm_request_region", "devm_ioremap_resource"}

# C struct types whose variables and members are spec objects.
STRUCT_KINDS = {"work_struct": "work", "workqueue_struct": "wq", "mutex": "mutex",
                "rw_semaphore": "rwsem", "completion": "completion", "wait_queue_head_t": "waitqueue",
                "wait_queue_head": "waitqueue"}

# Workqueues every kernel has.
SYSTEM_WORKQUEUES = {"system_wq", "system_long_wq", "system_unbound_wq", "system_dfl_wq",
                     "system_percpu_wq"}

# Module entry points: macro -> spec block (initcall levels are the macro name's prefix).
MODULE_INIT = {"module_init": "init", "module_exit": "exit"}
INITCALL_LEVELS = ("pure", "core", "postcore", "arch", "subsys", "fs", "rootfs", "device", "late")

# module_platform_driver(drv) and friends: register in init, unregister in exit.
DRIVER_MACROS = {"module_platform_driver", "module_driver", "module_pci_driver", "module_cxl_driver",
                 "module_auxiliary_driver", "module_i2c_driver", "module_spi_driver",
                 "builtin_platform_driver", "builtin_driver", "module_platform_driver_probe"}

# Driver structures: the member that holds the embedded struct device_driver, by struct type.
DRIVER_STRUCTS = {"platform_driver": "driver", "pci_driver": "driver", "cxl_driver": "drv",
                  "device_driver": None, "auxiliary_driver": "driver", "i2c_driver": "driver",
                  "spi_driver": "driver", "acpi_driver": "drv"}

PROBE_TYPES = {"PROBE_PREFER_ASYNCHRONOUS": "prefer_async", "PROBE_FORCE_SYNCHRONOUS": "force_sync",
               "PROBE_DEFAULT_STRATEGY": "default"}

# guard(CLASS)(obj) and scoped_guard(CLASS, obj): the classes the language models.
GUARDS = {"mutex": "mutex", "device": "device"}


def spec_primitives() -> set[str]:
    """Every spec primitive the table produces (drift compares exactly these)."""
    return {p.spec for p in CALLS.values()} | {"alloc_workqueue"}
