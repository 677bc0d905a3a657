// SPDX-License-Identifier: GPL-2.0
/* two-file driver, part 1: the core module exports a flush of its work item */
#include <linux/module.h>
#include <linux/workqueue.h>

static void demo_core_fn(struct work_struct *work)
{
}

static DECLARE_WORK(demo_core_work, demo_core_fn);

void demo_core_flush(void)
{
	flush_work(&demo_core_work);
}
EXPORT_SYMBOL_GPL(demo_core_flush);

static int __init demo_core_init(void)
{
	queue_work(system_long_wq, &demo_core_work);
	return 0;
}

static void __exit demo_core_exit(void)
{
	flush_work(&demo_core_work);
}

module_init(demo_core_init);
module_exit(demo_core_exit);
MODULE_LICENSE("GPL");
