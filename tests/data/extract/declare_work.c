// SPDX-License-Identifier: GPL-2.0
/* DECLARE_WORK: queue_work, schedule_work, flush_work, cancel_work_sync */
#include <linux/module.h>
#include <linux/workqueue.h>

static bool done;

static void demo_work_fn(struct work_struct *work)
{
	done = true;
}

static DECLARE_WORK(demo_work, demo_work_fn);

static int __init demo_init(void)
{
	queue_work(system_long_wq, &demo_work);
	schedule_work(&demo_work);
	return 0;
}

static void __exit demo_exit(void)
{
	flush_work(&demo_work);
	cancel_work_sync(&demo_work);
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_LICENSE("GPL");
