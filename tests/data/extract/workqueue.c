// SPDX-License-Identifier: GPL-2.0
/* a module's own ordered workqueue: alloc, queue, flush, destroy; a work item member of a device struct */
#include <linux/module.h>
#include <linux/workqueue.h>

struct demo_dev {
	struct work_struct work;
	int id;
};

static struct workqueue_struct *demo_wq;

static void demo_fn(struct work_struct *work)
{
}

static void demo_kick(struct demo_dev *dd)
{
	dd->work.func = demo_fn;
	if (!queue_work(demo_wq, &dd->work))
		pr_debug("already queued\n");
}

static int __init demo_init(void)
{
	demo_wq = alloc_ordered_workqueue("demo_wq", 0);
	if (!demo_wq)
		return -ENOMEM;
	return 0;
}

static void __exit demo_exit(void)
{
	flush_workqueue(demo_wq);
	destroy_workqueue(demo_wq);
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_LICENSE("GPL");
