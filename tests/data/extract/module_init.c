// SPDX-License-Identifier: GPL-2.0
/* module_init/module_exit, request_module and MODULE_SOFTDEP */
#include <linux/module.h>
#include <linux/kmod.h>

static bool loaded_once;

static int __init demo_init(void)
{
	if (IS_ENABLED(CONFIG_DEMO_HELPER))
		request_module("demo_helper");
	loaded_once = true;
	return 0;
}

static void __exit demo_exit(void)
{
	loaded_once = false;
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_SOFTDEP("pre: demo_core post: demo_extra");
MODULE_LICENSE("GPL");
