// SPDX-License-Identifier: GPL-2.0
/* built-in code: initcalls at two levels */
#include <linux/init.h>

static bool core_ready;

static int __init demo_core_init(void)
{
	core_ready = true;
	return 0;
}
subsys_initcall(demo_core_init);

static int __init demo_late_init(void)
{
	if (!core_ready)
		return -ENODEV;
	return 0;
}
late_initcall(demo_late_init);
