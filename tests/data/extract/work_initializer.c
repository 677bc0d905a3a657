// SPDX-License-Identifier: GPL-2.0
/* a work item in a struct, statically initialized with __WORK_INITIALIZER */
#include <linux/module.h>
#include <linux/workqueue.h>

struct demo_defer {
	struct platform_device *pdev;
	struct work_struct work;
};

static void demo_defer_fn(struct work_struct *w);

static struct demo_defer demo_defer = {
	.work = __WORK_INITIALIZER(demo_defer.work, demo_defer_fn),
};

static void demo_defer_fn(struct work_struct *w)
{
}

static int __init demo_init(void)
{
	queue_work(system_wq, &demo_defer.work);
	return 0;
}

static void __exit demo_exit(void)
{
	if (demo_defer.pdev)
		flush_work(&demo_defer.work);
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_LICENSE("GPL");
